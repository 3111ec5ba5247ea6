// Command mcdemo runs the product's main job end to end on a local chain
// it starts itself (or the one --url names), with the real binaries, and
// narrates it: see package demo/story. It is what ./scripts/demo.sh runs.
//
//	go run ./cmd/mcdemo [--out demo-out] [--bin bin] [--url http://127.0.0.1:8899] [--workers workersim|llama.cpp]
//
// Against a chain it ran on before, it reuses the protocol and the meter
// already initialised there and launches two more models.
//
// It exits 1 if any check fails (the money trail is written to
// <out>/money-trail.json either way), and stops every process it started
// on exit and on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	neturl "net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/demo/driver"
	"github.com/modelcommons/modelcommons/demo/story"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

func main() {
	out := flag.String("out", "demo-out", "directory for wallets, logs, the keeper's files and money-trail.json (emptied first)")
	bin := flag.String("bin", "", "directory holding mt, keeper and workersim already built (default: build them into <out>/bin)")
	short := flag.Bool("short", false, "send fewer requests")
	noColor := flag.Bool("no-color", false, "plain output")
	url := flag.String("url", "", "RPC URL of a running local chain (bin/localnet) to use instead of starting one; it needs the local chain's time travel")
	workers := flag.String("workers", story.WorkersSim, "GPU workers: workersim (simulated) or llama.cpp (two real llama-server processes, built by ./scripts/setup.sh --llama-server)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "mcdemo takes no arguments (got %q); flags: --out, --bin, --url, --workers, --short, --no-color\n", flag.Args())
		os.Exit(2)
	}
	if *workers != story.WorkersSim && *workers != story.WorkersLlamaCpp {
		fmt.Fprintf(os.Stderr, "error: --workers %q: want workersim or llama.cpp\n", *workers)
		os.Exit(2)
	}
	if *workers == story.WorkersLlamaCpp {
		if _, _, err := golocal.LlamaServerPaths(); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(2)
		}
	}
	chain, err := chainAt(*url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, *out, *bin, chain, *workers, *short, !*noColor && isTerminal())
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
	}
	os.Exit(code)
}

// chainAt is the chain --url names (nil: the demo starts its own). The URL
// must be http(s); the chain is not contacted here.
func chainAt(raw string) (*golocal.Chain, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := neturl.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q is not an RPC URL (e.g. http://127.0.0.1:8899, what bin/localnet prints)", raw)
	}
	return &golocal.Chain{URL: raw, RPC: rpc.New(raw)}, nil
}

func run(ctx context.Context, out, bin string, chain *golocal.Chain, workers string, short, color bool) (int, error) {
	root, err := golocal.RepoRoot()
	if err != nil {
		return 1, err
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	// A re-run starts clean: the previous run's wallets, keeper files and logs go.
	for _, d := range []string{"wallets", "keeper", "member-keeper", "frontdoor", "logs", "money-trail.json"} {
		if err := os.RemoveAll(filepath.Join(out, d)); err != nil {
			return 1, err
		}
	}
	var bins driver.Bins
	if bin == "" {
		fmt.Println("building mt, keeper and workersim …")
		bins, err = driver.Build(ctx, root, filepath.Join(out, "bin"))
	} else {
		if !filepath.IsAbs(bin) {
			bin = filepath.Join(root, bin)
		}
		bins, err = driver.Existing(root, bin)
	}
	if err != nil {
		return 1, err
	}
	start := time.Now()
	sum, err := story.Run(ctx, story.Config{Bins: bins, OutDir: out, Out: os.Stdout, Color: color, Short: short, Chain: chain, Workers: workers})
	trail := filepath.Join(out, "money-trail.json")
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		fmt.Println("\ninterrupted: every process the demo started has been stopped")
		return 130, nil
	}
	if err != nil {
		fmt.Printf("\nThe demo stopped after %s. Logs: %s; what was checked so far: %s\n", time.Since(start).Round(time.Second), filepath.Join(out, "logs"), trail)
		return 1, err
	}
	if !sum.OK {
		fmt.Printf("\nSOME CHECKS FAILED (see above). Money trail: %s\n", trail)
		return 1, nil
	}
	fmt.Printf("\nDemo complete in %s: every check passed. Money trail: %s\n", sum.Elapsed, trail)
	return 0, nil
}

func isTerminal() bool {
	fi, err := os.Stdout.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == ""
}
