package main

import (
	"fmt"
	"os"

	"github.com/modelcommons/modelcommons/keepers/gcpolicy"
)

// applyGC sets the garbage collector a gateway benchmark runs with:
// "keeper" is what keeper run applies by default, "go" Go's own default.
// GOGC / GOMEMLIMIT in the environment win, as they do for the keeper.
func applyGC(which string) (gcpolicy.Policy, error) {
	switch which {
	case "keeper":
		p, _ := gcpolicy.Apply(gcpolicy.Default, os.Getenv)
		return p, nil
	case "go":
		p, _ := gcpolicy.Apply(gcpolicy.Policy{GCPercent: 100}, os.Getenv)
		return p, nil
	}
	return gcpolicy.Policy{}, fmt.Errorf("--gc %q: use keeper or go", which)
}
