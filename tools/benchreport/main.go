// Command benchreport runs every benchmark of the product in one go and
// prints one report, each figure next to its target, also written to
// bench-out/report.md (and the raw results to bench-out/report.json):
//
//   - compute units per instruction (tools/progbench: real only against an
//     SBF validator named by MC_RPC_URL; the local chain runs the programs
//     natively and does not meter them);
//   - settlement density: settle entries per transaction with and without a
//     lookup table, lamports of fees per thousand settled runs (progbench's
//     meter suite);
//   - gateway overhead p50/p99 against the worker alone at several loads,
//     and a LiteLLM proxy in front of the same worker simulator in the same
//     run, as a ratio (tools/keeperbench gateway --litellm);
//   - per-key limits at the highest gateway rate: admitted requests and
//     tokens against the budget, and the added p50 with limits on vs off
//     (keeperbench limits);
//   - journal durable receipts/s (keeperbench journal) and file size per
//     million receipts before and after compaction (keeperbench journal-size);
//   - the latency the keeper adds in front of a real llama.cpp llama-server
//     vs the server alone, in the same run (keeperbench llamacpp);
//   - end to end: the requests/s one keeper sustains on this machine with
//     settlement on a local chain keeping up (lag bounded), and its resident
//     memory with 1 000 concurrent streaming clients.
//
// Every load runs on 127.0.0.1, bounded in count and time. Run it with
// ./scripts/bench.sh, which builds the binaries and installs LiteLLM (pinned)
// into its own venv first.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/modelcommons/modelcommons/demo/driver"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

type options struct {
	out, bin, litellm, reuse            string
	gatewayRates, loadRates             []int
	gatewayStep, loadStep, memDur       time.Duration
	clients, journalReceipts            int
	skipPrograms, skipGateway, skipLoad bool
}

func main() {
	var o options
	var gr, lr string
	flag.StringVar(&o.out, "out", "bench-out", "directory for the report and the benchmarks' files")
	flag.StringVar(&o.bin, "bin", "", "directory with mt, keeper and workersim built (default: build them into <out>/bin)")
	flag.StringVar(&o.litellm, "litellm", "", "venv holding LiteLLM (the peer baseline; ./scripts/bench.sh installs it); empty: no peer baseline")
	flag.StringVar(&gr, "gateway-rates", "25,50,100,250,500,1000,2000", "gateway overhead: requests/s per step")
	flag.DurationVar(&o.gatewayStep, "gateway-step", 4*time.Second, "gateway overhead: time per step and target")
	flag.StringVar(&lr, "load-rates", "250,500,1000,1500", "end to end: requests/s per step")
	flag.DurationVar(&o.loadStep, "load-step", 10*time.Second, "end to end: time per step")
	flag.IntVar(&o.clients, "clients", 1000, "memory: concurrent streaming clients")
	flag.DurationVar(&o.memDur, "memory-duration", 15*time.Second, "memory: how long the streaming clients run")
	flag.IntVar(&o.journalReceipts, "journal-receipts", 200_000, "journal size: receipts recorded (scaled to a million in the report)")
	flag.StringVar(&o.reuse, "reuse", "", "start from a previous report.json: sections skipped with --skip-* keep its figures")
	flag.BoolVar(&o.skipPrograms, "skip-programs", false, "skip progbench")
	flag.BoolVar(&o.skipGateway, "skip-gateway", false, "skip the gateway and journal benchmarks")
	flag.BoolVar(&o.skipLoad, "skip-load", false, "skip the end-to-end load and memory")
	flag.Parse()
	var err error
	if o.gatewayRates, err = ints(gr); err == nil {
		o.loadRates, err = ints(lr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad list %q", s)
		}
		out = append(out, v)
	}
	return out, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
}

// results is everything measured, as report.json.
type results struct {
	Date        string          `json:"date"`
	Machine     string          `json:"machine"`
	Programs    *programsResult `json:"programs"`
	Gateway     *gatewayResult  `json:"gateway"`
	Journal     *journalResult  `json:"journal"`
	Limits      *limitsResult   `json:"limits"`
	JournalSize *journalSize    `json:"journal_size"`
	LlamaCpp    *llamacppResult `json:"llamacpp"`
	Load        *loadResult     `json:"load"`
	LiteLLM     string          `json:"litellm"`
}

func run(ctx context.Context, o options) error {
	root, err := golocal.RepoRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(o.out) {
		o.out = filepath.Join(root, o.out)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	r := &results{Date: time.Now().UTC().Format("2006-01-02"), Machine: machine()}
	if o.reuse != "" {
		data, err := os.ReadFile(o.reuse)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, r); err != nil {
			return fmt.Errorf("%s: %w", o.reuse, err)
		}
		r.Date, r.Machine = time.Now().UTC().Format("2006-01-02"), machine()
	}
	if !o.skipPrograms {
		logf("programs: go run ./tools/progbench (instructions, settle capacity)")
		if r.Programs, err = runProgbench(ctx, root, o.out); err != nil {
			return err
		}
	}
	if !o.skipGateway {
		args := []string{"gateway", "--dir", o.out, "--rates", joinInts(o.gatewayRates), "--duration", o.gatewayStep.String(), "--json", filepath.Join(o.out, "gateway.json")}
		if o.litellm != "" {
			args = append(args, "--litellm", o.litellm)
		}
		r.LiteLLM = ""
		if o.litellm != "" {
			r.LiteLLM = litellmVersion(o.litellm)
		}
		logf("gateway overhead: go run ./tools/keeperbench %s", strings.Join(args, " "))
		r.Gateway = &gatewayResult{}
		if err := keeperbench(ctx, root, args, filepath.Join(o.out, "gateway.json"), r.Gateway); err != nil {
			return err
		}
		logf("per-key limits: go run ./tools/keeperbench limits --rate %d", o.gatewayRates[len(o.gatewayRates)-1])
		r.Limits = &limitsResult{}
		if err := keeperbench(ctx, root, []string{"limits", "--dir", o.out, "--rate", strconv.Itoa(o.gatewayRates[len(o.gatewayRates)-1]), "--json", filepath.Join(o.out, "limits.json")},
			filepath.Join(o.out, "limits.json"), r.Limits); err != nil {
			return err
		}
		logf("journal: go run ./tools/keeperbench journal")
		r.Journal = &journalResult{}
		if err := keeperbench(ctx, root, []string{"journal", "--dir", o.out, "--json", filepath.Join(o.out, "journal.json")}, filepath.Join(o.out, "journal.json"), r.Journal); err != nil {
			return err
		}
		logf("journal size: go run ./tools/keeperbench journal-size --receipts %d", o.journalReceipts)
		r.JournalSize = &journalSize{}
		if err := keeperbench(ctx, root, []string{"journal-size", "--dir", o.out, "--receipts", strconv.Itoa(o.journalReceipts), "--json", filepath.Join(o.out, "journal-size.json")},
			filepath.Join(o.out, "journal-size.json"), r.JournalSize); err != nil {
			return err
		}
		logf("llama.cpp: go run ./tools/keeperbench llamacpp")
		r.LlamaCpp = &llamacppResult{}
		if err := keeperbench(ctx, root, []string{"llamacpp", "--dir", o.out, "--json", filepath.Join(o.out, "llamacpp.json")}, filepath.Join(o.out, "llamacpp.json"), r.LlamaCpp); err != nil {
			return err
		}
	}
	if !o.skipLoad {
		var bins driver.Bins
		if o.bin == "" {
			logf("building mt, keeper and workersim into %s", filepath.Join(o.out, "bin"))
			bins, err = driver.Build(ctx, root, filepath.Join(o.out, "bin"))
		} else {
			if !filepath.IsAbs(o.bin) {
				o.bin = filepath.Join(root, o.bin)
			}
			bins, err = driver.Existing(root, o.bin)
		}
		if err != nil {
			return err
		}
		if r.Load, err = benchLoad(ctx, bins, o.out, o.loadRates, o.loadStep, o.clients, o.memDur, logf); err != nil {
			return fmt.Errorf("end-to-end load: %w", err)
		}
	}
	report := render(r, o)
	fmt.Print(report)
	if err := os.WriteFile(filepath.Join(o.out, "report.md"), []byte(report), 0o644); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(filepath.Join(o.out, "report.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	logf("wrote %s and report.json", filepath.Join(o.out, "report.md"))
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// keeperbench runs `go run ./tools/keeperbench args…` (its table goes to
// stderr as progress) and reads its JSON result.
func keeperbench(ctx context.Context, root string, args []string, jsonPath string, out any) error {
	_ = os.Remove(jsonPath)
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", "./tools/keeperbench"}, args...)...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("keeperbench %s: %w", args[0], err)
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

func litellmVersion(venv string) string {
	out, err := exec.Command(filepath.Join(venv, "bin", "python"), "-c", "import importlib.metadata as m; print(m.version('litellm'))").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	n := 0
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n = strings.Count(string(data), "processor\t:")
	}
	return fmt.Sprintf("%d × %s", n, cpu)
}
