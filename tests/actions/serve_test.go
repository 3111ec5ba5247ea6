package actions_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/actions"
	"github.com/modelcommons/modelcommons/localnet/golocal"
	"github.com/modelcommons/modelcommons/tests/treasury"
)

// buildMT builds the mt binary.
func buildMT(t *testing.T) string {
	t.Helper()
	root, err := golocal.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "mt")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mt")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build mt: %v\n%s", err, out)
	}
	return bin
}

// `mt serve-actions` serves the endpoint from the CLI's cluster flags and
// stops cleanly on SIGINT; bad flags are explained, not served.
func TestServeActionsCommand(t *testing.T) {
	bin := buildMT(t)
	h := newHarness(t, nil)
	id, _ := h.launch(treasury.DefaultTerms(h.now(), time.Hour))
	home := t.TempDir() // no Solana CLI config of the machine's user

	cmd := exec.Command(bin, "serve-actions", "--url", h.env.Chain.URL, "--listen", "127.0.0.1:0", "--native-symbol", "USDC", "--with-compute-unit-price", "1000")
	cmd.Env = append(os.Environ(), "HOME="+home)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	defer func() {
		_ = cmd.Process.Kill()
	}()
	var base string
	select {
	case line := <-lines:
		m := regexp.MustCompile(`^serving Solana Actions at (http://127\.0\.0\.1:\d+)/actions\.json`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("first line %q", line)
		}
		base = m[1]
	case <-time.After(30 * time.Second):
		t.Fatalf("mt serve-actions did not start; stderr:\n%s", stderr.String())
	}

	res := h.do(http.MethodGet, base+"/actions.json", nil)
	wantActionHeaders(t, res.Header)
	var rules actions.ActionsJSON
	if err := json.Unmarshal(res.Body, &rules); err != nil || len(rules.Rules) == 0 {
		t.Fatalf("actions.json: %d %s", res.Status, res.Body)
	}
	h.base = base
	a := h.getAction(path(id, "contribute"))
	wantContains(t, "description", a.Description, "2 USDC per TLC")
	alice := h.wallet(10 * native)
	tr, tx := h.transaction(base+path(id, "contribute")+"?amount=1", alice.PublicKey(), nil)
	wantContains(t, "message", tr.Message, "1 USDC")
	if _, price := wantComputeBudget(t, tx); price != 1000 {
		t.Errorf("compute-unit price %d, want the flag's 1000", price)
	}
	h.sign(tx, alice)

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("mt serve-actions exited with %v after SIGINT; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("mt serve-actions did not stop on SIGINT")
	}

	shortSecret := filepath.Join(home, "short.secret")
	if err := os.WriteFile(shortSecret, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"--review-secret-file", shortSecret}, "holds 10 bytes; at least 32"},
		{[]string{"--review-secret-file", filepath.Join(home, "missing.secret")}, "cannot read --review-secret-file"},
		{[]string{"--allowlist", "nonsense"}, "<model-id>=<file>"},
		{[]string{"--allowlist", "3=" + filepath.Join(home, "missing.txt")}, "allowlist of model 3"},
		{[]string{"--base-url", "https://actions.example.org/prefix"}, "must be an origin"},
		{[]string{"--with-compute-unit-price", "cheap"}, "whole number"},
		{[]string{"extra"}, "flags only"},
	} {
		cmd := exec.Command(bin, append([]string{"serve-actions", "--url", h.env.Chain.URL, "--listen", "127.0.0.1:0"}, tc.args...)...)
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.says) {
			t.Errorf("serve-actions %v: %v\n%s", tc.args, err, out)
		}
	}
}
