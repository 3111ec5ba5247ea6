// Package escrow is the `mt escrow` command group for API users: open an
// escrow (a new API key is generated and printed once; the escrow lives at
// the PDA of its SHA-256), deposit into it — after showing, and checking,
// who owns it, so an escrow opened first by someone else at a key's hash
// is never funded by mistake (DESIGN.md §2.2) — show it, request and
// take a withdrawal after the notice period, rotate the key, and close it.
package escrow

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/amount"
	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/explain"
	"github.com/modelcommons/modelcommons/cli/meter"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// EnvAPIKey names the environment variable that may hold the API key, so it
// need not appear on the command line.
const EnvAPIKey = "MT_API_KEY"

// MaxAllowedModels mirrors the program's limit.
const MaxAllowedModels = 8

// Command is `mt escrow`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "escrow",
		Usage: "pre-pay for inference: an escrow funded in native tokens, spent by the API key it was opened for",
		Description: "An escrow is named by its API key (mc_…), by the key in $" + EnvAPIKey + " or --key-file, or by its address.\n" +
			"Prefer $" + EnvAPIKey + " or --key-file: a key typed on the command line ends up in your shell history.",
		Subcommands: []*cli.Command{
			openCommand(), depositCommand(), showCommand(), requestWithdrawalCommand(), withdrawCommand(), rotateKeyCommand(), closeCommand(),
		},
	}
}

var keyFileFlag = func() cli.Flag {
	return &cli.StringFlag{Name: "key-file", Usage: "file holding the API key (instead of an argument or $" + EnvAPIKey + ")"}
}

// target resolves which escrow a command is about: the positional argument
// (an API key or an escrow address), else --key-file, else $MT_API_KEY.
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

// optionalArgs allows zero or one positional argument.
func optionalArgs(c *cli.Context, names ...string) ([]string, error) {
	got := c.Args().Slice()
	if len(got) == len(names) || len(got) == len(names)-1 {
		if len(got) == len(names)-1 {
			return append([]string{""}, got...), nil
		}
		return got, nil
	}
	return session.Args(c, names...)
}

// View is an escrow as the commands print it.
type View struct {
	Address       solana.PublicKey  `json:"address"`
	Owner         solana.PublicKey  `json:"owner"`
	Balance       amount.Tokens     `json:"balance"`
	Spent         amount.Tokens     `json:"spent"`
	Unpaid        amount.Tokens     `json:"unpaid"`
	SpendLimit    *amount.Tokens    `json:"spend_limit"`
	AllowedModels []uint64          `json:"allowed_models"`
	Withdrawal    *Withdrawal       `json:"withdrawal,omitempty"`
	RotatedTo     *solana.PublicKey `json:"rotated_to,omitempty"`
	OpenedAt      time.Time         `json:"opened_at"`

	// Set by open and rotate-key: the API key, shown this once.
	APIKey    string         `json:"api_key,omitempty"`
	Deposited *amount.Tokens `json:"deposited,omitempty"`
	Signature string         `json:"signature,omitempty"`
}

// Withdrawal is a pending withdrawal.
type Withdrawal struct {
	Amount      amount.Tokens `json:"amount"`
	RequestedAt time.Time     `json:"requested_at"`
	AvailableAt time.Time     `json:"available_at"`
}

// Text renders the view; an API key comes first, with a warning.
func (v View) Text() string {
	var b strings.Builder
	if v.APIKey != "" {
		fmt.Fprintf(&b, "API key: %s\n", v.APIKey)
		b.WriteString("  Store it now: it is shown only this once and cannot be recovered (only its hash is on chain).\n")
		b.WriteString("  Use it as the bearer token of any OpenAI client pointed at a keeper.\n\n")
	}
	models := "any model"
	if len(v.AllowedModels) > 0 {
		ids := make([]string, len(v.AllowedModels))
		for i, id := range v.AllowedModels {
			ids[i] = strconv.FormatUint(id, 10)
		}
		models = "models " + strings.Join(ids, ", ")
	}
	limit := "none"
	if v.SpendLimit != nil {
		limit = v.SpendLimit.String()
	}
	fs := output.Fields{
		{Label: "Escrow", Value: v.Address},
		{Label: "Owner", Value: v.Owner},
		{Label: "Balance", Value: v.Balance.String() + " native tokens"},
		{Label: "Spent", Value: fmt.Sprintf("%s (unpaid runs: %s)", v.Spent, v.Unpaid)},
		{Label: "Spend limit", Value: limit},
		{Label: "Pays for", Value: models},
		{Label: "Opened", Value: v.OpenedAt.Format(time.RFC3339)},
	}
	if v.Deposited != nil {
		fs = append(fs, output.Field{Label: "Deposited", Value: v.Deposited.String()})
	}
	if w := v.Withdrawal; w != nil {
		fs = append(fs, output.Field{Label: "Withdrawal", Value: fmt.Sprintf("%s requested at %s, available from %s",
			w.Amount, w.RequestedAt.Format(time.RFC3339), w.AvailableAt.Format(time.RFC3339))})
	}
	if v.RotatedTo != nil {
		fs = append(fs, output.Field{Label: "Rotated to", Value: v.RotatedTo.String() + " (this key no longer works; its balance moved there)"})
	}
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	b.WriteString(fs.Text())
	return b.String()
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

// viewed is the result of a command that changed the escrow at addr: the
// escrow as it is now, with the signature and what set adds.
func (x *env) viewed(c *cli.Context, addr solana.PublicKey, set func(*View)) func(solana.Signature) (any, error) {
	return func(sig solana.Signature) (any, error) {
		v, _, err := x.view(c, addr)
		v.Signature = sig.String()
		if set != nil {
			set(&v)
		}
		return v, err
	}
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

func (x *env) view(c *cli.Context, addr solana.PublicKey) (View, *im.Escrow, error) {
	e, err := x.Reader.Escrow(c.Context, addr)
	if err != nil {
		return View{}, nil, err
	}
	v := View{
		Address: addr, Owner: e.Owner, Balance: x.Native(e.Balance), Spent: x.Native(e.Spent), Unpaid: x.Native(e.Unpaid),
		AllowedModels: e.AllowedModels, RotatedTo: e.RotatedTo, OpenedAt: time.Unix(e.OpenedAt, 0).UTC(),
	}
	if v.AllowedModels == nil {
		v.AllowedModels = []uint64{}
	}
	if e.SpendLimit != nil {
		l := x.Native(*e.SpendLimit)
		v.SpendLimit = &l
	}
	if e.WithdrawalRequestedAt != 0 {
		v.Withdrawal = &Withdrawal{
			Amount:      x.Native(e.WithdrawalAmount),
			RequestedAt: time.Unix(e.WithdrawalRequestedAt, 0).UTC(),
			AvailableAt: time.Unix(e.WithdrawalRequestedAt+x.Meter.WithdrawalNoticeSecs, 0).UTC(),
		}
	}
	return v, e, nil
}

func (x *env) labels(addr solana.PublicKey) map[solana.PublicKey]string {
	return map[solana.PublicKey]string{addr: "escrow", pda.Meter(): "meter", pda.EscrowVault(): "escrow vault (all escrows' funds)", x.Meter.NativeMint: "native mint"}
}

// depositIx builds deposit_escrow from the signer's native token account.
func (x *env) depositIx(depositor, escrow, expectedOwner solana.PublicKey, units uint64) (solana.Instruction, solana.PublicKey, error) {
	source := tokens.ATA(depositor, x.Meter.NativeMint, x.Meter.NativeTokenProgram)
	ix, err := im.NewDepositEscrowInstruction(units, expectedOwner, depositor, escrow, pda.Meter(), pda.EscrowVault(), source,
		x.Meter.NativeMint, x.Meter.NativeTokenProgram, pda.EventAuthority(im.ProgramID), im.ProgramID)
	if err != nil {
		return nil, source, fmt.Errorf("build deposit_escrow: %w", err)
	}
	return ix, source, nil
}

func (x *env) requireBalance(c *cli.Context, source solana.PublicKey, units uint64) error {
	bal, err := x.Reader.TokenBalance(c.Context, source)
	if err != nil {
		return err
	}
	if bal < units {
		return explain.Newf("get native tokens into that account first, or deposit less",
			"depositing %s native tokens needs them in your native token account %s, which holds %s", x.Native(units), source, x.Native(bal))
	}
	return nil
}

func openCommand() *cli.Command {
	return &cli.Command{
		Name:  "open",
		Usage: "open an escrow for a new API key (printed once), optionally restricted to some models or a spend limit, and fund it",
		Flags: session.WriteFlags(
			&cli.StringFlag{Name: "deposit", Usage: "native tokens to deposit in the same transaction"},
			&cli.StringFlag{Name: "allowed-models", Usage: "comma-separated model ids this key may pay for, at most 8 (default: any model)"},
			&cli.StringFlag{Name: "spend-limit", Usage: "most this key may ever spend, in native tokens (default: no limit)"},
			&cli.StringFlag{Name: "key-out", Usage: "also write the API key to this file (mode 0600; must not exist)"},
		),
		Action: func(c *cli.Context) error {
			x, err := load(c)
			if err != nil {
				return err
			}
			if _, err := session.Args(c); err != nil {
				return err
			}
			owner, err := x.Session.Signer()
			if err != nil {
				return err
			}
			var args im.OpenEscrowArgs
			f := session.Settings{C: c}
			if s := c.String("allowed-models"); c.IsSet("allowed-models") {
				var ids []uint64
				for _, part := range strings.Split(s, ",") {
					id, err := strconv.ParseUint(strings.TrimSpace(part), 10, 64)
					if err != nil {
						f.Problems.Addf("--allowed-models: %q is not a model id", part)
						continue
					}
					ids = append(ids, id)
				}
				if len(ids) == 0 {
					f.Problems.Add("--allowed-models is empty: no run could ever be paid; leave it out to allow every model")
				}
				if len(ids) > MaxAllowedModels {
					f.Problems.Addf("--allowed-models lists %d models; at most %d", len(ids), MaxAllowedModels)
				}
				for _, id := range ids {
					if _, err := x.Reader.Model(c.Context, id); err != nil {
						f.Problems.Addf("--allowed-models: there is no model %d", id)
					}
				}
				args.AllowedModels = &ids
			}
			if c.IsSet("spend-limit") {
				limit := f.Amount("spend-limit", 0, x.NativeDecimals, "native tokens")
				args.SpendLimit = &limit
			}
			var deposit uint64
			if c.IsSet("deposit") {
				if deposit, err = session.ParseAmount("--deposit", c.String("deposit"), x.NativeDecimals, "native tokens"); err != nil {
					f.Problems.Add(err.Error())
				} else if deposit == 0 {
					f.Problems.Add("--deposit must be more than 0 (leave it out to open an empty escrow)")
				}
			}
			keyOut := c.String("key-out")
			if keyOut != "" {
				if _, err := os.Stat(keyOut); err == nil {
					f.Problems.Addf("--key-out %s already exists; refusing to overwrite a key", keyOut)
				}
			}
			if err := f.Problems.Err(); err != nil {
				return err
			}

			key, err := apikey.Generate()
			if err != nil {
				return err
			}
			keySigner := apikey.Signer(key)
			addr := pda.Escrow(keySigner.PublicKey())
			ix, err := im.NewOpenEscrowInstruction(args, owner.PublicKey(), keySigner.PublicKey(), addr, solana.SystemProgramID, pda.EventAuthority(im.ProgramID), im.ProgramID)
			if err != nil {
				return fmt.Errorf("build open_escrow: %w", err)
			}
			ixs := []solana.Instruction{ix}
			if deposit > 0 {
				// Safe in the same transaction: the escrow was just created by this signer.
				dix, source, err := x.depositIx(owner.PublicKey(), addr, owner.PublicKey(), deposit)
				if err != nil {
					return err
				}
				if err := x.requireBalance(c, source, deposit); err != nil {
					return err
				}
				ixs = append(ixs, dix)
			}
			if err := writeKey(keyOut, key, x.Session.DryRun); err != nil {
				return err
			}
			labels := x.labels(addr)
			labels[keySigner.PublicKey()] = "API key id (signs: proves you hold the key)"
			return x.Session.Submit(c.Context, session.Tx{What: "open an escrow", Instructions: ixs, Signers: []solana.PrivateKey{keySigner}, Labels: labels},
				x.viewed(c, addr, func(v *View) {
					v.APIKey = key
					if deposit > 0 {
						d := x.Native(deposit)
						v.Deposited = &d
					}
				}))
		},
	}
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print an escrow: owner, balance, spending, rules, pending withdrawal",
		ArgsUsage: "[<escrow address or API key>]",
		Flags:     session.ReadFlags(keyFileFlag()),
		Action: func(c *cli.Context) error {
			x, addr, _, err := loadTarget(c, "escrow")
			if err != nil {
				return err
			}
			v, _, err := x.view(c, addr)
			if err != nil {
				return err
			}
			return x.Session.Out.Print(v)
		},
	}
}

func depositCommand() *cli.Command {
	return &cli.Command{
		Name:      "deposit",
		Usage:     "fund an escrow; refuses unless the escrow's owner is the one expected (yourself, or --expected-owner)",
		ArgsUsage: "[<escrow address or API key>] <amount>",
		Flags: session.WriteFlags(keyFileFlag(),
			&cli.StringFlag{Name: "expected-owner", Usage: "the owner you expect the escrow to have (default: your keypair); to fund someone else's escrow"}),
		Action: func(c *cli.Context) error {
			x, addr, args, err := loadTarget(c, "escrow", "amount")
			if err != nil {
				return err
			}
			depositor, err := x.Session.Signer()
			if err != nil {
				return err
			}
			units, err := session.ParseAmountArg(args[0], x.NativeDecimals, "native tokens", "give the native tokens to deposit, e.g. 25")
			if err != nil {
				return err
			}
			expected := depositor.PublicKey()
			if c.IsSet("expected-owner") {
				if expected, err = session.ParsePubkey("--expected-owner", c.String("expected-owner")); err != nil {
					return err
				}
			}
			_, e, err := x.view(c, addr)
			if err != nil {
				return err
			}
			// The front-running defence: say who owns it before any deposit.
			x.Session.Note("escrow %s is owned by %s", addr, e.Owner)
			if !e.Owner.Equals(expected) {
				who := "you (" + expected.String() + ")"
				if c.IsSet("expected-owner") {
					who = expected.String()
				}
				return explain.Newf("do not deposit: someone may have opened an escrow at your key's hash first. Open a new one with `mt escrow open`; to fund someone else's escrow on purpose, pass --expected-owner <their address>",
					"escrow %s is owned by %s, not by %s", addr, e.Owner, who)
			}
			if e.RotatedTo != nil {
				return explain.Newf("deposit into the new escrow instead: `mt escrow deposit "+e.RotatedTo.String()+" ...`",
					"escrow %s's key was rotated; its balance moved to %s", addr, *e.RotatedTo)
			}
			ix, source, err := x.depositIx(depositor.PublicKey(), addr, expected, units)
			if err != nil {
				return err
			}
			if err := x.requireBalance(c, source, units); err != nil {
				return err
			}
			labels := x.labels(addr)
			labels[source] = "your native token account"
			return x.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("deposit %s into escrow %s (owner %s)", x.Native(units), addr, e.Owner), Instructions: []solana.Instruction{ix}, Labels: labels},
				x.viewed(c, addr, func(v *View) {
					d := x.Native(units)
					v.Deposited = &d
				}))
		},
	}
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

func requestWithdrawalCommand() *cli.Command {
	return &cli.Command{
		Name:      "request-withdrawal",
		Usage:     "announce a withdrawal (an amount, or all); take it with `escrow withdraw` after the notice period",
		ArgsUsage: "[<escrow address or API key>] <amount|all>",
		Flags:     session.WriteFlags(keyFileFlag()),
		Action: func(c *cli.Context) error {
			x, addr, args, err := loadTarget(c, "escrow", "amount")
			if err != nil {
				return err
			}
			e, owner, err := x.owned(c, addr)
			if err != nil {
				return err
			}
			units, err := session.ParseAmountOrAll(args[0], e.Balance, x.NativeDecimals, "native tokens")
			if err != nil {
				return err
			}
			if units == 0 {
				return explain.Newf("deposit first, or request a positive amount", "nothing to withdraw: the amount is zero (balance %s)", x.Native(e.Balance))
			}
			if units > e.Balance {
				return explain.Newf(fmt.Sprintf("request at most %s (or `all`)", x.Native(e.Balance)), "escrow %s holds %s, less than %s", addr, x.Native(e.Balance), x.Native(units))
			}
			ix, err := im.NewRequestWithdrawalInstruction(units, owner.PublicKey(), addr, pda.Meter(), pda.EventAuthority(im.ProgramID), im.ProgramID)
			if err != nil {
				return fmt.Errorf("build request_withdrawal: %w", err)
			}
			return x.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("request a withdrawal of %s from escrow %s", x.Native(units), addr), Instructions: []solana.Instruction{ix}, Labels: x.labels(addr)},
				x.viewed(c, addr, nil))
		},
	}
}

func withdrawCommand() *cli.Command {
	return &cli.Command{
		Name:      "withdraw",
		Usage:     "take a requested withdrawal once the notice period has passed",
		ArgsUsage: "[<escrow address or API key>]",
		Flags:     session.WriteFlags(keyFileFlag()),
		Action: func(c *cli.Context) error {
			x, addr, _, err := loadTarget(c, "escrow")
			if err != nil {
				return err
			}
			e, owner, err := x.owned(c, addr)
			if err != nil {
				return err
			}
			if e.WithdrawalRequestedAt == 0 {
				return explain.Newf("request one first: `mt escrow request-withdrawal <escrow> <amount|all>`", "no withdrawal is pending on escrow %s", addr)
			}
			now, err := x.Session.Now(c.Context)
			if err != nil {
				return err
			}
			available := e.WithdrawalRequestedAt + x.Meter.WithdrawalNoticeSecs
			if now.Unix() < available {
				return explain.Newf("try again then (runs already served may still settle until then)",
					"the withdrawal notice period (%s) ends at %s", duration.Format(x.Meter.WithdrawalNoticeSecs), time.Unix(available, 0).UTC().Format(time.RFC3339))
			}
			dest := tokens.ATA(owner.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram)
			ix, err := im.NewWithdrawEscrowInstruction(owner.PublicKey(), addr, pda.Meter(), pda.EscrowVault(), dest, x.Meter.NativeMint,
				x.Meter.NativeTokenProgram, pda.EventAuthority(im.ProgramID), im.ProgramID)
			if err != nil {
				return fmt.Errorf("build withdraw_escrow: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(owner.PublicKey(), owner.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram), ix}
			labels := x.labels(addr)
			labels[dest] = "your native token account"
			before := e.Balance
			return x.Session.Submit(c.Context, session.Tx{What: "withdraw from escrow " + addr.String(), Instructions: ixs, Labels: labels},
				func(sig solana.Signature) (any, error) {
					v, after, err := x.view(c, addr)
					if err != nil {
						return nil, err
					}
					w := x.Native(before - after.Balance)
					return struct {
						View
						Withdrawn amount.Tokens `json:"withdrawn"`
					}{View: withSig(v, sig), Withdrawn: w}, nil
				})
		},
	}
}

func withSig(v View, sig solana.Signature) View { v.Signature = sig.String(); return v }

func rotateKeyCommand() *cli.Command {
	return &cli.Command{
		Name:      "rotate-key",
		Usage:     "replace an escrow's API key (e.g. after a leak): a new key is printed once and the balance and rules move to its escrow",
		ArgsUsage: "[<escrow address or old API key>]",
		Flags:     session.WriteFlags(keyFileFlag(), &cli.StringFlag{Name: "key-out", Usage: "also write the new API key to this file (mode 0600; must not exist)"}),
		Action: func(c *cli.Context) error {
			x, addr, _, err := loadTarget(c, "escrow")
			if err != nil {
				return err
			}
			_, owner, err := x.owned(c, addr)
			if err != nil {
				return err
			}
			keyOut := c.String("key-out")
			if keyOut != "" {
				if _, err := os.Stat(keyOut); err == nil {
					return explain.Newf("choose another path", "--key-out %s already exists; refusing to overwrite a key", keyOut)
				}
			}
			key, err := apikey.Generate()
			if err != nil {
				return err
			}
			keySigner := apikey.Signer(key)
			newAddr := pda.Escrow(keySigner.PublicKey())
			ix, err := im.NewRotateKeyInstruction(owner.PublicKey(), addr, keySigner.PublicKey(), newAddr, solana.SystemProgramID, pda.EventAuthority(im.ProgramID), im.ProgramID)
			if err != nil {
				return fmt.Errorf("build rotate_key: %w", err)
			}
			if err := writeKey(keyOut, key, x.Session.DryRun); err != nil {
				return err
			}
			labels := x.labels(addr)
			labels[newAddr] = "new escrow (new key)"
			labels[keySigner.PublicKey()] = "new API key id (signs: proves you hold the key)"
			return x.Session.Submit(c.Context, session.Tx{What: "rotate the key of escrow " + addr.String(), Instructions: []solana.Instruction{ix}, Signers: []solana.PrivateKey{keySigner}, Labels: labels},
				x.viewed(c, newAddr, func(v *View) { v.APIKey = key }))
		},
	}
}

func closeCommand() *cli.Command {
	return &cli.Command{
		Name:      "close",
		Usage:     "close an empty escrow and get its rent back",
		ArgsUsage: "[<escrow address or API key>]",
		Flags:     session.WriteFlags(keyFileFlag()),
		Action: func(c *cli.Context) error {
			x, addr, _, err := loadTarget(c, "escrow")
			if err != nil {
				return err
			}
			owner, err := x.Session.Signer()
			if err != nil {
				return err
			}
			e, err := x.Reader.Escrow(c.Context, addr)
			if err != nil {
				return err
			}
			if !e.Owner.Equals(owner.PublicKey()) {
				return explain.Newf("sign with the owner's keypair (--keypair)", "escrow %s is owned by %s, not by you", addr, e.Owner)
			}
			if e.Balance > 0 {
				return explain.Newf("withdraw it first: `mt escrow request-withdrawal <escrow> all`, then `mt escrow withdraw` after the notice period",
					"escrow %s still holds %s", addr, x.Native(e.Balance))
			}
			ix, err := im.NewCloseEscrowInstruction(owner.PublicKey(), addr, pda.Meter(), pda.EventAuthority(im.ProgramID), im.ProgramID)
			if err != nil {
				return fmt.Errorf("build close_escrow: %w", err)
			}
			return x.Session.Submit(c.Context, session.Tx{What: "close escrow " + addr.String(), Instructions: []solana.Instruction{ix}, Labels: x.labels(addr)},
				func(sig solana.Signature) (any, error) {
					return closed{Escrow: addr, Signature: sig.String()}, nil
				})
		},
	}
}

type closed struct {
	Escrow    solana.PublicKey `json:"closed"`
	Signature string           `json:"signature"`
}

func (c closed) Text() string {
	return output.Fields{{Label: "Closed", Value: c.Escrow}, {Label: "Signature", Value: c.Signature}}.Text()
}
