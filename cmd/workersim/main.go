// Command workersim serves an OpenAI-compatible worker that behaves like
// vLLM's server, for the keeper's tests, demo and benchmarks. See package
// keepers/workers/workersim.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/keepers/workers/workersim"
)

func main() {
	app := &cli.App{
		Name:  "workersim",
		Usage: "a vLLM-like OpenAI-compatible inference server without a model",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8000", EnvVars: []string{"WORKERSIM_LISTEN"}, Usage: "address (port 0 picks one; the address is printed)"},
			&cli.StringSliceFlag{Name: "model", Value: cli.NewStringSlice("sim-model"), EnvVars: []string{"WORKERSIM_MODELS"}, Usage: "model name served (repeat or comma-separate)"},
			&cli.IntFlag{Name: "max-model-len", Value: 4096, EnvVars: []string{"WORKERSIM_MAX_MODEL_LEN"}},
			&cli.DurationFlag{Name: "ttft", Value: 0, EnvVars: []string{"WORKERSIM_TTFT"}, Usage: "time to first token"},
			&cli.DurationFlag{Name: "per-token", Value: 0, EnvVars: []string{"WORKERSIM_PER_TOKEN"}, Usage: "time per output token"},
			&cli.IntFlag{Name: "min-tokens", Value: 16, EnvVars: []string{"WORKERSIM_MIN_TOKENS"}, Usage: "shortest natural completion"},
			&cli.IntFlag{Name: "max-tokens", Value: 64, EnvVars: []string{"WORKERSIM_MAX_TOKENS"}, Usage: "longest natural completion"},
			&cli.Float64Flag{Name: "error-rate", EnvVars: []string{"WORKERSIM_ERROR_RATE"}, Usage: "share of requests answered HTTP 500"},
			&cli.Float64Flag{Name: "hang-rate", EnvVars: []string{"WORKERSIM_HANG_RATE"}, Usage: "share of requests never answered"},
			&cli.Float64Flag{Name: "die-rate", EnvVars: []string{"WORKERSIM_DIE_RATE"}, Usage: "share of responses cut mid-way"},
			&cli.Float64Flag{Name: "malformed-rate", EnvVars: []string{"WORKERSIM_MALFORMED_RATE"}, Usage: "share of responses with invalid JSON"},
			&cli.Float64Flag{Name: "stall-rate", EnvVars: []string{"WORKERSIM_STALL_RATE"}, Usage: "share of responses that go silent mid-way"},
			&cli.BoolFlag{Name: "no-usage", EnvVars: []string{"WORKERSIM_NO_USAGE"}, Usage: "never report token usage"},
			&cli.StringFlag{Name: "fake-usage", EnvVars: []string{"WORKERSIM_FAKE_USAGE"}, Usage: "report this JSON usage object instead of the true counts (to test a keeper against a lying worker)"},
			&cli.Uint64Flag{Name: "seed", EnvVars: []string{"WORKERSIM_SEED"}, Usage: "seed for fault draws"},
		},
		Action: run,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.RunContext(ctx, os.Args)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(c *cli.Context) error {
	for _, r := range []string{"error-rate", "hang-rate", "die-rate", "malformed-rate", "stall-rate"} {
		if v := c.Float64(r); v < 0 || v > 1 {
			return fmt.Errorf("--%s must be between 0 and 1", r)
		}
	}
	var fake json.RawMessage
	if f := c.String("fake-usage"); f != "" {
		if !json.Valid([]byte(f)) {
			return fmt.Errorf("--fake-usage %q is not JSON", f)
		}
		fake = json.RawMessage(f)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sim := workersim.New(workersim.Config{
		Models: c.StringSlice("model"), MaxModelLen: c.Int("max-model-len"),
		TTFT: c.Duration("ttft"), PerToken: c.Duration("per-token"),
		MinTokens: c.Int("min-tokens"), MaxTokens: c.Int("max-tokens"), Seed: c.Uint64("seed"), Logger: log,
		Faults: workersim.Faults{
			ErrorRate: c.Float64("error-rate"), HangRate: c.Float64("hang-rate"), DieRate: c.Float64("die-rate"),
			MalformedRate: c.Float64("malformed-rate"), StallRate: c.Float64("stall-rate"), NoUsage: c.Bool("no-usage"), FakeUsage: fake,
		},
	})
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return err
	}
	fmt.Printf("workersim ready url=http://%s models=%v\n", ln.Addr(), c.StringSlice("model"))
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-c.Context.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
