// Command progbench measures every program instruction as the CLI sends it:
// the serialized transaction size (compute-budget limit and price
// instructions included; limit 1 232 bytes, target ≤ 900), the accounts it
// references, the rent-exempt deposit of every account it creates, and the
// compute units simulateTransaction reports.
//
// It starts the local chain (tests/golocal.Launch), or uses MC_RPC_URL (a
// fresh validator running the programs as SBF: the only place the compute
// units mean anything; the local chain runs the programs natively and
// cannot meter them). It prints a Markdown table and writes it to
// bench-out/programs.md.
//
// Each program adds a suite in its own file (treasury.go, …) and one line
// in suites below.
//
//	go run ./tools/progbench [-out bench-out/programs.md]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gagliardetto/solana-go/rpc"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// A suite sends a program's instructions through the bench and returns its rows.
type suite struct {
	program string
	run     func(ctx context.Context, b *bench) ([]row, error)
}

func suites() []suite {
	return []suite{
		{"mt_treasury", runTreasury},
		{"mt_treasury (stage 3)", runDao},
		{"mt_treasury (bounties)", runBounty},
		{"inference_meter", runMeter},
	}
}

func main() {
	out := flag.String("out", "bench-out/programs.md", "where to write the Markdown table")
	flag.Parse()
	if err := run(*out); err != nil {
		slog.Error("progbench failed", "err", err)
		os.Exit(1)
	}
}

func run(outPath string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	var chain *golocal.Chain
	external := os.Getenv("MC_RPC_URL")
	if external != "" {
		chain = &golocal.Chain{URL: external, RPC: rpc.New(external)}
	} else {
		if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
			return err
		}
		c, stop, err := golocal.Launch(filepath.Join(filepath.Dir(outPath), "progbench-localnet.log"))
		if err != nil {
			return fmt.Errorf("start local chain: %w", err)
		}
		defer stop()
		chain = c
	}
	b := &bench{
		chain: chain,
		sender: txsend.New(txsend.Config{
			RPC:    chain.RPC,
			Errors: txsend.Tables{mt.ProgramID: mt.Errors, meter.ProgramID: meter.Errors},
			// A priority fee, as the CLI sends with --priority-fee: both
			// compute-budget instructions are in every measured transaction.
			PriorityMicroLamports: 1,
			PollInterval:          50 * time.Millisecond,
		}),
		unitsMeaningful: external != "",
	}

	var rows []row
	for _, s := range suites() {
		slog.Info("measuring", "program", s.program)
		r, err := s.run(ctx, b)
		if err != nil {
			return fmt.Errorf("%s: %w", s.program, err)
		}
		rows = append(rows, r...)
	}
	table := markdown(rows, b.unitsMeaningful, chain.URL)
	fmt.Print(table)
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(outPath, []byte(table), 0o644); err != nil {
		return err
	}
	slog.Info("wrote", "path", outPath)
	return nil
}
