package gcpolicy

import (
	"runtime/debug"
	"testing"
)

func restore(t *testing.T) {
	pct := debug.SetGCPercent(-1)
	debug.SetGCPercent(pct)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(pct); debug.SetMemoryLimit(limit) })
}

func TestApplySetsThePolicy(t *testing.T) {
	restore(t)
	got, fromEnv := Apply(Policy{GCPercent: 250, MemoryLimit: 64 << 20}, func(string) string { return "" })
	if got != (Policy{GCPercent: 250, MemoryLimit: 64 << 20}) || len(fromEnv) != 0 {
		t.Fatalf("in effect %v (from the environment: %v)", got, fromEnv)
	}
	if got, _ := Apply(Policy{GCPercent: 100}, func(string) string { return "" }); got.MemoryLimit != 0 {
		t.Fatalf("no limit asked, %v in effect", got)
	}
}

func TestEnvironmentWins(t *testing.T) {
	restore(t)
	debug.SetGCPercent(77)
	debug.SetMemoryLimit(300 << 20)
	env := map[string]string{"GOGC": "77", "GOMEMLIMIT": "300MiB"}
	got, fromEnv := Apply(Default, func(k string) string { return env[k] })
	if got != (Policy{GCPercent: 77, MemoryLimit: 300 << 20}) || len(fromEnv) != 2 {
		t.Fatalf("the environment's setting was overridden: %v (from the environment: %v)", got, fromEnv)
	}
}

func TestDefaultString(t *testing.T) {
	if s := Default.String(); s != "GOGC=400, memory limit 200 MiB" {
		t.Fatal(s)
	}
}
