package keeperconfig

import (
	"errors"
	"github.com/modelcommons/modelcommons/keepers/gcpolicy"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/keepers/gateway"
)

func writeKeypair(t testing.TB, dir string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, "keeper.json")
	if err := cluster.WriteKeypair(path, solana.NewWallet().PrivateKey); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadValid writes body to path, loads and validates it.
func loadValid(t *testing.T, path, body string) Config {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTemplateIsAValidConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keeper.toml")
	c := loadValid(t, path, Template)
	if c.Pool.HeaderTimeout.Duration != 120*time.Second || c.Journal.Retention.Duration != 720*time.Hour || len(c.Workers) != 1 || c.Models[0].ID != 0 || c.Listen != "127.0.0.1:8080" {
		t.Fatalf("template decoded to %+v", c)
	}
	if err := os.WriteFile(path, []byte(Template+"\nlisten_addr = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "listen_addr") {
		t.Fatalf("unknown key accepted: %v", err)
	}
	bad := []func(*Config){
		func(c *Config) { c.Journal.Path = "" },
		func(c *Config) { c.Keypair = "" },
		func(c *Config) { c.Workers = nil },
		func(c *Config) { c.Models = nil },
		func(c *Config) { c.Workers[0].Kind = "tgi" },
		func(c *Config) { c.RPCURL = "" },
		func(c *Config) { c.Offline = &OfflineConfig{} },
		func(c *Config) { c.Workers[0].APIKeyEnv = "KEEPERD_TEST_UNSET_VARIABLE" },
		func(c *Config) { c.Chain.PriceRefresh.Duration = -time.Second },
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.toml"), []byte(Template), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, mut := range bad {
		cc, err := Load(filepath.Join(dir, "ok.toml"))
		if err != nil {
			t.Fatal(err)
		}
		mut(&cc)
		if err := cc.Validate(); err == nil {
			t.Errorf("bad config %d validated", i)
		}
	}
	var back Config
	if _, err := toml.Decode(Template, &back); err != nil {
		t.Fatal(err)
	}
}

// [chain] intervals: the template's, and the defaults when absent.
func TestChainRefreshConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keeper.toml")
	c := loadValid(t, path, Template)
	if c.Chain.PriceRefresh.Duration != 2*time.Second || c.Chain.ClockRefresh.Duration != time.Second {
		t.Fatalf("template [chain]: %+v", c.Chain)
	}
	noChain := strings.Replace(Template, "price_refresh = \"2s\"", "", 1)
	noChain = strings.Replace(noChain, "clock_refresh = \"1s\"", "", 1)
	if noChain == Template {
		t.Fatal("template has no [chain] intervals to remove")
	}
	if c = loadValid(t, path, noChain); c.Chain.PriceRefresh.Duration != DefaultPriceRefresh || c.Chain.ClockRefresh.Duration != DefaultClockRefresh {
		t.Fatalf("defaults: %+v", c.Chain)
	}
}

func TestKeypairPermissions(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o640, false}, {0o644, false}, {0o604, false}} {
		path := writeKeypair(t, dir, c.mode)
		_, err := LoadKey(path)
		if c.ok != (err == nil) {
			t.Errorf("mode %04o: %v", c.mode, err)
		}
		if !c.ok && !errors.Is(err, ErrKeyPermissions) {
			t.Errorf("mode %04o: want ErrKeyPermissions, got %v", c.mode, err)
		}
		os.Remove(path)
	}
}

func TestInitialFillsListenAndNode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keeper.toml")
	node := "9RJGPnHS5kSKyzhXheAYQjspDdqH3BwSj1qxW4AnEirU"
	for _, tc := range []struct{ listen, node, wantListen, wantNode string }{
		{"", "", "127.0.0.1:8080", ""},
		{"0.0.0.0:8080", node, "0.0.0.0:8080", node},
	} {
		if err := os.WriteFile(path, []byte(Initial(tc.listen, tc.node)), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.Listen != tc.wantListen || c.Settle.Node != tc.wantNode || c.Models[0].ID != 0 {
			t.Errorf("Initial(%q, %q): listen %q, node %q, model %d", tc.listen, tc.node, c.Listen, c.Settle.Node, c.Models[0].ID)
		}
	}
}

// [limits]: off in the template, the example decoded into the gateway's
// budgets, and every mistake refused with a message naming it.
func TestLimitsConfig(t *testing.T) {
	escrow := solana.NewWallet().PublicKey()
	load := func(t *testing.T, extra string) (Config, error) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "keeper.toml")
		body := strings.Replace(Template, "[limits]\nrpm = 0\ntpm = 0\n", extra, 1)
		if extra != "" && body == Template {
			t.Fatal("template has no [limits] to replace")
		}
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			return c, err
		}
		return c, c.Validate()
	}
	c, err := load(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if l, err := c.GatewayLimits(); err != nil || l.Key != (gateway.Rate{}) || l.Models != nil || l.Escrows != nil {
		t.Fatalf("template limits %+v %v, want all off", l, err)
	}
	example := `[limits]
rpm = 100
tpm = 50000
[[limits.model]]
name = "tiny-chat"
rpm = 60
[[limits.escrow]]
escrow = "` + escrow.String() + `"
rpm = 600
[[limits.escrow]]
escrow = "` + solana.SystemProgramID.String() + `"
tpm = 0
`
	if c, err = load(t, example); err != nil {
		t.Fatal(err)
	}
	l, err := c.GatewayLimits()
	if err != nil {
		t.Fatal(err)
	}
	if l.Key != (gateway.Rate{RPM: 100, TPM: 50000}) || l.Models["tiny-chat"] != (gateway.Rate{RPM: 60}) ||
		l.Escrows[escrow] != (gateway.Rate{RPM: 600, TPM: 50000}) || l.Escrows[solana.SystemProgramID] != (gateway.Rate{RPM: 100}) {
		t.Fatalf("decoded %+v", l)
	}
	for _, c := range []struct{ toml, want string }{
		{"[limits]\nrpm = -1\n", "must not be negative"},
		{"[limits]\nmax_keys = -1\n", "max_keys"},
		{"[limits]\n[[limits.model]]\nname = \"nope\"\nrpm = 1\n", `"nope" is not a configured [[model]]`},
		{"[limits]\n[[limits.model]]\nname = \"tiny-chat\"\n", "sets neither rpm nor tpm"},
		{"[limits]\n[[limits.model]]\nname = \"tiny-chat\"\ntpm = -5\n", "must not be negative"},
		{"[limits]\n[[limits.model]]\nname = \"tiny-chat\"\nrpm = 1\n[[limits.model]]\nname = \"tiny-chat\"\nrpm = 2\n", "given twice"},
		{"[limits]\n[[limits.escrow]]\nescrow = \"not-base58!\"\nrpm = 1\n", "want the escrow's address"},
		{"[limits]\n[[limits.escrow]]\nescrow = \"" + escrow.String() + "\"\n", "sets neither rpm nor tpm"},
		{"[limits]\n[[limits.escrow]]\nescrow = \"" + escrow.String() + "\"\nrpm = -2\n", "must not be negative"},
		{"[limits]\n[[limits.escrow]]\nescrow = \"" + escrow.String() + "\"\nrpm = 1\n[[limits.escrow]]\nescrow = \"" + escrow.String() + "\"\nrpm = 2\n", "given twice"},
		{"[limits]\nrpms = 1\n", "unknown keys: limits.rpms"},
	} {
		if _, err := load(t, c.toml); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.toml, err, c.want)
		}
	}
}

func TestSettleAndCranksConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keeper.toml")
	extra := `
[settle]
node = "99RGuGouvAUBULLukevZ1Y6AJn9SDwhZBsXgn5QfpUwX"
interval = "2s"
max_entries = 12
max_models = 3
lookup_table = false

[cranks]
enabled = true
jitter = "5s"
checkpoint_voters = true
`
	if err := os.WriteFile(path, []byte(Template), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Settle.Node != "" || c.Settle.LookupTable == nil || !*c.Settle.LookupTable || c.Settle.MaxModels != 4 || c.Cranks.Enabled || c.Cranks.Jitter.Duration != 20*time.Second {
		t.Fatalf("template: settle %+v, cranks %+v", c.Settle, c.Cranks)
	}
	// The template without its own [settle] and [cranks], plus ours.
	base := Template[:strings.Index(Template, "# On-chain settlement")]
	if err := os.WriteFile(path, []byte(base+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if c.Settle.Node == "" || c.Settle.Interval.Duration != 2*time.Second || c.Settle.MaxEntries != 12 || c.Settle.MaxModels != 3 ||
		*c.Settle.LookupTable || !c.Cranks.Enabled || c.Cranks.Jitter.Duration != 5*time.Second || !c.Cranks.CheckpointVoters {
		t.Fatalf("decoded settle %+v, cranks %+v", c.Settle, c.Cranks)
	}
	if got := c.SettlerStatePath(); got != cluster.ExpandHome(c.Journal.Path)+".settler.json" {
		t.Fatalf("state path %s", got)
	}
}

func TestRuntimeSection(t *testing.T) {
	for _, tc := range []struct {
		rc      RuntimeConfig
		want    gcpolicy.Policy
		wantErr string
	}{
		{RuntimeConfig{}, gcpolicy.Default, ""},
		{RuntimeConfig{GCPercent: 150, MemoryLimitMiB: 512}, gcpolicy.Policy{GCPercent: 150, MemoryLimit: 512 << 20}, ""},
		{RuntimeConfig{MemoryLimitMiB: -1}, gcpolicy.Policy{GCPercent: gcpolicy.Default.GCPercent}, ""},
		{RuntimeConfig{GCPercent: 5}, gcpolicy.Policy{}, "gc_percent 5"},
		{RuntimeConfig{MemoryLimitMiB: 8}, gcpolicy.Policy{}, "memory_limit_mib 8"},
		{RuntimeConfig{MemoryLimitMiB: -2}, gcpolicy.Policy{}, "memory_limit_mib -2"},
	} {
		got, err := Config{Runtime: tc.rc}.GCPolicy()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("%+v: %v, want an error naming %q", tc.rc, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Fatalf("%+v: %v, %v; want %v", tc.rc, got, err, tc.want)
		}
	}
}
