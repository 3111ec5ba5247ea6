package main

import (
	"context"
	"sync"
	"time"

	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

// timedJournal times each Record the gateway makes (the wait for the group
// commit that holds the receipt), so a step's latency tail can be split
// into the journal's part and the rest.
type timedJournal struct {
	gateway.Journal
	mu    sync.Mutex
	waits []time.Duration
}

func (t *timedJournal) Record(ctx context.Context, s receipts.Signed) error {
	start := time.Now()
	err := t.Journal.Record(ctx, s)
	d := time.Since(start)
	t.mu.Lock()
	t.waits = append(t.waits, d)
	t.mu.Unlock()
	return err
}

// take returns the waits timed since the last take.
func (t *timedJournal) take() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.waits
	t.waits = nil
	return w
}
