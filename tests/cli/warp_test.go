package cli_test

import (
	"strconv"
	"testing"
	"time"
)

type warpView struct {
	From time.Time `json:"from"`
	Now  time.Time `json:"now"`
	Slot uint64    `json:"slot"`
}

// The local chain's clock moves forward by a span or to a time, never back.
func TestLocalnetWarp(t *testing.T) {
	e := newEnv(t)
	before, err := e.chain.Now(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var w warpView
	e.ok(&w, nil, "localnet", "warp", "--by", "3d")
	if w.Now.Before(before.Add(3*24*time.Hour)) || w.Now.After(before.Add(3*24*time.Hour+time.Minute)) {
		t.Fatalf("warp --by 3d from %s: %+v", before, w)
	}
	now, _ := e.chain.Now(e.ctx)
	if now.Before(w.Now) {
		t.Errorf("the chain's clock shows %s, warp printed %s", now, w.Now)
	}

	at := w.Now.Add(time.Hour).Truncate(time.Second)
	e.ok(&w, nil, "localnet", "warp", "--to", at.Format(time.RFC3339))
	if w.Now.Before(at) {
		t.Errorf("warp --to %s: %+v", at, w)
	}
	at = at.Add(time.Hour)
	e.ok(&w, nil, "localnet", "warp", "--to", strconv.FormatInt(at.Unix(), 10))
	if w.Now.Before(at) {
		t.Errorf("warp --to %d: %+v", at.Unix(), w)
	}

	// Bad input: one clear error, the clock unmoved.
	moved, _ := e.chain.Now(e.ctx)
	for _, args := range [][]string{
		{"localnet", "warp"},
		{"localnet", "warp", "--by", "1d", "--to", "2030-01-01T00:00:00Z"},
		{"localnet", "warp", "--by", "soon"},
		{"localnet", "warp", "--to", before.Format(time.RFC3339)},
	} {
		e.fails(nil, args...)
	}
	if now, _ := e.chain.Now(e.ctx); now.After(moved.Add(time.Minute)) {
		t.Errorf("a refused warp moved the clock from %s to %s", moved, now)
	}
}
