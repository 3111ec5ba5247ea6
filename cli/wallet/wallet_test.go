package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/argv"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/explain"
)

// run runs mt with the wallet commands in a clean HOME and returns stdout
// and the explained error, if any.
func run(t *testing.T, args ...string) (string, *explain.Explanation) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := &cli.App{
		Name:           "mt",
		Flags:          session.CommonFlags(),
		Commands:       Commands(),
		Writer:         &stdout,
		ErrWriter:      &stderr,
		ExitErrHandler: func(*cli.Context, error) {},
	}
	for _, c := range app.Commands {
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return err }
	}
	err := app.RunContext(context.Background(), argv.Reorder(app, append([]string{"mt"}, args...)))
	if err != nil {
		if stdout.Len() != 0 {
			t.Errorf("mt %s failed but printed %q", strings.Join(args, " "), stdout.String())
		}
		e := explain.Explain(err, explain.Context{})
		if strings.Contains(e.What, "\n") {
			t.Errorf("mt %s: error is not one line: %q", strings.Join(args, " "), e.What)
		}
		return stdout.String(), &e
	}
	return stdout.String(), nil
}

func home(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	return dir
}

func TestKeygenWritesASolanaKeypairAndPrintsItsAddress(t *testing.T) {
	dir := home(t)
	path := filepath.Join(dir, "alice.json")
	out, e := run(t, "keygen", "-o", path)
	if e != nil {
		t.Fatal(e.What)
	}
	key, err := cluster.LoadKeypair(path) // the Solana CLI's format, consistent halves
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out); got != key.PublicKey().String() {
		t.Errorf("printed %q, the file's address is %s", got, key.PublicKey())
	}
	var ints []int
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &ints); err != nil || len(ints) != 64 {
		t.Errorf("file is not a JSON array of 64 bytes: %s", data)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}

	got, e := run(t, "address", "-k", path)
	if e != nil || strings.TrimSpace(got) != key.PublicKey().String() {
		t.Errorf("address -k: %q, %v; want %s", got, e, key.PublicKey())
	}
	got, e = run(t, "address", "-k", path, "--output", "json")
	var a Address
	if e != nil || json.Unmarshal([]byte(got), &a) != nil || a.Address != key.PublicKey().String() || a.Path != path {
		t.Errorf("address --output json: %q, %v", got, e)
	}
}

func TestKeygenDefaultsToTheSessionKeypair(t *testing.T) {
	dir := home(t)
	out, e := run(t, "keygen", "--output", "json")
	if e != nil {
		t.Fatal(e.What)
	}
	var k Keygen
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, ".config", "solana", "id.json"); k.Path != want {
		t.Errorf("wrote %s, want %s", k.Path, want)
	}
	got, e := run(t, "address")
	if e != nil || strings.TrimSpace(got) != k.Address {
		t.Errorf("address without -k: %q, %v; want %s", got, e, k.Address)
	}
}

func TestKeygenNeverOverwrites(t *testing.T) {
	dir := home(t)
	path := filepath.Join(dir, "funded.json")
	before := []byte("[1,2,3]")
	if err := os.WriteFile(path, before, 0o600); err != nil {
		t.Fatal(err)
	}
	_, e := run(t, "keygen", "-o", path)
	if e == nil || !strings.Contains(e.What, "already exists") || e.Fix == "" {
		t.Fatalf("keygen over an existing file: %+v", e)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Errorf("the existing file changed: %s", after)
	}
}

func TestBadInputIsOneClearLine(t *testing.T) {
	dir := home(t)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("not json"), 0o600)
	inconsistent := filepath.Join(dir, "inconsistent.json")
	k1, k2 := solana.NewWallet().PrivateKey, solana.NewWallet().PrivateKey
	cluster.WriteKeypair(inconsistent, append(append(solana.PrivateKey{}, k1[:32]...), k2[32:]...))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"keygen", "extra"}, "unexpected argument"},
		{[]string{"address", "extra"}, "unexpected argument"},
		{[]string{"address", "-k", filepath.Join(dir, "missing.json")}, "no keypair file at"},
		{[]string{"address"}, "no keypair file at"},
		{[]string{"address", "-k", bad}, "expected a JSON array of 64 bytes"},
		{[]string{"address", "-k", inconsistent}, "inconsistent"},
	} {
		_, e := run(t, tc.args...)
		if e == nil || !strings.Contains(e.What, tc.want) {
			t.Errorf("mt %s: %+v, want an error with %q", strings.Join(tc.args, " "), e, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".config", "solana", "id.json")); err == nil {
		t.Error("a failed command created a keypair")
	}
}
