package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/localnet/golocal"
)

// buildDemo builds mcdemo and the binaries it drives into one directory.
func buildDemo(t *testing.T) string {
	t.Helper()
	root, err := golocal.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/mcdemo", "./cmd/mt", "./cmd/keeper", "./cmd/workersim")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// mcdemo --url runs the demo on a chain it did not start, and a second run
// on the same chain reuses the protocol and the meter the first initialised
// (issue 17 item 9): both pass every check.
func TestDemoTwiceOnOneChain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo twice against a local chain")
	}
	bin := buildDemo(t)
	chain := golocal.Start(t)
	for run := 1; run <= 2; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out := filepath.Join(t.TempDir(), "demo-out")
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "mcdemo"), "--bin", bin, "--out", out, "--url", chain.URL, "--short", "--no-color")
		got, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, got)
		}
		text := string(got)
		if !strings.Contains(text, "every check passed") {
			t.Fatalf("run %d did not pass every check:\n%s", run, text)
		}
		reused := strings.Contains(text, "protocol already initialised on this chain") && strings.Contains(text, "meter already initialised on this chain")
		if reused != (run == 2) {
			t.Fatalf("run %d: reused the protocol and meter: %v\n%s", run, reused, text)
		}
	}
}

// --workers llama.cpp: the same story and checks with two real llama.cpp
// llama-server processes behind the keeper (built by scripts/setup.sh;
// missing, the test fails and says so).
func TestDemoWithLlamaCppWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo against a local chain and two llama-servers")
	}
	if _, _, err := golocal.LlamaServerPaths(); err != nil {
		t.Fatal(err)
	}
	bin := buildDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "mcdemo"), "--bin", bin, "--out", filepath.Join(t.TempDir(), "demo-out"), "--workers", "llama.cpp", "--short", "--no-color")
	got, err := cmd.CombinedOutput()
	text := string(got)
	if err != nil || !strings.Contains(text, "every check passed") || !strings.Contains(text, "two llama.cpp llama-server workers") {
		t.Fatalf("%v\n%s", err, text)
	}
}

// A --url that is not an RPC URL: one line naming it, exit 2, nothing started.
func TestDemoRefusesABadURL(t *testing.T) {
	bin := buildDemo(t)
	for _, url := range []string{"localhost:8899", "ftp://127.0.0.1:8899", "http://"} {
		cmd := exec.Command(filepath.Join(bin, "mcdemo"), "--url", url, "--out", t.TempDir())
		got, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 {
			t.Fatalf("--url %s: %v\n%s", url, err, got)
		}
		text := strings.TrimSpace(string(got))
		if strings.Count(text, "\n") != 0 || !strings.Contains(text, "is not an RPC URL") {
			t.Errorf("--url %s: want one line naming the URL, got:\n%s", url, text)
		}
	}
}

// An unknown --workers: one line naming it, exit 2, nothing started.
func TestDemoRefusesUnknownWorkers(t *testing.T) {
	bin := buildDemo(t)
	cmd := exec.Command(filepath.Join(bin, "mcdemo"), "--workers", "vllm", "--out", t.TempDir())
	got, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	text := strings.TrimSpace(string(got))
	if !ok || ee.ExitCode() != 2 || strings.Count(text, "\n") != 0 || !strings.Contains(text, `--workers "vllm": want workersim or llama.cpp`) {
		t.Fatalf("--workers vllm: %v\n%s", err, got)
	}
}
