// Package poll runs a keeper's periodic work: one step every interval
// until the context ends. The chain caches, the chain clock and the journal
// maintenance share it so that they stop, and report failures, alike.
package poll

import (
	"context"
	"time"
)

// Every calls step every interval until ctx ends, and failed with each
// error step returns while ctx is still live (an error caused by the
// shutdown itself is not a failure). The first step runs one interval
// after the call: callers do their first read before serving. It returns
// nil when ctx ends.
func Every(ctx context.Context, interval time.Duration, step func(context.Context) error, failed func(error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := step(ctx); err != nil && ctx.Err() == nil && failed != nil {
			failed(err)
		}
	}
}
