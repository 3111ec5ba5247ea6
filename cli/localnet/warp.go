package localnet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/explain"
)

const (
	flagTo = "to"
	flagBy = "by"
)

// methodNotFound is JSON-RPC's code for an unknown method.
const methodNotFound = -32601

// clockWait bounds the wait for the Clock sysvar to show the new time.
const clockWait = 10 * time.Second

func warpCommand() *cli.Command {
	return &cli.Command{
		Name:      "warp",
		Usage:     "move the local chain's clock forward (surfnet_timeTravel)",
		UsageText: "mt localnet warp --to <RFC 3339 time|unix seconds> | --by <duration>",
		Description: "Deadlines (raises, votes, vesting, notices) are checked against the chain's clock; on the local\n" +
			"chain it can be moved forward, never back. Sends surfnet_timeTravel with\n" +
			"{\"absoluteTimestamp\": <unix milliseconds>}; any other cluster is refused.",
		Flags: session.ReadFlags(
			&cli.StringFlag{Name: flagTo, Usage: "the new time: RFC 3339 (2026-12-01T18:00:00Z) or unix seconds"},
			&cli.StringFlag{Name: flagBy, Usage: "how far forward: " + duration.Hint},
		),
		Action: warp,
	}
}

// Warp is the chain's clock before and after.
type Warp struct {
	From time.Time `json:"from"`
	Now  time.Time `json:"now"`
	Slot uint64    `json:"slot"`
}

func (w Warp) Text() string {
	return fmt.Sprintf("chain clock: %s (was %s; slot %d)", w.Now.Format(time.RFC3339), w.From.Format(time.RFC3339), w.Slot)
}

func warp(c *cli.Context) error {
	s, _, err := session.Start(c)
	if err != nil {
		return err
	}
	to, by := c.String(flagTo), c.String(flagBy)
	if (to == "") == (by == "") {
		return explain.New("give exactly one of --to and --by",
			"e.g. mt localnet warp --by 3d, or --to 2026-12-01T18:00:00Z")
	}
	var at time.Time
	var span int64
	if to != "" {
		if at, err = parseTo(to); err != nil {
			return err
		}
	} else {
		if span, err = duration.ParseSeconds(by); err != nil {
			return explain.Wrap(err, fmt.Sprintf("--by %q is not a duration", by), "write it as "+duration.Hint)
		}
		if span == 0 {
			return explain.New("--by 0 does not move the clock", "give a span forward, e.g. --by 1d")
		}
	}
	if name := cluster.Public(s.Config.URL); name != "" {
		return notLocal(s.Config.URL + " is " + name)
	}

	from, err := s.Now(c.Context)
	if err != nil {
		return err
	}
	if to == "" {
		at = from.Add(time.Duration(span) * time.Second)
	}
	if !at.After(from) {
		return explain.Newf("the clock only moves forward: give a time after "+from.Format(time.RFC3339),
			"%s is not after the chain's clock, %s", at.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	var res struct {
		AbsoluteSlot uint64 `json:"absoluteSlot"`
	}
	err = s.RPC.RPCCallForInto(c.Context, &res, "surfnet_timeTravel", []any{map[string]any{"absoluteTimestamp": at.UnixMilli()}})
	var rpcErr *jsonrpc.RPCError
	if errors.As(err, &rpcErr) && rpcErr.Code == methodNotFound {
		return notLocal(s.Config.URL + " does not answer surfnet_timeTravel")
	}
	if err != nil {
		return fmt.Errorf("move the clock of %s to %s: %w", s.Config.URL, at.Format(time.RFC3339), err)
	}
	now, err := waitForClock(c.Context, s, at)
	if err != nil {
		return err
	}
	return s.Out.Print(Warp{From: from, Now: now, Slot: res.AbsoluteSlot})
}

func notLocal(what string) error {
	return explain.New(what+": only the local chain's clock can be moved",
		"start it with bin/localnet --port 8899 and use --url localnet")
}

// parseTo reads --to: unix seconds or RFC 3339.
func parseTo(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if secs, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(secs, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, explain.Newf("write it as RFC 3339 (2026-12-01T18:00:00Z) or unix seconds (1796148000)",
			"--to %q is not a time", s)
	}
	return t.UTC(), nil
}

// waitForClock waits until the Clock sysvar shows at least at (the chain
// publishes it with its next block).
func waitForClock(ctx context.Context, s *session.Session, at time.Time) (time.Time, error) {
	deadline := time.Now().Add(clockWait)
	for {
		now, err := s.Now(ctx)
		if err == nil && !now.Before(at.Truncate(time.Second)) {
			return now, nil
		}
		if time.Now().After(deadline) {
			return now, fmt.Errorf("the chain accepted the warp to %s but its clock still shows %s after %s", at.Format(time.RFC3339), now.Format(time.RFC3339), clockWait)
		}
		select {
		case <-ctx.Done():
			return now, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
