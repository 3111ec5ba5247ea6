package keeperconfig

import (
	"fmt"

	"github.com/modelcommons/modelcommons/keepers/gcpolicy"
)

// RuntimeConfig sets the keeper's garbage collector (keepers/gcpolicy).
// The environment's GOGC and GOMEMLIMIT, when set, win over it.
type RuntimeConfig struct {
	// GCPercent is GOGC; 0 is the keeper's default (400).
	GCPercent int `toml:"gc_percent"`
	// MemoryLimitMiB is the soft memory limit; 0 is the keeper's default
	// (200), -1 none.
	MemoryLimitMiB int64 `toml:"memory_limit_mib"`
}

// GCPolicy is the configured garbage collector setting, defaults filled.
func (c Config) GCPolicy() (gcpolicy.Policy, error) {
	p := gcpolicy.Default
	r := c.Runtime
	switch {
	case r.GCPercent == 0:
	case r.GCPercent < 10 || r.GCPercent > 100_000:
		return p, fmt.Errorf("config: [runtime] gc_percent %d: use 10 to 100000 (0: the default, %d)", r.GCPercent, gcpolicy.Default.GCPercent)
	default:
		p.GCPercent = r.GCPercent
	}
	switch {
	case r.MemoryLimitMiB == 0:
	case r.MemoryLimitMiB == -1:
		p.MemoryLimit = 0
	case r.MemoryLimitMiB < 32 || r.MemoryLimitMiB > 1<<20:
		return p, fmt.Errorf("config: [runtime] memory_limit_mib %d: use 32 to 1048576, or -1 for none (0: the default, %d)", r.MemoryLimitMiB, gcpolicy.Default.MemoryLimit>>20)
	default:
		p.MemoryLimit = r.MemoryLimitMiB << 20
	}
	return p, nil
}
