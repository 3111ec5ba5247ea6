// Package oracle runs tools/rulesoracle, the programs' own rule code behind
// a line protocol, for the property tests that compare the Go copies of the
// on-chain rules (clients/rules, clients/settlement) with the programs on
// random inputs. Test support only: nothing in the product imports it.
//
// The binary is bin/rulesoracle, built by ./scripts/setup.sh. A missing or
// stale binary fails the test with the command that fixes it; it never
// skips, so a property test cannot pass by not running.
package oracle

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Oracle is one running rulesoracle process.
type Oracle struct {
	t   testing.TB
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// Reply is the program's answer to one query: OK holds the result's JSON,
// or Err the name of the program error (e.g. "MathOverflow").
type Reply struct {
	OK  json.RawMessage `json:"ok"`
	Err string          `json:"err"`
	Bad string          `json:"bad"`
}

const setupHint = "run ./scripts/setup.sh (or: cargo build -p rulesoracle && install -m 0755 \"$CARGO_TARGET_DIR/debug/rulesoracle\" bin/rulesoracle)"

// Start runs the repository's bin/rulesoracle, stopped when t ends.
func Start(t testing.TB) *Oracle {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("rules oracle: %v", err)
	}
	bin := filepath.Join(root, "bin", "rulesoracle")
	info, err := os.Stat(bin)
	if err != nil {
		t.Fatalf("rules oracle: %s is missing: %s", bin, setupHint)
	}
	if newer, err := newestSource(root); err != nil {
		t.Fatalf("rules oracle: %v", err)
	} else if newer.After(info.ModTime()) {
		t.Fatalf("rules oracle: %s is older than the program sources it answers for: %s", bin, setupHint)
	}
	cmd := exec.Command(bin)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("rules oracle: start %s: %v", bin, err)
	}
	out := bufio.NewScanner(stdout)
	out.Buffer(make([]byte, 1<<20), 1<<20)
	o := &Oracle{t: t, cmd: cmd, in: in, out: out}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Wait()
	})
	return o
}

// Ask sends one query and returns the program's answer. A query the
// oracle cannot read fails the test: that is the test's mistake.
func (o *Oracle) Ask(rule string, in any) Reply {
	o.t.Helper()
	line, err := json.Marshal(map[string]any{"rule": rule, "in": in})
	if err != nil {
		o.t.Fatalf("rules oracle: encode %s query: %v", rule, err)
	}
	if _, err := o.in.Write(append(line, '\n')); err != nil {
		o.t.Fatalf("rules oracle: send %s query: %v", rule, err)
	}
	if !o.out.Scan() {
		o.t.Fatalf("rules oracle: no answer to %s (did it panic? see stderr): %v", line, o.out.Err())
	}
	var r Reply
	if err := json.Unmarshal(o.out.Bytes(), &r); err != nil {
		o.t.Fatalf("rules oracle: answer %q: %v", o.out.Bytes(), err)
	}
	if r.Bad != "" {
		o.t.Fatalf("rules oracle: bad query %s: %s", line, r.Bad)
	}
	return r
}

// Decode reads an OK result into v.
func (r Reply) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.OK, v); err != nil {
		t.Fatalf("rules oracle: result %s: %v", r.OK, err)
	}
}

// repoRoot is the repository holding this file (clients/internal/oracle).
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the repository: no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", ".."), nil
}

// newestSource is the latest modification of the Rust the oracle is built
// from: the programs and the oracle itself.
func newestSource(root string) (time.Time, error) {
	var newest time.Time
	for _, dir := range []string{"programs", filepath.Join("tools", "rulesoracle")} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(path, ".rs") || strings.HasSuffix(path, ".toml")) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			if info.ModTime().After(newest) {
				newest = info.ModTime()
			}
			return nil
		})
		if err != nil {
			return time.Time{}, fmt.Errorf("read %s: %w", dir, err)
		}
	}
	return newest, nil
}
