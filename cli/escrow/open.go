package escrow

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/apikey"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// parseAllowedModels reads --allowed-models into problems-checked ids.
func (x *env) parseAllowedModels(c *cli.Context, f *session.Settings) *[]uint64 {
	if !c.IsSet("allowed-models") {
		return nil
	}
	var ids []uint64
	for _, part := range strings.Split(c.String("allowed-models"), ",") {
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
	return &ids
}

func openCommand() *cli.Command {
	return &cli.Command{
		Name:  "open",
		Usage: "open an escrow for a new API key (printed once), optionally restricted to some models or a spend limit, fund it and allow a node to spend it",
		Description: "With --deposit and --node, one transaction opens the escrow, deposits and puts the deposit in the node's lane:\n" +
			"the node (and only it) can then charge the key's runs. This replaces the old \"deposit, then use any node\":\n" +
			"money is spendable only by the nodes you name. Without --node the deposit stays unallocated until `mt escrow allow`.",
		Flags: session.WriteFlags(
			&cli.StringFlag{Name: "deposit", Usage: "native tokens to deposit in the same transaction"},
			nodeFlag(),
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
			args.AllowedModels = x.parseAllowedModels(c, &f)
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
			if c.IsSet("node") && args.SpendLimit != nil && deposit > *args.SpendLimit {
				f.Problems.Addf("--deposit %s is more than --spend-limit %s: a node's lane can hold at most the spend limit (deposit at most the limit, or leave out --node and allow part later)",
					x.Native(deposit), x.Native(*args.SpendLimit))
			}
			if err := f.Problems.Err(); err != nil {
				return err
			}
			var node solana.PublicKey
			if c.IsSet("node") {
				addr, n, err := resolveNode(c.Context, x.Reader.Raw, c.String("node"))
				if err != nil {
					return err
				}
				node = addr
				x.Session.Note("allowing %s", describeNode(addr, n))
			}

			key, err := apikey.Generate()
			if err != nil {
				return err
			}
			keySigner := apikey.Signer(key)
			addr := pda.Escrow(keySigner.PublicKey())
			ix, err := ix.OpenEscrow(owner.PublicKey(), keySigner.PublicKey(), args)
			if err != nil {
				return fmt.Errorf("build open_escrow: %w", err)
			}
			ixs := []solana.Instruction{ix}
			labels := x.labels(addr)
			labels[keySigner.PublicKey()] = "API key id (signs: proves you hold the key)"
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
				labels[source] = "your native token account"
			}
			if !node.IsZero() {
				// With no deposit this opens an empty lane, filled by later `deposit --node`.
				aix, err := allowIx(owner.PublicKey(), addr, node, deposit)
				if err != nil {
					return err
				}
				ixs = append(ixs, aix)
				labels[node] = "node (gets the lane)"
			}
			if err := writeKey(keyOut, key, x.Session.DryRun); err != nil {
				return err
			}
			return x.Session.Submit(c.Context, session.Tx{What: "open an escrow", Instructions: ixs, Signers: []solana.PrivateKey{keySigner}, Labels: labels},
				x.viewed(c, addr, func(v *View) {
					v.APIKey = key
					if deposit > 0 {
						d := x.Native(deposit)
						v.Deposited = &d
					}
					if !node.IsZero() {
						v.Allowed = &Allowance{Node: node, Amount: x.Native(deposit)}
					}
				}))
		},
	}
}
