// Package node is the `mt node` command group for node operators: register
// a node with stake, a keeper hot key (which can only settle) and an
// endpoint; add stake; unbond and withdraw the stake after the unbonding
// period; replace the keeper key or the endpoint; deactivate and
// reactivate; and show a node with its counters.
package node

import (
	"fmt"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/meter"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// MaxEndpointLen is the program's MAX_ENDPOINT_LEN (generated from the IDL).
const MaxEndpointLen = int(im.MAX_ENDPOINT_LEN)

// Command is `mt node`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "node",
		Usage: "run a node: stake, keeper key, endpoint (node operators)",
		Subcommands: []*cli.Command{
			registerCommand(), stakeCommand(), unbondCommand(), withdrawCommand(), setKeeperCommand(), setEndpointCommand(),
			activateCommand(), deactivateCommand(), showCommand(),
		},
	}
}

// View is a node as the commands print it.
type View struct {
	Address         solana.PublicKey `json:"address"`
	Operator        solana.PublicKey `json:"operator"`
	Keeper          solana.PublicKey `json:"keeper"`
	Status          string           `json:"status"`
	Stake           amount.Tokens    `json:"stake"`
	Endpoint        string           `json:"endpoint"`
	LastBatchSeq    uint64           `json:"last_batch_seq"`
	RegisteredAt    time.Time        `json:"registered_at"`
	UnbondingEndsAt *time.Time       `json:"unbonding_ends_at,omitempty"`
	Runs            uint64           `json:"runs"`
	InputTokens     uint64           `json:"input_tokens"`
	OutputTokens    uint64           `json:"output_tokens"`
	SettledValue    amount.Tokens    `json:"settled_value"`
	ShortfallValue  amount.Tokens    `json:"shortfall_value"`
	Batches         uint64           `json:"batches"`
	Disputes        uint64           `json:"disputes"`
	Slashed         amount.Tokens    `json:"slashed"`
	Withdrawn       *amount.Tokens   `json:"withdrawn,omitempty"`
	Signature       string           `json:"signature,omitempty"`
}

// Text renders the view.
func (v View) Text() string {
	status := v.Status
	if v.UnbondingEndsAt != nil {
		status += ", stake withdrawable from " + v.UnbondingEndsAt.Format(time.RFC3339)
	}
	fs := output.Fields{
		{Label: "Node", Value: v.Address},
		{Label: "Operator", Value: v.Operator},
		{Label: "Keeper key", Value: v.Keeper},
		{Label: "Status", Value: status},
		{Label: "Stake", Value: v.Stake.String() + " native tokens"},
		{Label: "Endpoint", Value: v.Endpoint},
		{Label: "Registered", Value: v.RegisteredAt.Format(time.RFC3339)},
		{Label: "Batches settled", Value: fmt.Sprintf("%d (last sequence %d)", v.Batches, v.LastBatchSeq)},
		{Label: "Runs", Value: fmt.Sprintf("%d (%d input, %d output tokens)", v.Runs, v.InputTokens, v.OutputTokens)},
		{Label: "Settled value", Value: fmt.Sprintf("%s (unpaid shortfall %s)", v.SettledValue.Labeled("native tokens"), v.ShortfallValue.Labeled("native tokens"))},
		{Label: "Slashed", Value: fmt.Sprintf("%s in %d disputes", v.Slashed.Labeled("native tokens"), v.Disputes)},
	}
	if v.Withdrawn != nil {
		fs = append(fs, output.Field{Label: "Withdrawn", Value: v.Withdrawn.Labeled("native tokens")})
	}
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	return fs.Text()
}

// env is what every command reads first.
type env struct{ *meter.Env }

// load reads the env and the command's positional arguments, one per name.
func load(c *cli.Context, names ...string) (*env, []string, error) {
	e, err := meter.LoadEnv(c)
	if err != nil {
		return nil, nil, err
	}
	args, err := session.Args(c, names...)
	if err != nil {
		return nil, nil, err
	}
	return &env{e}, args, nil
}

func (x *env) view(c *cli.Context, operator solana.PublicKey) (View, *im.Node, error) {
	n, err := x.Reader.Node(c.Context, operator)
	if err != nil {
		return View{}, nil, err
	}
	v := View{
		Address: pda.Node(operator), Operator: n.Operator, Keeper: n.Keeper, Status: strings.ToLower(n.Status.String()),
		Stake: x.Native(n.Stake), Endpoint: n.Endpoint, LastBatchSeq: n.LastBatchSeq, RegisteredAt: time.Unix(n.RegisteredAt, 0).UTC(),
		Runs: n.Counters.Runs, InputTokens: n.Counters.InputTokens, OutputTokens: n.Counters.OutputTokens,
		SettledValue: x.Native(n.Counters.SettledValue), ShortfallValue: x.Native(n.Counters.ShortfallValue),
		Batches: n.Counters.Batches, Disputes: n.Counters.Disputes, Slashed: x.Native(n.Counters.Slashed),
	}
	if n.Status == im.NodeStatus_Unbonding {
		t := time.Unix(n.UnbondingStartedAt+x.Meter.UnbondingSecs, 0).UTC()
		v.UnbondingEndsAt = &t
	}
	return v, n, nil
}

func (x *env) labels(operator solana.PublicKey) map[solana.PublicKey]string {
	return map[solana.PublicKey]string{pda.Node(operator): "node", pda.Meter(): "meter", pda.StakeVault(): "stake vault (all nodes' stake)", x.Meter.NativeMint: "native mint"}
}

func (x *env) submit(c *cli.Context, what string, operator solana.PublicKey, ixs []solana.Instruction, extra map[solana.PublicKey]string, after func(*View)) error {
	labels := x.labels(operator)
	for k, v := range extra {
		labels[k] = v
	}
	return x.Session.Submit(c.Context, session.Tx{What: what, Instructions: ixs, Labels: labels}, func(sig solana.Signature) (any, error) {
		v, _, err := x.view(c, operator)
		v.Signature = sig.String()
		if after != nil && err == nil {
			after(&v)
		}
		return v, err
	})
}

// mine reads the signer's node.
func (x *env) mine(c *cli.Context) (*im.Node, solana.PrivateKey, error) {
	op, err := x.Session.Signer()
	if err != nil {
		return nil, nil, err
	}
	n, err := x.Reader.Node(c.Context, op.PublicKey())
	if err != nil {
		return nil, nil, err
	}
	return n, op, nil
}

// keeperKey reads --keeper: an address or a keypair file.
func keeperKey(s string) (solana.PublicKey, error) {
	if k, err := solana.PublicKeyFromBase58(strings.TrimSpace(s)); err == nil {
		return k, nil
	}
	key, err := cluster.LoadKeypair(s)
	if err != nil {
		return solana.PublicKey{}, explain.Wrap(err, fmt.Sprintf("--keeper %q is neither an address nor a readable keypair file", s), "pass the keeper's public key or its keypair file")
	}
	return key.PublicKey(), nil
}

func checkEndpoint(e string) string {
	if e == "" || len(e) > MaxEndpointLen {
		return fmt.Sprintf("--endpoint must be 1 to %d bytes, is %d", MaxEndpointLen, len(e))
	}
	for _, b := range []byte(e) {
		if b < 0x21 || b >= 0x7f {
			return "--endpoint must be printable ASCII without spaces"
		}
	}
	return ""
}

func (x *env) requireFunds(c *cli.Context, source solana.PublicKey, units uint64) error {
	bal, err := x.Reader.TokenBalance(c.Context, source)
	if err != nil {
		return err
	}
	if bal < units {
		return explain.Newf("get native tokens into that account first", "staking %s native tokens needs them in your native token account %s, which holds %s native tokens", x.Native(units), source, x.Native(bal))
	}
	return nil
}

func registerCommand() *cli.Command {
	return &cli.Command{
		Name:  "register",
		Usage: "register your node: stake (at least the meter's minimum), keeper hot key and endpoint",
		Flags: session.WriteFlags(
			&cli.StringFlag{Name: "keeper", Usage: "the keeper daemon's hot key: an address or a keypair file (it can only settle)"},
			&cli.StringFlag{Name: "endpoint", Usage: "where the keeper serves requests, e.g. https://node.example/v1"},
			&cli.StringFlag{Name: "stake", Usage: "native tokens to stake"},
		),
		Action: func(c *cli.Context) error {
			x, _, err := load(c)
			if err != nil {
				return err
			}
			op, err := x.Session.Signer()
			if err != nil {
				return err
			}
			if ok, err := x.Reader.Exists(c.Context, pda.Node(op.PublicKey())); err != nil {
				return err
			} else if ok {
				return explain.New("your node is already registered", "see it with `mt node show`; change it with `mt node stake`, `set-keeper` or `set-endpoint`")
			}
			var problems explain.Problems
			for _, f := range []string{"keeper", "endpoint", "stake"} {
				if !c.IsSet(f) {
					problems.Add("--" + f + " is required")
				}
			}
			if err := problems.Err(); err != nil {
				return err
			}
			keeper, err := keeperKey(c.String("keeper"))
			if err != nil {
				problems.Add(err.Error())
			} else if keeper.IsZero() {
				problems.Add("--keeper must be a real public key")
			}
			endpoint := c.String("endpoint")
			if p := checkEndpoint(endpoint); p != "" {
				problems.Add(p)
			}
			stake, err := session.ParseAmount("--stake", c.String("stake"), x.NativeDecimals, "native tokens")
			if err != nil {
				problems.Add(err.Error())
			} else if stake < x.Meter.MinNodeStake || stake == 0 {
				problems.Addf("--stake %s is below the meter's minimum node stake %s", x.Native(stake), x.Native(x.Meter.MinNodeStake))
			}
			if err := problems.Err(); err != nil {
				return err
			}
			source := tokens.ATA(op.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram)
			if err := x.requireFunds(c, source, stake); err != nil {
				return err
			}
			ix, err := ix.RegisterNode(op.PublicKey(), source, ix.MeterNativeOf(x.Meter), im.RegisterNodeArgs{Keeper: keeper, Endpoint: endpoint, Stake: stake})
			if err != nil {
				return fmt.Errorf("build register_node: %w", err)
			}
			return x.submit(c, "register a node", op.PublicKey(), []solana.Instruction{ix}, map[solana.PublicKey]string{source: "your native token account"}, nil)
		},
	}
}

func stakeCommand() *cli.Command {
	return &cli.Command{
		Name:      "stake",
		Usage:     "add stake to your node",
		ArgsUsage: "<amount>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			x, args, err := load(c, "amount")
			if err != nil {
				return err
			}
			n, op, err := x.mine(c)
			if err != nil {
				return err
			}
			if n.Status == im.NodeStatus_Unbonding {
				return explain.New("your node is unbonding: it cannot take more stake", "withdraw the stake after the unbonding period (`mt node withdraw`) and register again")
			}
			units, err := session.ParseAmountArg(args[0], x.NativeDecimals, "native tokens", "give the native tokens to add, e.g. 100")
			if err != nil {
				return err
			}
			source := tokens.ATA(op.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram)
			if err := x.requireFunds(c, source, units); err != nil {
				return err
			}
			ix, err := ix.AddStake(op.PublicKey(), source, ix.MeterNativeOf(x.Meter), units)
			if err != nil {
				return fmt.Errorf("build add_stake: %w", err)
			}
			return x.submit(c, "add "+x.Native(units).String()+" stake", op.PublicKey(), []solana.Instruction{ix}, map[solana.PublicKey]string{source: "your native token account"}, nil)
		},
	}
}

func unbondCommand() *cli.Command {
	return &cli.Command{
		Name:  "unbond",
		Usage: "stop your node and start the unbonding period of its stake",
		Flags: session.WriteFlags(),
		Action: func(c *cli.Context) error {
			x, _, err := load(c)
			if err != nil {
				return err
			}
			n, op, err := x.mine(c)
			if err != nil {
				return err
			}
			if n.Status == im.NodeStatus_Unbonding {
				ends := time.Unix(n.UnbondingStartedAt+x.Meter.UnbondingSecs, 0).UTC()
				return explain.Newf("withdraw it then with `mt node withdraw`", "your node is already unbonding; the stake is withdrawable from %s", ends.Format(time.RFC3339))
			}
			ix, err := ix.BeginUnbonding(op.PublicKey())
			if err != nil {
				return fmt.Errorf("build begin_unbonding: %w", err)
			}
			x.Session.Note("note: the node stops settling now; its stake can be withdrawn after %s", duration.Format(x.Meter.UnbondingSecs))
			return x.submit(c, "begin unbonding", op.PublicKey(), []solana.Instruction{ix}, nil, nil)
		},
	}
}

func withdrawCommand() *cli.Command {
	return &cli.Command{
		Name:  "withdraw",
		Usage: "take your node's stake back after the unbonding period",
		Flags: session.WriteFlags(),
		Action: func(c *cli.Context) error {
			x, _, err := load(c)
			if err != nil {
				return err
			}
			n, op, err := x.mine(c)
			if err != nil {
				return err
			}
			if n.Status != im.NodeStatus_Unbonding {
				return explain.New("your node is not unbonding", "start the unbonding period first: `mt node unbond`")
			}
			now, err := x.Session.Now(c.Context)
			if err != nil {
				return err
			}
			ends := n.UnbondingStartedAt + x.Meter.UnbondingSecs
			if now.Unix() < ends {
				return explain.Newf("try again then", "the unbonding period (%s) ends at %s", duration.Format(x.Meter.UnbondingSecs), time.Unix(ends, 0).UTC().Format(time.RFC3339))
			}
			dest := tokens.ATA(op.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram)
			ix, err := ix.WithdrawStake(op.PublicKey(), dest, ix.MeterNativeOf(x.Meter))
			if err != nil {
				return fmt.Errorf("build withdraw_stake: %w", err)
			}
			ixs := []solana.Instruction{tokens.CreateATAIdempotent(op.PublicKey(), op.PublicKey(), x.Meter.NativeMint, x.Meter.NativeTokenProgram), ix}
			stake := n.Stake
			return x.submit(c, "withdraw the stake", op.PublicKey(), ixs, map[solana.PublicKey]string{dest: "your native token account"}, func(v *View) {
				w := x.Native(stake - v.Stake.Base)
				v.Withdrawn = &w
			})
		},
	}
}

func setKeeperCommand() *cli.Command {
	return &cli.Command{
		Name:      "set-keeper",
		Usage:     "replace your node's keeper hot key (the old key can no longer settle)",
		ArgsUsage: "<keeper address or keypair file>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			x, args, err := load(c, "keeper")
			if err != nil {
				return err
			}
			keeper, err := keeperKey(args[0])
			if err != nil {
				return err
			}
			if keeper.IsZero() {
				return explain.New("the keeper key must be a real public key", "pass the keeper's address or keypair file")
			}
			n, op, err := x.mine(c)
			if err != nil {
				return err
			}
			if n.Keeper.Equals(keeper) {
				return explain.Newf("nothing to change", "%s is already your node's keeper key", keeper)
			}
			ix, err := ix.SetKeeperKey(op.PublicKey(), keeper)
			if err != nil {
				return fmt.Errorf("build set_keeper_key: %w", err)
			}
			x.Session.Note("note: restart the keeper with the new key; batches signed by %s will be refused", n.Keeper)
			return x.submit(c, "set the keeper key to "+keeper.String(), op.PublicKey(), []solana.Instruction{ix}, nil, nil)
		},
	}
}

func setEndpointCommand() *cli.Command {
	return &cli.Command{
		Name:      "set-endpoint",
		Usage:     "publish a new endpoint for your node",
		ArgsUsage: "<url>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			x, args, err := load(c, "url")
			if err != nil {
				return err
			}
			if p := checkEndpoint(args[0]); p != "" {
				return explain.New(strings.Replace(p, "--endpoint", "the endpoint", 1), "give a URL such as https://node.example/v1")
			}
			_, op, err := x.mine(c)
			if err != nil {
				return err
			}
			ix, err := ix.SetEndpoint(op.PublicKey(), args[0])
			if err != nil {
				return fmt.Errorf("build set_endpoint: %w", err)
			}
			return x.submit(c, "set the endpoint", op.PublicKey(), []solana.Instruction{ix}, nil, nil)
		},
	}
}

func activateCommand() *cli.Command {
	return &cli.Command{
		Name:  "activate",
		Usage: "let your inactive node settle again (needs at least the minimum stake)",
		Flags: session.WriteFlags(),
		Action: func(c *cli.Context) error {
			x, _, err := load(c)
			if err != nil {
				return err
			}
			n, op, err := x.mine(c)
			if err != nil {
				return err
			}
			switch n.Status {
			case im.NodeStatus_Active:
				return explain.New("your node is already active", "nothing to do")
			case im.NodeStatus_Unbonding:
				return explain.New("your node is unbonding and cannot be reactivated", "withdraw the stake after the unbonding period and register again")
			}
			if n.Stake < x.Meter.MinNodeStake {
				return explain.Newf("add stake first: `mt node stake <amount>`", "your stake %s is below the minimum %s", x.Native(n.Stake), x.Native(x.Meter.MinNodeStake))
			}
			ix, err := ix.ActivateNode(op.PublicKey())
			if err != nil {
				return fmt.Errorf("build activate_node: %w", err)
			}
			return x.submit(c, "activate the node", op.PublicKey(), []solana.Instruction{ix}, nil, nil)
		},
	}
}

func deactivateCommand() *cli.Command {
	return &cli.Command{
		Name:  "deactivate",
		Usage: "stop your node from settling, keeping its stake",
		Flags: session.WriteFlags(),
		Action: func(c *cli.Context) error {
			x, _, err := load(c)
			if err != nil {
				return err
			}
			n, op, err := x.mine(c)
			if err != nil {
				return err
			}
			if n.Status != im.NodeStatus_Active {
				return explain.Newf("nothing to do", "your node is not active (%s)", strings.ToLower(n.Status.String()))
			}
			ix, err := ix.DeactivateNode(op.PublicKey())
			if err != nil {
				return fmt.Errorf("build deactivate_node: %w", err)
			}
			return x.submit(c, "deactivate the node", op.PublicKey(), []solana.Instruction{ix}, nil, nil)
		},
	}
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print a node (default: your keypair's)",
		ArgsUsage: "[<operator address>]",
		Flags:     session.ReadFlags(),
		Action: func(c *cli.Context) error {
			e, err := meter.LoadEnv(c)
			if err != nil {
				return err
			}
			x := env{e}
			var operator solana.PublicKey
			switch c.NArg() {
			case 0:
				k, err := x.Session.Signer()
				if err != nil {
					return err
				}
				operator = k.PublicKey()
			case 1:
				if operator, err = session.ParsePubkey("operator", c.Args().First()); err != nil {
					return err
				}
			default:
				_, err := session.Args(c, "operator")
				return err
			}
			v, _, err := x.view(c, operator)
			if err != nil {
				return err
			}
			return x.Session.Out.Print(v)
		},
	}
}
