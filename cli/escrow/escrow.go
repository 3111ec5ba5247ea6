// Package escrow is the `mt escrow` command group for API users: open an
// escrow (a new API key is generated and printed once; the escrow lives at
// the PDA of the key's id), deposit into it — after showing, and checking,
// who owns it, so an escrow opened first by someone else is never funded by
// mistake (DESIGN.md §2.2) — open lanes to the nodes allowed to spend it
// (allow) and take them back after a notice (revoke), show it, request and
// take a withdrawal of the unallocated balance after the notice period,
// rotate the key, and close it.
//
// Deposited money is unallocated: no node can spend it until the owner
// moves some into a node's lane. A node settles only against its own lane,
// so whoever holds a node's keeper key can take at most the lanes opened to
// that node (DESIGN.md §6).
package escrow

import (
	"fmt"
	"os"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/meter"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// EnvAPIKey names the environment variable that may hold the API key, so it
// need not appear on the command line; the keeper's `receipts` reads the
// same one.
const EnvAPIKey = "MC_API_KEY"

// envAPIKeyOld is the name mt used before; still read, with a warning.
const envAPIKeyOld = "MT_API_KEY"

// MaxAllowedModels is the program's MAX_ALLOWED_MODELS (generated from the IDL).
const MaxAllowedModels = int(im.MAX_ALLOWED_MODELS)

// MaxLanes is the program's MAX_LANES (generated from the IDL): the most
// nodes one escrow can open lanes to at once.
const MaxLanes = int(im.MAX_LANES)

// Command is `mt escrow`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "escrow",
		Usage: "pre-pay for inference: an escrow funded in native tokens, spent by the API key it was opened for, through the nodes its owner allows",
		Description: "An escrow is named by its API key (mc_…), by the key in $" + EnvAPIKey + " or --key-file, or by its address.\n" +
			"Prefer $" + EnvAPIKey + " or --key-file: a key typed on the command line ends up in your shell history.\n\n" +
			"Deposits are unallocated: no node can spend them until you open a lane to it (`allow`, or --node on open/deposit).\n" +
			"A node can only take what its lane holds; `revoke` takes a lane back after the withdrawal notice.",
		Subcommands: []*cli.Command{
			openCommand(), depositCommand(), allowCommand(), revokeCommand(), showCommand(),
			requestWithdrawalCommand(), withdrawCommand(), rotateKeyCommand(), closeCommand(),
		},
	}
}

var keyFileFlag = func() cli.Flag {
	return &cli.StringFlag{Name: "key-file", Usage: "file holding the API key (instead of an argument or $" + EnvAPIKey + ")"}
}

// target resolves which escrow a command is about: the positional argument
// (an API key or an escrow address), else --key-file, else $MC_API_KEY
// (else the deprecated $MT_API_KEY).
func target(c *cli.Context, args []string) (solana.PublicKey, error) {
	arg := ""
	if len(args) > 0 {
		arg = strings.TrimSpace(args[0])
	}
	if arg == "" && c.String("key-file") != "" {
		data, err := os.ReadFile(c.String("key-file"))
		if err != nil {
			return solana.PublicKey{}, explain.Wrap(err, fmt.Sprintf("cannot read the key file: %v", err), "check --key-file")
		}
		arg = strings.TrimSpace(string(data))
	}
	if arg == "" {
		arg = strings.TrimSpace(os.Getenv(EnvAPIKey))
	}
	if arg == "" {
		if arg = strings.TrimSpace(os.Getenv(envAPIKeyOld)); arg != "" {
			fmt.Fprintf(c.App.ErrWriter, "warning: $%s is deprecated; set $%s instead\n", envAPIKeyOld, EnvAPIKey)
		}
	}
	return parseTarget(arg)
}

// parseTarget reads an escrow address or an API key.
func parseTarget(arg string) (solana.PublicKey, error) {
	switch {
	case arg == "":
		return solana.PublicKey{}, explain.New("which escrow? none was given",
			"pass the escrow's address or its API key, set $"+EnvAPIKey+", or use --key-file")
	case apikey.LooksLikeKey(arg):
		return pda.Escrow(apikey.ID(arg)), nil
	}
	addr, err := solana.PublicKeyFromBase58(arg)
	if err != nil {
		return solana.PublicKey{}, explain.Newf("pass an escrow address or an API key as `mt escrow open` printed it (mc_…)",
			"%q is neither an escrow address nor an API key", arg)
	}
	return addr, nil
}

// optionalArgs allows the first of names (the escrow) to be left out.
func optionalArgs(c *cli.Context, names ...string) ([]string, error) {
	got := c.Args().Slice()
	if len(got) == len(names)-1 {
		return append([]string{""}, got...), nil
	}
	if len(got) == len(names) {
		return got, nil
	}
	return session.Args(c, names...)
}

// env is what every command reads first.
type env struct{ *meter.Env }

func load(c *cli.Context) (*env, error) {
	e, err := meter.LoadEnv(c)
	if err != nil {
		return nil, err
	}
	return &env{e}, nil
}

// loadTarget reads the env and which escrow the command is about (see
// target), given as the optional first of the positional arguments names;
// rest are the others.
func loadTarget(c *cli.Context, names ...string) (x *env, addr solana.PublicKey, rest []string, err error) {
	if x, err = load(c); err != nil {
		return nil, solana.PublicKey{}, nil, err
	}
	args, err := optionalArgs(c, names...)
	if err != nil {
		return nil, solana.PublicKey{}, nil, err
	}
	if addr, err = target(c, args[:1]); err != nil {
		return nil, solana.PublicKey{}, nil, err
	}
	return x, addr, args[1:], nil
}

// owned reads the escrow and requires the signer to own it.
func (x *env) owned(c *cli.Context, addr solana.PublicKey) (*im.Escrow, solana.PrivateKey, error) {
	owner, err := x.Session.Signer()
	if err != nil {
		return nil, nil, err
	}
	e, err := x.Reader.Escrow(c.Context, addr)
	if err != nil {
		return nil, nil, err
	}
	if !e.Owner.Equals(owner.PublicKey()) {
		return nil, nil, explain.Newf("sign with the owner's keypair (--keypair)", "escrow %s is owned by %s, not by you (%s)", addr, e.Owner, owner.PublicKey())
	}
	if e.RotatedTo != nil {
		return nil, nil, explain.Newf("use the new escrow: "+e.RotatedTo.String(), "escrow %s's key was rotated; its balance moved to %s", addr, *e.RotatedTo)
	}
	return e, owner, nil
}

func (x *env) labels(addr solana.PublicKey) map[solana.PublicKey]string {
	return map[solana.PublicKey]string{addr: "escrow", pda.Meter(): "meter", pda.EscrowVault(): "escrow vault (all escrows' funds)", x.Meter.NativeMint: "native mint"}
}

// writeKey writes a new API key to --key-out before the transaction that
// creates its escrow is sent: a key whose escrow exists but was never seen
// would be lost.
func writeKey(path, key string, dryRun bool) error {
	if path == "" || dryRun {
		return nil
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return explain.Wrap(err, fmt.Sprintf("cannot write the key file: %v", err), "check --key-out; nothing was sent")
	}
	return nil
}
