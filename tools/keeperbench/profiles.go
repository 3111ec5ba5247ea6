package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// profileFlags are the profiles a benchmark writes, each a file path
// (empty: not written).
type profileFlags struct {
	cpu, trace, mem, block, mutex string
}

func (p *profileFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the run here")
	fs.StringVar(&p.trace, "trace", "", "write an execution trace of the run here (go tool trace)")
	fs.StringVar(&p.mem, "memprofile", "", "write an allocation profile of the run here")
	fs.StringVar(&p.block, "blockprofile", "", "write a blocking profile of the run here")
	fs.StringVar(&p.mutex, "mutexprofile", "", "write a mutex contention profile of the run here")
}

// args are the flags that ask another keeperbench process for the same
// profiles.
func (p profileFlags) args() []string {
	var a []string
	for _, f := range []struct{ name, path string }{{"cpuprofile", p.cpu}, {"trace", p.trace}, {"memprofile", p.mem}, {"blockprofile", p.block}, {"mutexprofile", p.mutex}} {
		if f.path != "" {
			a = append(a, "-"+f.name, f.path)
		}
	}
	return a
}

func (p profileFlags) start() (func(), error) {
	return startProfiles(p.cpu, p.trace, p.mem, p.block, p.mutex)
}

// startProfiles starts the CPU profile, execution trace and allocation,
// blocking and mutex profiles asked for (an empty path skips one); the returned func
// stops them and writes each file. They are how a p99 is taken apart:
// the trace shows what ran on each core while a slow request waited.
func startProfiles(cpuprofile, traceOut, memprofile, blockprofile, mutexprofile string) (func(), error) {
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if traceOut != "" {
		f, err := os.Create(traceOut)
		if err != nil {
			stop()
			return nil, fmt.Errorf("trace: %w", err)
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			stop()
			return nil, fmt.Errorf("trace: %w", err)
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	if memprofile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	if blockprofile != "" {
		runtime.SetBlockProfileRate(10_000) // one event per 10 µs blocked
	}
	if mutexprofile != "" {
		runtime.SetMutexProfileFraction(10)
	}
	for _, p := range []struct{ name, path string }{{"allocs", memprofile}, {"block", blockprofile}, {"mutex", mutexprofile}} {
		if p.path == "" {
			continue
		}
		stops = append(stops, func() {
			if err := writeProfile(p.name, p.path); err != nil {
				fmt.Fprintln(os.Stderr, "error:", err)
			}
		})
	}
	return stop, nil
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("%s profile: %w", name, err)
	}
	defer f.Close()
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		return fmt.Errorf("%s profile %s: %w", name, path, err)
	}
	return nil
}
