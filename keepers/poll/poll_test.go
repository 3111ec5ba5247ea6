package poll

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestEveryStepsUntilCancelledAndReportsLiveFailures(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var steps, failures atomic.Int32
	boom := errors.New("boom")
	done := make(chan error, 1)
	go func() {
		done <- Every(ctx, time.Millisecond, func(context.Context) error {
			if steps.Add(1) == 5 {
				cancel()
				return boom // the shutdown's own error: not a failure
			}
			if steps.Load()%2 == 0 {
				return boom
			}
			return nil
		}, func(err error) {
			if !errors.Is(err, boom) {
				t.Errorf("failed(%v)", err)
			}
			failures.Add(1)
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Every returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not stop after cancel")
	}
	if s, f := steps.Load(), failures.Load(); s != 5 || f != 2 {
		t.Fatalf("%d steps, %d failures reported; want 5 and 2 (steps 2 and 4)", s, f)
	}
}

func TestEveryWaitsOneIntervalBeforeTheFirstStep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var steps atomic.Int32
	if err := Every(ctx, time.Hour, func(context.Context) error { steps.Add(1); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if n := steps.Load(); n != 0 {
		t.Fatalf("%d steps before the first interval", n)
	}
}
