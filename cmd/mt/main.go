// Command mt is the Model Commons CLI for the protocol admin, model
// creators, contributors, MT holders, API users and node operators.
// Run `mt --help`; the commands live in the packages under cli/.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/argv"
	"github.com/modelcommons/modelcommons/cli/bounty"
	"github.com/modelcommons/modelcommons/cli/crowdfund"
	"github.com/modelcommons/modelcommons/cli/dao"
	"github.com/modelcommons/modelcommons/cli/domain"
	"github.com/modelcommons/modelcommons/cli/escrow"
	"github.com/modelcommons/modelcommons/cli/localnet"
	"github.com/modelcommons/modelcommons/cli/market"
	"github.com/modelcommons/modelcommons/cli/meter"
	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/node"
	"github.com/modelcommons/modelcommons/cli/protocol"
	"github.com/modelcommons/modelcommons/cli/rewards"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/cli/wallet"
	"github.com/modelcommons/modelcommons/clients/explain"
)

func main() {
	app := newApp()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.RunContext(ctx, argv.Reorder(app, os.Args))
	stop()
	if err != nil {
		exctx, asJSON := session.Explain(app)
		if exctx.URL == "" {
			// The command failed before its session was set up (e.g. a usage mistake).
			f := argv.FlagValue(os.Args, session.FlagOutput, "o")
			asJSON = f == "json" || f == "json-compact"
		}
		explain.Print(os.Stderr, err, exctx, asJSON)
		os.Exit(1)
	}
}

// newApp wires the command groups into the mt app.
func newApp() *cli.App {
	app := &cli.App{
		Name:  "mt",
		Usage: "community-owned small models on Solana: launch, fund, govern, earn, pay for inference",
		Description: "Flags may come before or after a command's arguments. Amounts are typed as people type them (12.5),\n" +
			"durations as 90s, 15m, 7d or 2w, times as RFC 3339 or a span from now. Every command that prints\n" +
			"accepts --output json; every command that sends a transaction accepts --dry-run.",
		Flags: session.CommonFlags(),
		Commands: append(wallet.Commands(),
			protocol.Command(),
			meter.Command(),
			model.Command(),
			crowdfund.Command(),
			dao.Command(),
			bounty.Command(),
			bounty.ReputationCommand(),
			rewards.Command(),
			market.Command(),
			escrow.Command(),
			node.Command(),
			domain.Command(),
			localnet.Command(),
			serveActionsCommand(),
		),
		EnableBashCompletion: true,
		// Errors are explained below, not printed by the framework.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	quietUsageErrors(app.Commands)
	app.OnUsageError = usageError
	return app
}

// usageError returns a usage mistake as an error (explained below) instead
// of letting urfave/cli print the help text to stdout.
func usageError(_ *cli.Context, err error, _ bool) error { return err }

func quietUsageErrors(commands []*cli.Command) {
	for _, c := range commands {
		c.OnUsageError = usageError
		quietUsageErrors(c.Subcommands)
	}
}
