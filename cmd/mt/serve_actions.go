package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/actions"
	"github.com/modelcommons/modelcommons/cli/launchspec"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/explain"
)

// serveActionsCommand is `mt serve-actions`: the Solana Actions endpoint
// (package actions) that lets contributors act from any wallet. It lives in
// the contributor's CLI, not the keeper: it shares the CLI's cluster
// configuration and account decoding, holds no key, and keeps building
// wallet transactions out of the operator's metering daemon.
func serveActionsCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve-actions",
		Usage: "serve Solana Actions (blinks) so contributors fund, claim, vote and trade from any wallet",
		Description: "Serves /actions.json and one action per model operation under /api/actions/models/<id>/…;\n" +
			"wallets POST their address and get an unsigned transaction to sign. The server holds no key.\n" +
			"Put it behind TLS and pass the public origin as --base-url: wallets only open https action URLs.",
		Flags: session.ReadFlags(
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "address to listen on (host:port; port 0 picks a free one)"},
			&cli.StringFlag{Name: "base-url", Usage: "public origin wallets reach this server at, e.g. https://actions.example.org (default: http://<listen address>)"},
			&cli.StringFlag{Name: "icon-url", Usage: "absolute URL of an SVG, PNG or WebP icon for every action (default: a generated badge per model)"},
			&cli.StringFlag{Name: session.FlagPriority, Aliases: []string{"priority-fee"}, Usage: "fixed compute-unit price in micro-lamports (default: the 75th percentile of recent fees on the accounts a transaction writes)"},
			&cli.Uint64Flag{Name: "max-compute-unit-price", Value: 1_000_000, Usage: "cap on the automatic compute-unit price, in micro-lamports"},
			&cli.StringFlag{Name: "native-symbol", Usage: "name of the native token in messages (default: its on-mint symbol, else \"native tokens\")"},
			&cli.StringFlag{Name: "review-secret-file", Usage: "file holding the secret (at least 32 bytes) that salts bounty reviews committed through the actions; keep it until their reveal window ends (default: no review actions)"},
			&cli.StringSliceFlag{Name: "allowlist", Usage: "<model-id>=<wallets file>: the published allowlist of a restricted crowdfund (repeatable)"},
		),
		Action: runServeActions,
	}
}

func runServeActions(c *cli.Context) error {
	s, err := session.FromContext(c)
	if err != nil {
		return err
	}
	if c.Args().Len() > 0 {
		return explain.Newf("serve-actions takes flags only; see --help", "unexpected argument(s) %q", c.Args().Slice())
	}
	cfg := actions.Config{
		RPC: s.RPC, Commitment: s.Config.Commitment,
		IconURL: c.String("icon-url"), MaxComputeUnitPrice: c.Uint64("max-compute-unit-price"),
		NativeSymbol: c.String("native-symbol"),
		Logger:       slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	if c.IsSet(session.FlagPriority) {
		price, err := session.ParseU64("--"+session.FlagPriority, c.String(session.FlagPriority))
		if err != nil {
			return err
		}
		cfg.ComputeUnitPrice = &price
	}
	if cfg.Allowlists, err = readAllowlists(c.StringSlice("allowlist")); err != nil {
		return err
	}
	if path := c.String("review-secret-file"); path != "" {
		secret, err := os.ReadFile(path)
		if err != nil {
			return explain.Wrap(err, fmt.Sprintf("cannot read --review-secret-file: %v", err), "write at least 32 random bytes to it, e.g. `head -c 32 /dev/urandom > review.secret`")
		}
		if len(secret) < actions.MinReviewSecret {
			return explain.Newf("write at least 32 random bytes to it, e.g. `head -c 32 /dev/urandom > review.secret`", "--review-secret-file %s holds %d bytes; at least %d", path, len(secret), actions.MinReviewSecret)
		}
		cfg.ReviewSecret = secret
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return explain.Wrap(err, fmt.Sprintf("cannot listen on %s: %v", c.String("listen"), err), "pick another --listen address (port 0 picks a free port)")
	}
	defer ln.Close()
	cfg.BaseURL = c.String("base-url")
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + reachable(ln.Addr())
	}
	srv, err := actions.New(c.Context, cfg)
	if err != nil {
		return explain.Wrap(err, err.Error(), "check --base-url, --icon-url and that --url reaches a running cluster")
	}
	fmt.Fprintf(c.App.Writer, "serving Solana Actions at %s/actions.json (listening on %s, cluster %s)\n", srv.BaseURL(), ln.Addr(), s.Config.URL)
	return srv.Serve(c.Context, ln)
}

// reachable is a listener's address as a client can dial it (an
// unspecified host becomes the loopback address).
func reachable(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}

// readAllowlists reads --allowlist <model-id>=<file> values.
func readAllowlists(values []string) (map[uint64][]solana.PublicKey, error) {
	out := map[uint64][]solana.PublicKey{}
	for _, v := range values {
		idText, path, ok := strings.Cut(v, "=")
		id, err := strconv.ParseUint(strings.TrimSpace(idText), 10, 64)
		if !ok || err != nil || strings.TrimSpace(path) == "" {
			return nil, explain.Newf("write it as <model-id>=<wallets file>, e.g. --allowlist 3=wallets.txt", "--allowlist %q is not <model-id>=<file>", v)
		}
		if _, dup := out[id]; dup {
			return nil, explain.Newf("give one allowlist per model", "--allowlist names model %d twice", id)
		}
		wallets, err := launchspec.ReadWallets(strings.TrimSpace(path))
		if err != nil {
			return nil, explain.Wrap(err, fmt.Sprintf("cannot use the allowlist of model %d: %v", id, err), "check the --allowlist file")
		}
		out[id] = wallets
	}
	return out, nil
}
