// Package localnet holds the mt commands that only the local chain
// (bin/localnet) answers: warp, which moves its clock forward through the
// surfpool-compatible surfnet_timeTravel method. They refuse public
// clusters by URL before asking anything, and any other cluster by the
// "method not found" it answers; they never send a transaction.
package localnet

import "github.com/urfave/cli/v2"

// Command is `mt localnet`.
func Command() *cli.Command {
	return &cli.Command{
		Name:        "localnet",
		Usage:       "control the local chain (bin/localnet): move its clock",
		Subcommands: []*cli.Command{warpCommand()},
	}
}
