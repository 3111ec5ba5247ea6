package session

import (
	"github.com/urfave/cli/v2"
)

// Flag names shared by every command.
const (
	FlagURL        = "url"
	FlagKeypair    = "keypair"
	FlagCommitment = "commitment"
	FlagOutput     = "output"
	FlagConfig     = "config"
	FlagDryRun     = "dry-run"
	FlagPriority   = "with-compute-unit-price"
)

// CommonFlags are accepted by the app and by every command, before or after
// the command's name (fresh values on each call: urfave records "set" on
// the flag value itself).
func CommonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: FlagURL, Aliases: []string{"u"}, Usage: "cluster: localnet, devnet, testnet, mainnet-beta or an RPC URL (default: the Solana CLI config's json_rpc_url, else localnet)"},
		&cli.StringFlag{Name: FlagKeypair, Aliases: []string{"k"}, Usage: "signer's keypair file (default: the Solana CLI config's keypair_path, else ~/.config/solana/id.json)"},
		&cli.StringFlag{Name: FlagCommitment, Usage: "processed, confirmed or finalized (default: confirmed)"},
		&cli.StringFlag{Name: FlagOutput, Aliases: []string{"o"}, Usage: "text, json or json-compact"},
		&cli.StringFlag{Name: FlagConfig, Aliases: []string{"C"}, Usage: "Solana CLI config file (default: ~/.config/solana/cli/config.yml)"},
	}
}

// TxFlags are accepted by every command that sends a transaction.
func TxFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: FlagDryRun, Usage: "simulate only: print the accounts, fee, size and compute units, send nothing"},
		&cli.Uint64Flag{Name: FlagPriority, Aliases: []string{"priority-fee"}, Usage: "priority fee: compute-unit price in micro-lamports"},
	}
}

// ReadFlags returns CommonFlags plus extra, for a command that only reads.
func ReadFlags(extra ...cli.Flag) []cli.Flag { return append(extra, CommonFlags()...) }

// WriteFlags returns CommonFlags, TxFlags plus extra, for a command that sends.
func WriteFlags(extra ...cli.Flag) []cli.Flag {
	return append(append(extra, TxFlags()...), CommonFlags()...)
}

// lookup finds the value of a flag given at any level of the command line,
// the innermost level first, or "" if it was not given anywhere.
func lookup(c *cli.Context, name string) string {
	for _, ctx := range c.Lineage() {
		if ctx == nil {
			continue
		}
		for _, n := range ctx.LocalFlagNames() {
			if n == name {
				return ctx.String(name)
			}
		}
	}
	return ""
}
