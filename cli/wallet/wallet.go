// Package wallet holds the mt commands that make and fund a wallet before
// any protocol command: keygen (a new keypair file in the Solana CLI's
// format, never overwriting one), address (the public key of a keypair
// file) and airdrop (SOL from the cluster's faucet, never on mainnet).
// None of them sends a transaction of its own.
package wallet

import (
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
)

// Commands are the wallet commands, wired at the top level of mt.
func Commands() []*cli.Command {
	return []*cli.Command{keygenCommand(), addressCommand(), airdropCommand()}
}

// readFlags are session.ReadFlags(extra...).
func readFlags(extra ...cli.Flag) []cli.Flag { return session.ReadFlags(extra...) }
