// Package gcpolicy sets the keeper's garbage collector.
//
// Go's default (GOGC=100, no memory limit) collects each time the heap
// doubles. A keeper's live heap is small (a few MiB at 2 000 req/s) while
// it allocates tens of MiB per second relaying JSON, so by default it
// collected dozens of times a second under load; each cycle takes a quarter of the
// cores for marking and stops the world briefly, and under load those
// cycles were the largest part of the gateway's p99 (docs/benchmarks.md,
// "Where the p99 goes"). The keeper's default lets the heap grow to five
// times its live size (GOGC=400) under a soft limit that keeps its
// memory bounded when the live heap is large (many concurrent streams):
// near the limit the collector runs as often as it must.
package gcpolicy

import (
	"fmt"
	"math"
	"runtime/debug"
)

// Policy is a garbage collector setting.
type Policy struct {
	// GCPercent is GOGC: the heap growth, in percent of the live heap,
	// that starts a collection.
	GCPercent int
	// MemoryLimit is GOMEMLIMIT in bytes; 0 is none.
	MemoryLimit int64
}

// Default is the keeper's setting unless its configuration or environment
// says otherwise.
var Default = Policy{GCPercent: 400, MemoryLimit: 200 << 20}

func (p Policy) String() string {
	limit := "none"
	if p.MemoryLimit > 0 {
		limit = fmt.Sprintf("%d MiB", p.MemoryLimit>>20)
	}
	return fmt.Sprintf("GOGC=%d, memory limit %s", p.GCPercent, limit)
}

// Apply sets p for this process, except what the environment already sets
// (GOGC, GOMEMLIMIT: an operator's explicit choice wins; getenv is
// os.Getenv). It returns the setting in effect and whether each part came
// from the environment.
func Apply(p Policy, getenv func(string) string) (inEffect Policy, fromEnv []string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(p.GCPercent)
	} else {
		fromEnv = append(fromEnv, "GOGC")
	}
	if getenv("GOMEMLIMIT") == "" {
		limit := p.MemoryLimit
		if limit <= 0 {
			limit = math.MaxInt64
		}
		debug.SetMemoryLimit(limit)
	} else {
		fromEnv = append(fromEnv, "GOMEMLIMIT")
	}
	return Current(), fromEnv
}

// Current reads the setting in effect.
func Current() Policy {
	pct := debug.SetGCPercent(-1)
	debug.SetGCPercent(pct)
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		limit = 0
	}
	return Policy{GCPercent: pct, MemoryLimit: limit}
}
