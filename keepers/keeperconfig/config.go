// Package keeperconfig is the keeper's configuration file: its schema
// (TOML; Template is the commented example `keeper init-config` writes), Load,
// which refuses unknown keys, and Validate, which fills defaults and
// refuses a configuration the keeper could not run with, naming the
// setting. It also loads the keeper's hot key, refusing a key file others
// can read.
package keeperconfig

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/workers"
)

// Config is the keeper's configuration file (TOML); see Template.
type Config struct {
	// Listen is the API address; AdminListen the operator address for
	// /metrics, /status and receipt lookups (empty: metrics on the API
	// listener and no admin endpoints).
	Listen      string `toml:"listen"`
	AdminListen string `toml:"admin_listen"`
	// Keypair is the keeper hot key (a solana-keygen JSON file, mode 0600).
	Keypair string `toml:"keypair"`
	// RPCURL is the cluster (localnet, devnet, mainnet-beta or a URL);
	// empty runs offline on the [offline] escrows and the models' prices.
	RPCURL     string `toml:"rpc_url"`
	Commitment string `toml:"commitment"`
	LogLevel   string `toml:"log_level"`
	LogFormat  string `toml:"log_format"`

	Journal JournalConfig  `toml:"journal"`
	Gateway GatewayConfig  `toml:"gateway"`
	Pool    PoolConfig     `toml:"pool"`
	Models  []ModelEntry   `toml:"model"`
	Workers []WorkerEntry  `toml:"worker"`
	Offline *OfflineConfig `toml:"offline"`
	Chain   ChainConfig    `toml:"chain"`
	Settle  SettleConfig   `toml:"settle"` // settle.go
	Cranks  CranksConfig   `toml:"cranks"`
	Limits  LimitsConfig   `toml:"limits"`
	Domain  DomainConfig   `toml:"domain"`  // domain.go
	Runtime RuntimeConfig  `toml:"runtime"` // runtime.go

	// AcceptJournalLoss (keeper run --accept-journal-loss, never from the
	// file): start even though the journal is behind the chain — its runs
	// the chain settled the numbers of are written off, and new runs are
	// numbered above the chain's mark. Without it such a keeper refuses to
	// start (settler.JournalBehindError).
	AcceptJournalLoss bool `toml:"-"`
}

// ChainConfig is the [chain] section: how often the keeper reads the chain.
type ChainConfig struct {
	// PriceRefresh is how often the served models' prices and stages are
	// read (default 2s). Keep it well below the protocol's min_period_secs
	// (the shortest hold-up a price change may have): the keeper must see
	// a scheduled price change before it takes effect to quote it. The
	// keeper warns at start when it is not below. A request for a model it
	// has no active or fresh copy of reads the models at once anyway.
	PriceRefresh Duration `toml:"price_refresh"`
	// ClockRefresh is how often the chain's Clock sysvar is read when no
	// other read saw it meanwhile (default 1s): runs are dated by the
	// chain's clock, not the host's.
	ClockRefresh Duration `toml:"clock_refresh"`
}

// Default [chain] intervals.
const (
	DefaultPriceRefresh = 2 * time.Second
	DefaultClockRefresh = time.Second
)

// JournalConfig configures the receipt journal.
type JournalConfig struct {
	Path            string   `toml:"path"`
	Retention       Duration `toml:"retention"`
	CompactMinBytes int64    `toml:"compact_min_bytes"`
}

// GatewayConfig configures the API.
type GatewayConfig struct {
	MaxBodyBytes     int64    `toml:"max_body_bytes"`
	MaxResponseBytes int64    `toml:"max_response_bytes"`
	DefaultMaxTokens int      `toml:"default_max_tokens"`
	MaxTokensLimit   int      `toml:"max_tokens_limit"`
	MaxN             int      `toml:"max_n"`
	PromptMarginPct  int      `toml:"prompt_margin_pct"`
	MaxAttempts      int      `toml:"max_attempts"`
	RateLimit        float64  `toml:"rate_limit"`
	RateBurst        int      `toml:"rate_burst"`
	MaxInFlight      int      `toml:"max_in_flight"`
	WriteTimeout     Duration `toml:"write_timeout"`
	UpstreamIdle     Duration `toml:"upstream_idle_timeout"`
	ShutdownGrace    Duration `toml:"shutdown_grace"`
}

// PoolConfig configures the worker pool.
type PoolConfig struct {
	HealthInterval   Duration `toml:"health_interval"`
	HealthTimeout    Duration `toml:"health_timeout"`
	UnhealthyAfter   int      `toml:"unhealthy_after"`
	BreakerThreshold int      `toml:"breaker_threshold"`
	BreakerCooldown  Duration `toml:"breaker_cooldown"`
	HeaderTimeout    Duration `toml:"header_timeout"`
}

// ModelEntry maps a public model name to its mt_treasury model id. The
// prices are used only offline (on a cluster they come from the chain).
type ModelEntry struct {
	Name        string `toml:"name"`
	ID          uint64 `toml:"id"`
	InputPer1k  uint64 `toml:"input_per_1k"`
	OutputPer1k uint64 `toml:"output_per_1k"`
}

// WorkerEntry is one GPU worker.
type WorkerEntry struct {
	Name   string   `toml:"name"`
	URL    string   `toml:"url"`
	Kind   string   `toml:"kind"`
	Models []string `toml:"models"`
	// APIKeyEnv names the environment variable holding the worker's API
	// key (keys are not written in the file).
	APIKeyEnv      string `toml:"api_key_env"`
	MaxOutstanding int    `toml:"max_outstanding"`
}

// OfflineConfig serves without a chain: escrows are listed here by their
// API key's id (clients/apikey.ID, base58). For demos, tests and benchmarks.
type OfflineConfig struct {
	Escrows []OfflineEscrow `toml:"escrow"`
}

// OfflineEscrow is one escrow in offline mode.
type OfflineEscrow struct {
	KeyID         string   `toml:"key_id"`
	Balance       uint64   `toml:"balance"`
	AllowedModels []uint64 `toml:"allowed_models"`
}

// Duration is a time.Duration written as "5s", "10m", "720h".
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// LimitsConfig is [limits]: per-minute budgets per API key (rpm, tpm;
// 0: unlimited), per (API key, model) ([[limits.model]]) and overrides of
// the per-key budget for single escrows ([[limits.escrow]]). The escrow's
// on-chain spend limit stays authoritative; these only refuse more.
type LimitsConfig struct {
	RPM     int64              `toml:"rpm"`
	TPM     int64              `toml:"tpm"`
	MaxKeys int                `toml:"max_keys"` // keys tracked at once; default 100 000
	Models  []ModelLimit       `toml:"model"`
	Escrows []EscrowLimitEntry `toml:"escrow"`
}

// ModelLimit is one [[limits.model]]: the budget of each API key on one
// model (a [[model]] name).
type ModelLimit struct {
	Name string `toml:"name"`
	RPM  int64  `toml:"rpm"`
	TPM  int64  `toml:"tpm"`
}

// EscrowLimitEntry is one [[limits.escrow]]: the per-key budget of one
// escrow (its address). An omitted rpm or tpm keeps [limits]' value; 0
// lifts it.
type EscrowLimitEntry struct {
	Escrow string `toml:"escrow"`
	RPM    *int64 `toml:"rpm"`
	TPM    *int64 `toml:"tpm"`
}

// GatewayLimits checks [limits] against the configured models and turns it
// into the gateway's form.
func (c *Config) GatewayLimits() (gateway.Limits, error) {
	l := c.Limits
	out := gateway.Limits{Key: gateway.Rate{RPM: l.RPM, TPM: l.TPM}, MaxKeys: l.MaxKeys}
	if l.RPM < 0 || l.TPM < 0 {
		return out, errors.New("config: [limits] rpm and tpm must not be negative (0: unlimited)")
	}
	if l.MaxKeys < 0 {
		return out, errors.New("config: [limits] max_keys must not be negative (0: the default, 100000)")
	}
	models := map[string]bool{}
	for _, m := range c.Models {
		models[m.Name] = true
	}
	for _, m := range l.Models {
		switch {
		case !models[m.Name]:
			return out, fmt.Errorf("config: [[limits.model]] name %q is not a configured [[model]]", m.Name)
		case m.RPM < 0 || m.TPM < 0:
			return out, fmt.Errorf("config: [[limits.model]] %q: rpm and tpm must not be negative (0: unlimited)", m.Name)
		case m.RPM == 0 && m.TPM == 0:
			return out, fmt.Errorf("config: [[limits.model]] %q sets neither rpm nor tpm", m.Name)
		}
		if out.Models == nil {
			out.Models = map[string]gateway.Rate{}
		}
		if _, dup := out.Models[m.Name]; dup {
			return out, fmt.Errorf("config: [[limits.model]] %q is given twice", m.Name)
		}
		out.Models[m.Name] = gateway.Rate{RPM: m.RPM, TPM: m.TPM}
	}
	for _, e := range l.Escrows {
		addr, err := solana.PublicKeyFromBase58(e.Escrow)
		if err != nil {
			return out, fmt.Errorf("config: [[limits.escrow]] escrow %q: want the escrow's address in base58 (mt escrow show): %v", e.Escrow, err)
		}
		if e.RPM == nil && e.TPM == nil {
			return out, fmt.Errorf("config: [[limits.escrow]] %s sets neither rpm nor tpm", addr)
		}
		r := out.Key
		if e.RPM != nil {
			r.RPM = *e.RPM
		}
		if e.TPM != nil {
			r.TPM = *e.TPM
		}
		if r.RPM < 0 || r.TPM < 0 {
			return out, fmt.Errorf("config: [[limits.escrow]] %s: rpm and tpm must not be negative (0: unlimited)", addr)
		}
		if out.Escrows == nil {
			out.Escrows = map[solana.PublicKey]gateway.Rate{}
		}
		if _, dup := out.Escrows[addr]; dup {
			return out, fmt.Errorf("config: [[limits.escrow]] %s is given twice", addr)
		}
		out.Escrows[addr] = r
	}
	return out, nil
}

// Load reads a TOML file; unknown keys are errors (a typo must not
// silently fall back to a default).
func Load(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&c)
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var keys []string
		for _, k := range und {
			keys = append(keys, k.String())
		}
		return c, fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	return c, nil
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.Journal.Path == "" {
		return errors.New("config: journal.path is required")
	}
	if c.Keypair == "" {
		return errors.New("config: keypair is required (the keeper hot key that signs receipts)")
	}
	if len(c.Workers) == 0 {
		return errors.New("config: at least one [[worker]] is required")
	}
	if len(c.Models) == 0 {
		return errors.New("config: at least one [[model]] is required (public name -> mt_treasury model id)")
	}
	for _, w := range c.Workers {
		if _, err := workers.ParseKind(w.Kind); err != nil {
			return fmt.Errorf("config: worker %q: %w", w.Name, err)
		}
		if w.APIKeyEnv != "" && os.Getenv(w.APIKeyEnv) == "" {
			return fmt.Errorf("config: worker %q: environment variable %s (api_key_env) is empty", w.Name, w.APIKeyEnv)
		}
	}
	if c.Chain.PriceRefresh.Duration < 0 || c.Chain.ClockRefresh.Duration < 0 {
		return errors.New("config: [chain] price_refresh and clock_refresh must not be negative")
	}
	if c.Settle.MaxLookupTables < 0 {
		return errors.New("config: [settle] max_lookup_tables must not be negative (0: the default, 4)")
	}
	if c.Chain.PriceRefresh.Duration == 0 {
		c.Chain.PriceRefresh.Duration = DefaultPriceRefresh
	}
	if c.Chain.ClockRefresh.Duration == 0 {
		c.Chain.ClockRefresh.Duration = DefaultClockRefresh
	}
	if _, err := c.GatewayLimits(); err != nil {
		return err
	}
	if _, err := c.GCPolicy(); err != nil {
		return err
	}
	if c.RPCURL == "" && c.Offline == nil {
		return errors.New("config: set rpc_url (a cluster) or an [offline] section")
	}
	if c.RPCURL != "" && c.Offline != nil {
		return errors.New("config: rpc_url and [offline] are exclusive")
	}
	if c.Offline != nil {
		for _, e := range c.Offline.Escrows {
			if _, err := solana.PublicKeyFromBase58(e.KeyID); err != nil {
				return fmt.Errorf("config: offline escrow key_id %q: want the API key's id in base58 (keeper key-id <key>): %v", e.KeyID, err)
			}
		}
	}
	return nil
}

// Template is what `keeper init-config` writes without flags (see Initial).
const Template = `# Keeper configuration. Every setting can also be given as a flag or an
# environment variable (KEEPER_LISTEN, KEEPER_RPC_URL, KEEPER_KEYPAIR,
# KEEPER_JOURNAL, ...); flags win over the environment, which wins over this file.

# OpenAI-compatible API for your users: this host only until you open it
# (listen = "0.0.0.0:8080", or ` + "`keeper init-config --listen 0.0.0.0:8080`" + `).
listen = "127.0.0.1:8080"
# Operator endpoints (/metrics, /status, receipt lookups). Keep it private.
admin_listen = "127.0.0.1:9090"

# The node's keeper hot key (solana-keygen JSON). It may only settle.
# The file must not be readable by group or others (chmod 600).
keypair = "~/.config/modelcommons/keeper-keypair.json"

# Cluster: localnet, devnet, mainnet-beta or an RPC URL.
rpc_url = "localnet"
commitment = "confirmed"

log_level = "info"   # debug, info, warn, error
log_format = "text"  # text or json

[chain]
# How often the served models' prices and stages are read. Keep it well below the
# protocol's min_period_secs (the shortest hold-up before a new price applies;
# ` + "`mt protocol show`" + `): a price change must be seen before it takes effect to be
# quoted as settlement charges it. The keeper warns at start if it is not below.
price_refresh = "2s"
# How often the chain's clock (the Clock sysvar) is read. Runs are dated, and their
# price picked, by the chain's clock, not this host's.
clock_refresh = "1s"

[journal]
# Every served run is a signed receipt here, durable before its response ends.
path = "~/.local/share/modelcommons/keeper/journal.db"
retention = "720h"          # settled receipts are kept this long
compact_min_bytes = 67108864 # compaction considered above this file size

[gateway]
max_body_bytes = 4194304
default_max_tokens = 1024   # sent upstream when a request has no max_tokens
max_tokens_limit = 32768    # larger max_tokens are rejected (400)
max_n = 4
prompt_margin_pct = 25      # admission adds this to the prompt estimate
max_attempts = 3            # workers tried before the first byte reaches the client
rate_limit = 0              # requests/s per API key (0: off)
rate_burst = 0
max_in_flight = 0           # concurrent requests (0: unlimited)
write_timeout = "30s"       # per write to a client; slow readers are cut off
upstream_idle_timeout = "120s" # a worker silent this long mid-answer is abandoned
shutdown_grace = "30s"

[pool]
health_interval = "5s"
health_timeout = "2s"
unhealthy_after = 2
breaker_threshold = 5
breaker_cooldown = "10s"
header_timeout = "120s"     # time to first token of a queued request

# Public model names and their mt_treasury model ids. Prices come from the chain.
[[model]]
name = "tiny-chat"
id = 0                      # the first model launched is 0 (` + "`mt model list`" + `)

# GPU workers: kind is vllm, llamacpp, ollama or openai. A model the worker knows
# under another name is written "public=upstream".
[[worker]]
name = "gpu-0"
url = "http://127.0.0.1:8000"
kind = "vllm"
models = ["tiny-chat"]
# api_key_env = "GPU0_API_KEY"   # if the worker requires a key
# max_outstanding = 64

# On-chain settlement of the journal (keepers/settler): node is your node's
# account (` + "`mt node show`" + ` prints it, as "address"); the keypair above must be
# the node's keeper key.
[settle]
# node = "..."
interval = "10s"            # between rounds when nothing is pending
max_entries = 0             # per batch; 0: as many as fit one transaction
max_models = 4              # per batch (the program allows 16)
lookup_table = true         # v0 transactions through the node's lookup tables (44-87 entries vs ~9)
max_lookup_tables = 4       # live tables (256 addresses, ~0.058 SOL rent each); the oldest is then retired and its rent returned
priority_micro_lamports = 0
# operator_account = "..."  # default: the operator's associated native-token account
# state_path = "..."        # default: the journal path + ".settler.json"

# Per-minute budgets per API key (0: unlimited), counted by this keeper alone.
# tpm counts a request's prompt estimate + max_tokens × n when it is admitted and
# gives back what the run did not use when it completes. Over a budget: HTTP 429
# with Retry-After. The escrow's spend limit on chain still applies.
[limits]
rpm = 0
tpm = 0
# Per API key on one model:
# [[limits.model]]
# name = "tiny-chat"
# rpm = 60
# tpm = 100000
# One escrow's own per-key budget (an omitted rpm or tpm keeps the one above; 0 lifts it):
# [[limits.escrow]]
# escrow = "..."              # the escrow's address
# rpm = 600
# tpm = 1000000

# Permissionless upkeep: finalise raises and proposals when due.
[cranks]
enabled = false
interval = "30s"
jitter = "20s"              # random wait so several keepers don't all pay for one crank
checkpoint_voters = false   # also start warmed-up voter records of the served models earning

# Garbage collector: collect when the heap grows by gc_percent of its live size,
# and as often as needed to stay under memory_limit_mib (-1: no limit). The
# environment's GOGC / GOMEMLIMIT win when set. Raise the limit for a keeper with
# many more than 1 000 concurrent streams.
[runtime]
gc_percent = 400
memory_limit_mib = 200

# Without a chain (demo, benchmarks): remove rpc_url above and list escrows here by
# their API key's id, and give each [[model]] input_per_1k / output_per_1k.
# [offline]
# [[offline.escrow]]
# key_id = "..."                # base58, from KeyID (clients/apikey.ID) of the API key
# balance = 1000000000
`

// Initial is Template with the gateway's listen address and, unless
// node is empty, [settle] node filled in.
func Initial(listen, node string) string {
	out := Template
	if listen != "" {
		out = strings.Replace(out, "\nlisten = \"127.0.0.1:8080\"\n", "\nlisten = "+strconv.Quote(listen)+"\n", 1)
	}
	if node != "" {
		out = strings.Replace(out, "\n# node = \"...\"\n", "\nnode = "+strconv.Quote(node)+"\n", 1)
	}
	return out
}

// SettleConfig is the [settle] section: settlement of the journal on
// chain. It is on when node is set (and rpc_url: offline keepers never settle).
type SettleConfig struct {
	// Node is the node account (inference_meter Node PDA; `mt node show`).
	Node string `toml:"node"`
	// Interval between settlement rounds when nothing is pending (default 10s).
	Interval Duration `toml:"interval"`
	// MaxEntries per batch (0: as many as fit one transaction).
	MaxEntries int `toml:"max_entries"`
	// MaxModels per batch (default 4).
	MaxModels int `toml:"max_models"`
	// LookupTable: settle through address lookup tables the keeper creates
	// (default true; false sends legacy transactions, about 9 entries each).
	LookupTable *bool `toml:"lookup_table"`
	// MaxLookupTables is how many lookup tables stay live (default 4); the
	// oldest is then retired: deactivated, closed, its rent returned.
	MaxLookupTables int `toml:"max_lookup_tables"`
	// PriorityMicroLamports is the compute-unit price of settle transactions.
	PriorityMicroLamports uint64 `toml:"priority_micro_lamports"`
	// OperatorAccount receives the operator share (default: the operator's
	// associated native-token account).
	OperatorAccount string `toml:"operator_account"`
	// StatePath is the settler's state file (default: next to the journal).
	StatePath string `toml:"state_path"`
}

// CranksConfig is the [cranks] section: permissionless upkeep.
type CranksConfig struct {
	Enabled bool `toml:"enabled"`
	// Interval between scans (default 30s); Jitter the most a due crank
	// waits so that keepers do not all pay for it (default 20s).
	Interval Duration `toml:"interval"`
	Jitter   Duration `toml:"jitter"`
	// CheckpointVoters also checkpoints voter records of the served models
	// whose warm-up is over (one fee per record; default off).
	CheckpointVoters      bool   `toml:"checkpoint_voters"`
	PriorityMicroLamports uint64 `toml:"priority_micro_lamports"`
}

// SettlerStatePath is the settler's state file: [settle] state_path, or
// next to the journal.
func (c Config) SettlerStatePath() string {
	if c.Settle.StatePath != "" {
		return cluster.ExpandHome(c.Settle.StatePath)
	}
	return cluster.ExpandHome(c.Journal.Path) + ".settler.json"
}
