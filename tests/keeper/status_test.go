package keeper_test

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/settler"
)

// A status read while the last batch is being retired never shows that
// batch settled next to the lag of the runs it settled: `keeper status`
// and its callers read "settled through #n, lag 0" as "nothing owed".
func TestStatusPairsTheLastSettledBatchWithItsLag(t *testing.T) {
	e := newEnv(t, mt.QueryPrice{InputPer1k: 4, OutputPer1k: 12})
	escrows := e.escrows(3, 500*native)
	rng := rand.New(rand.NewPCG(21, 22))
	e.record(24, escrows, [][]receipts.ModelShare{e.w.Models[0].Single()}, rng)
	e.clockPast(time.Now())
	s := e.settler(e.w.Chain.URL, nil)

	var (
		mu      sync.Mutex
		samples []settler.Status
		stop    = make(chan struct{})
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			st := s.Status()
			mu.Lock()
			samples = append(samples, st)
			mu.Unlock()
			time.Sleep(100 * time.Microsecond)
		}
	}()
	e.drain(s)
	close(stop)
	<-done

	last := e.lastSeq()
	if last == 0 {
		t.Fatal("nothing settled")
	}
	seen := 0
	for _, st := range samples {
		if st.LocalLastSettled != last {
			continue
		}
		seen++
		if st.LagSeconds != 0 {
			t.Fatalf("status showed batch #%d settled (all runs) with a lag of %.3fs", last, st.LagSeconds)
		}
	}
	if seen == 0 {
		t.Fatalf("no status sample saw batch #%d settled (%d samples)", last, len(samples))
	}
}
