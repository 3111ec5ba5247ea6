// Package launchspec reads a creator's launch spec — every parameter of a
// model launch — from a TOML, YAML or JSON file and/or command-line
// values, and validates it locally the way mt_treasury's launch_model and
// create_model_token do (same limits, same meaning), listing EVERY problem
// at once so that nothing is sent until the whole spec is right.
//
// Amounts are human amounts (strings or numbers: "0.5", 1000000): MT with
// MT's 6 decimals, native tokens with the native mint's decimals. Periods
// are spans ("30d"); the crowdfund's start and end are instants (RFC 3339,
// a date, "now" or a span from now). Unknown keys are errors, so a typo is
// never silently ignored.
package launchspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"gopkg.in/yaml.v3"
)

// Kind is how a value is read.
type Kind int

const (
	Text    Kind = iota // a string
	MT                  // an amount of Model Token
	Native              // an amount of the native token
	Bps                 // basis points, 0–10000
	Span                // a duration such as "30d"
	Instant             // a time such as "now", "14d" or RFC 3339
	Hash32              // 32 bytes, hex or base58
)

// Field is one parameter of a launch.
type Field struct {
	// Key is the spec key, "section.name".
	Key string
	// Flag is the command-line flag that sets it.
	Flag     string
	Kind     Kind
	Required bool
	// Default is used when the spec and the flags leave it out.
	Default string
	Usage   string
	// Example is a sensible value for the template ("" leaves the key out).
	Example string
}

// Fields lists every launch parameter, in spec order.
var Fields = []Field{
	{Key: "token.name", Example: "Tiny Llama Commons", Flag: "name", Kind: Text, Required: true, Usage: "the Model Token's name, 1–32 bytes"},
	{Key: "token.symbol", Example: "TLC", Flag: "symbol", Kind: Text, Required: true, Usage: "the Model Token's symbol, 1–10 bytes"},
	{Key: "token.uri", Example: "https://example.org/tlc.json", Flag: "uri", Kind: Text, Usage: "URL of the token's off-chain JSON metadata, up to 200 bytes"},

	{Key: "supply.hard", Example: "1000000", Flag: "hard-supply", Kind: MT, Required: true, Usage: "hard supply of MT, fixed forever"},
	{Key: "supply.creator", Example: "200000", Flag: "creator-allocation", Kind: MT, Default: "0", Usage: "MT for the creator, vested"},
	{Key: "supply.crowdfund", Example: "500000", Flag: "crowdfund-allocation", Kind: MT, Required: true, Usage: "MT for sale in the crowdfund"},
	{Key: "supply.liquidity", Example: "200000", Flag: "liquidity-allocation", Kind: MT, Default: "0", Usage: "MT that seeds the market; non-zero exactly when crowdfund.liquidity_bps is (both sides, or no market)"},
	{Key: "supply.contributor_rewards", Example: "100000", Flag: "rewards-allocation", Kind: MT, Default: "0", Usage: "MT for the contributor-rewards pool"},

	{Key: "vesting.cliff", Example: "30d", Flag: "vesting-cliff", Kind: Span, Default: "0s", Usage: "creator vesting: nothing before this long after finalisation"},
	{Key: "vesting.duration", Example: "365d", Flag: "vesting-duration", Kind: Span, Default: "0s", Usage: "creator vesting: everything by this long after finalisation (linear after the cliff)"},

	{Key: "crowdfund.price", Example: "0.5", Flag: "price", Kind: Native, Required: true, Usage: "native tokens per whole MT"},
	{Key: "crowdfund.soft_cap", Example: "10000", Flag: "soft-cap", Kind: Native, Required: true, Usage: "native tokens the raise must reach to succeed; at most what a sold-out raise can have raised (hard cap less under one MT base unit's price)"},
	{Key: "crowdfund.hard_cap", Example: "250000", Flag: "hard-cap", Kind: Native, Required: true, Usage: "most native tokens the raise accepts"},
	{Key: "crowdfund.start", Example: "now", Flag: "start", Kind: Instant, Default: "now", Usage: "when contributions open"},
	{Key: "crowdfund.end", Example: "14d", Flag: "end", Kind: Instant, Required: true, Usage: "when contributions close (exclusive)"},
	{Key: "crowdfund.per_wallet_cap", Example: "5000", Flag: "per-wallet-cap", Kind: Native, Usage: "most native tokens one wallet may pay (default: the hard cap)"},
	{Key: "crowdfund.liquidity_bps", Example: "2000", Flag: "liquidity-bps", Kind: Bps, Default: "0", Usage: "share of the net raise that seeds the market's native side; non-zero exactly when supply.liquidity is (both sides, or no market)"},
	{Key: "crowdfund.allowlist", Example: "", Flag: "allowlist", Kind: Text, Usage: "file of the wallets allowed to contribute, one address per line (its Merkle root goes on chain); omit for an open crowdfund"},
	{Key: "crowdfund.allowlist_root", Example: "", Flag: "allowlist-root", Kind: Hash32, Usage: "Merkle root of the allowed wallets (hex or base58), instead of --allowlist"},

	{Key: "governance.quorum_bps", Example: "2000", Flag: "quorum-bps", Kind: Bps, Required: true, Usage: "turnout needed, as a share of circulating MT"},
	{Key: "governance.threshold_bps", Example: "5000", Flag: "threshold-bps", Kind: Bps, Required: true, Usage: "yes votes needed, as a share of yes + no"},
	{Key: "governance.voting_period", Example: "3d", Flag: "voting-period", Kind: Span, Required: true, Usage: "how long proposals are open for votes"},
	{Key: "governance.hold_up", Example: "1d", Flag: "hold-up", Kind: Span, Required: true, Usage: "delay between a proposal passing and its execution"},
	{Key: "governance.min_propose", Example: "1000", Flag: "min-propose", Kind: MT, Default: "0", Usage: "MT a proposer must have deposited"},

	{Key: "revenue.depositor_share_bps", Example: "7000", Flag: "depositor-share-bps", Kind: Bps, Required: true, Usage: "share of revenue paid to MT depositors (the rest goes to the model treasury)"},

	{Key: "price.input_per_1k", Example: "0.001", Flag: "input-price", Kind: Native, Required: true, Usage: "native tokens per 1 000 input tokens of a query"},
	{Key: "price.output_per_1k", Example: "0.002", Flag: "output-price", Kind: Native, Required: true, Usage: "native tokens per 1 000 output tokens of a query"},
}

// Raw is a spec before validation: key → value as typed (string, or a
// number/bool/time from a file).
type Raw map[string]any

// Format of a spec file.
type Format string

const (
	TOML Format = "toml"
	YAML Format = "yaml"
	JSON Format = "json"
)

// FormatOf picks the format from a file name's extension.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		return TOML, nil
	case ".yaml", ".yml":
		return YAML, nil
	case ".json":
		return JSON, nil
	}
	return "", fmt.Errorf("launch spec %s: unknown extension; use .toml, .yaml, .yml or .json", path)
}

// Issue is one problem with a spec.
type Issue struct {
	// Key is the spec key ("crowdfund.soft_cap"), or "" for the file itself.
	Key string `json:"key,omitempty"`
	// Flag is the command-line flag of Key, when there is one.
	Flag    string `json:"flag,omitempty"`
	Message string `json:"message"`
	// ProgramError is the mt_treasury error the program would return, if any.
	ProgramError string `json:"program_error,omitempty"`
}

func (i Issue) String() string {
	where := i.Key
	if i.Flag != "" {
		where += " (--" + i.Flag + ")"
	}
	if where == "" {
		return i.Message
	}
	return where + ": " + i.Message
}

// Issues is every problem found.
type Issues []Issue

func (is Issues) Error() string {
	lines := make([]string, len(is))
	for i, x := range is {
		lines[i] = x.String()
	}
	return strings.Join(lines, "; ")
}

// Parse decodes a spec file's content. Syntax errors, unknown keys and
// values of the wrong shape are all reported, not just the first.
func Parse(data []byte, f Format) (Raw, Issues) {
	var tree map[string]any
	var err error
	switch f {
	case TOML:
		_, err = toml.Decode(string(data), &tree)
	case YAML:
		err = yaml.Unmarshal(data, &tree)
	case JSON:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		err = dec.Decode(&tree)
	default:
		err = fmt.Errorf("unknown format %q", f)
	}
	if err != nil {
		return nil, Issues{{Message: fmt.Sprintf("not valid %s: %v", strings.ToUpper(string(f)), err)}}
	}
	raw := Raw{}
	var issues Issues
	known := map[string]bool{}
	sections := map[string]bool{}
	for _, fd := range Fields {
		known[fd.Key] = true
		sections[strings.SplitN(fd.Key, ".", 2)[0]] = true
	}
	for _, section := range sortedKeys(tree) {
		if !sections[section] {
			issues = append(issues, Issue{Key: section, Message: "unknown section (expected one of " + strings.Join(sortedKeys(sections), ", ") + ")"})
			continue
		}
		inner, ok := asMap(tree[section])
		if !ok {
			issues = append(issues, Issue{Key: section, Message: "must be a table of keys"})
			continue
		}
		for _, k := range sortedKeys(inner) {
			key := section + "." + k
			if !known[key] {
				issues = append(issues, Issue{Key: key, Message: "unknown key" + suggest(key)})
				continue
			}
			v, err := scalar(inner[k])
			if err != nil {
				issues = append(issues, Issue{Key: key, Flag: flagOf(key), Message: err.Error()})
				continue
			}
			raw[key] = v
		}
	}
	return raw, issues
}

// asMap accepts both map[string]any and YAML's map[any]any.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[fmt.Sprint(k)] = x
		}
		return out, true
	}
	return nil, false
}

// scalar turns a decoded value into the text the field parsers read.
// Numbers keep the digits the file had (TOML and YAML floats are printed in
// their shortest exact form; JSON numbers are kept verbatim).
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339), nil
	case bool:
		return "", errors.New("must be a number or a string, not true/false")
	case nil:
		return "", errors.New("has no value")
	}
	return "", fmt.Errorf("must be a number or a string, not a %T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func flagOf(key string) string {
	for _, f := range Fields {
		if f.Key == key {
			return f.Flag
		}
	}
	return ""
}

// suggest names a known key close to an unknown one (same section, or same name).
func suggest(key string) string {
	section, name, _ := strings.Cut(key, ".")
	var same []string
	for _, f := range Fields {
		s, n, _ := strings.Cut(f.Key, ".")
		if n == name || (s == section && (strings.HasPrefix(n, name) || strings.HasPrefix(name, n))) {
			same = append(same, f.Key)
		}
	}
	if len(same) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(same, " or ") + "?"
}
