// Package protocol is the `mt protocol` command group: the protocol admin
// initialises mt_treasury (optionally creating a fresh native token mint for
// a local chain or a demo), anyone shows it, and the mint authority of such
// a demo mint hands native tokens out.
package protocol

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/duration"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/accounts"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Command is `mt protocol`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "protocol",
		Usage: "the protocol's configuration: native token, fees, fee vault (admin)",
		Subcommands: []*cli.Command{
			initCommand(),
			showCommand(),
			updateCommand(),
			acceptAdminCommand(),
			withdrawFeesCommand(),
			mintNativeCommand(),
		},
	}
}

// View is the protocol as `protocol show` prints it.
type View struct {
	Address solana.PublicKey `json:"address"`
	Admin   solana.PublicKey `json:"admin"`
	// PendingAdmin is nominated by the admin and takes over with
	// `mt protocol accept-admin`.
	PendingAdmin         *solana.PublicKey `json:"pending_admin,omitempty"`
	NativeMint           solana.PublicKey  `json:"native_mint"`
	NativeTokenProgram   solana.PublicKey  `json:"native_token_program"`
	NativeDecimals       uint8             `json:"native_decimals"`
	FeeVault             solana.PublicKey  `json:"fee_vault"`
	FeeVaultBalance      amount.Tokens     `json:"fee_vault_balance"`
	SetupFee             amount.Tokens     `json:"setup_fee"`
	ProtocolFeeBps       uint16            `json:"protocol_fee_bps"`
	SwapFeeBps           uint16            `json:"swap_fee_bps"`
	SwapProtocolShareBps uint16            `json:"swap_protocol_share_bps"`
	MinPeriodSecs        int64             `json:"min_period_secs"`
	Paused               bool              `json:"paused"`
	ModelCount           uint64            `json:"model_count"`
	Signature            string            `json:"signature,omitempty"`
}

// Sign records the signature of the transaction that changed the protocol.
func (v *View) Sign(sig solana.Signature) { v.Signature = sig.String() }

// Text renders the view.
func (v View) Text() string {
	fs := output.Fields{
		{Label: "Protocol", Value: v.Address},
		{Label: "Admin", Value: v.Admin},
	}
	if v.PendingAdmin != nil {
		fs = append(fs, output.Field{Label: "Nominated admin", Value: fmt.Sprintf("%s (takes over with `mt protocol accept-admin`)", v.PendingAdmin)})
	}
	fs = append(fs, output.Fields{
		{Label: "Native mint", Value: fmt.Sprintf("%s (%d decimals)", v.NativeMint, v.NativeDecimals)},
		{Label: "Fee vault", Value: fmt.Sprintf("%s (holds %s)", v.FeeVault, v.FeeVaultBalance.Labeled("native tokens"))},
		{Label: "Set-up fee", Value: v.SetupFee.Labeled("native tokens")},
		{Label: "Protocol fee", Value: bps(v.ProtocolFeeBps) + " of raise proceeds"},
		{Label: "Swap fee", Value: fmt.Sprintf("%s, of which %s to the protocol", bps(v.SwapFeeBps), bps(v.SwapProtocolShareBps))},
		{Label: "Minimum period", Value: duration.Format(v.MinPeriodSecs)},
		{Label: "Paused", Value: v.Paused},
		{Label: "Models launched", Value: v.ModelCount},
	}...)
	if v.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: v.Signature})
	}
	return fs.Text()
}

func bps(b uint16) string {
	return fmt.Sprintf("%d bps (%s%%)", b, amount.Format(uint64(b), 2))
}

// Load reads the protocol and its native mint.
func Load(ctx context.Context, r accounts.Reader) (View, error) {
	p, err := r.Protocol(ctx)
	if err != nil {
		return View{}, err
	}
	mint, err := r.Mint(ctx, p.NativeMint)
	if err != nil {
		return View{}, fmt.Errorf("read native mint: %w", err)
	}
	bal, err := r.TokenBalance(ctx, p.FeeVault)
	if err != nil {
		return View{}, err
	}
	d := mint.Decimals
	return View{
		Address: pda.Protocol(), Admin: p.Admin, PendingAdmin: p.PendingAdmin, NativeMint: p.NativeMint, NativeTokenProgram: p.NativeTokenProgram,
		NativeDecimals: d, FeeVault: p.FeeVault, FeeVaultBalance: amount.Of(bal, d),
		SetupFee: amount.Of(p.SetupFee, d), ProtocolFeeBps: p.ProtocolFeeBps, SwapFeeBps: p.SwapFeeBps,
		SwapProtocolShareBps: p.SwapProtocolShareBps, MinPeriodSecs: p.MinPeriodSecs, Paused: p.Paused, ModelCount: p.ModelCount,
	}, nil
}

func showCommand() *cli.Command {
	return &cli.Command{
		Name:   "show",
		Usage:  "print the protocol's configuration",
		Flags:  session.ReadFlags(),
		Action: session.Show(Load),
	}
}

// minPeriod reads --min-period, which must be positive.
func minPeriod(c *cli.Context, problems *explain.Problems) int64 {
	v, err := duration.ParseSeconds(c.String("min-period"))
	if err != nil {
		problems.Addf("--min-period: %v", err)
	} else if v <= 0 {
		problems.Add("--min-period must be longer than 0s")
	}
	return v
}

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create the protocol (once): native token, fees, fee vault; your keypair becomes the admin",
		Description: "Only the mt_treasury program's upgrade authority may run this: --keypair must be the key\n" +
			"recorded in the program's ProgramData account (on a real cluster, the key that deployed the\n" +
			"program; on the local chain, keys/localnet-upgrade-authority.json unless bin/localnet was\n" +
			"started with --upgrade-authority). The native mint must have no freeze authority (its\n" +
			"holder could freeze every vault); --create-native-mint creates one without.",
		Flags: session.WriteFlags(
			&cli.StringFlag{Name: "native-mint", Usage: "the native token's mint (SPL Token or plain Token-2022)"},
			&cli.BoolFlag{Name: "create-native-mint", Usage: "create a fresh native token mint, with your keypair as its mint authority (local chain, demos)"},
			&cli.UintFlag{Name: "decimals", Value: 6, Usage: "decimals of the mint --create-native-mint creates"},
			&cli.StringFlag{Name: "mint-keypair", Usage: "keypair file for the mint --create-native-mint creates (default: a new random one)"},
			&cli.StringFlag{Name: "setup-fee", Value: "0", Usage: "what a creator pays to launch a model, in native tokens (e.g. 5 or 0.5)"},
			&cli.Uint64Flag{Name: "protocol-fee-bps", Value: 250, Usage: "protocol cut of a successful raise, in basis points"},
			&cli.Uint64Flag{Name: "swap-fee-bps", Value: 30, Usage: "fee on every swap, in basis points of the native side"},
			&cli.Uint64Flag{Name: "swap-protocol-share-bps", Value: 5000, Usage: "part of the swap fee that goes to the protocol, in basis points"},
			&cli.StringFlag{Name: "min-period", Value: "1h", Usage: "shortest raise window, voting period, hold-up or notice period a model may choose (" + duration.Hint + ")"},
		),
		Action: runInit,
	}
}

func runInit(c *cli.Context) error {
	s, _, err := session.Start(c)
	if err != nil {
		return err
	}
	ctx := c.Context
	r := s.Reader()
	admin, err := s.Signer()
	if err != nil {
		return err
	}
	if ok, err := r.Exists(ctx, pda.Protocol()); err != nil {
		return err
	} else if ok {
		return explain.New("the protocol is already initialised on this cluster", "see it with `mt protocol show`")
	}
	if err := checkUpgradeAuthority(ctx, r, admin.PublicKey()); err != nil {
		return err
	}

	// Validate every flag before touching the chain further.
	f := session.Settings{C: c, Defaults: true}
	args := mt.InitProtocolArgs{
		ProtocolFeeBps:       f.Bps("protocol-fee-bps", 0),
		SwapFeeBps:           f.Bps("swap-fee-bps", 0),
		SwapProtocolShareBps: f.Bps("swap-protocol-share-bps", 0),
	}
	args.MinPeriodSecs = minPeriod(c, &f.Problems)
	create := c.Bool("create-native-mint")
	if create == c.IsSet("native-mint") {
		f.Problems.Add("give exactly one of --native-mint <mint> or --create-native-mint")
	}
	if c.Uint("decimals") > 18 {
		f.Problems.Add("--decimals must be at most 18")
	}

	var ixs []solana.Instruction
	var signers []solana.PrivateKey
	var mintKey solana.PublicKey
	var tokenProgram = solana.TokenProgramID
	var decimals uint8
	labels := map[solana.PublicKey]string{pda.Protocol(): "protocol (new)", pda.FeeVault(): "fee vault (new)"}
	if create && len(f.Problems) == 0 {
		decimals = uint8(c.Uint("decimals"))
		mint := solana.NewWallet().PrivateKey
		if path := c.String("mint-keypair"); path != "" {
			if mint, err = cluster.LoadKeypair(path); err != nil {
				return err
			}
		}
		if ok, err := r.Exists(ctx, mint.PublicKey()); err != nil {
			return err
		} else if ok {
			return explain.Newf("pass --native-mint instead, or another --mint-keypair", "an account already exists at the mint keypair's address %s", mint.PublicKey())
		}
		rent, err := s.RPC.GetMinimumBalanceForRentExemption(ctx, tokens.MintSize, rpc.CommitmentConfirmed)
		if err != nil {
			return fmt.Errorf("rent for a mint: %w", err)
		}
		mintKey = mint.PublicKey()
		ixs = append(ixs, tokens.CreateMint(admin.PublicKey(), mintKey, admin.PublicKey(), decimals, tokenProgram, rent)...)
		signers = append(signers, mint)
		labels[mintKey] = "native mint (new)"
	} else if len(f.Problems) == 0 {
		if mintKey, err = session.ParsePubkey("--native-mint", c.String("native-mint")); err != nil {
			return err
		}
		m, err := r.Mint(ctx, mintKey)
		if err != nil {
			return err
		}
		decimals, tokenProgram = m.Decimals, m.TokenProgram
		labels[mintKey] = "native mint"
		if m.HasFreezeAuthority {
			return explain.Newf("use a mint without a freeze authority (or `--create-native-mint`)",
				"the native mint %s has a freeze authority: its holder could freeze every vault, so the program refuses it", mintKey)
		}
	}
	if len(f.Problems) == 0 {
		if args.SetupFee, err = amount.Parse(c.String("setup-fee"), decimals); err != nil {
			f.Problems.Addf("--setup-fee: %v", err)
		}
	}
	if err := f.Problems.Err(); err != nil {
		return err
	}

	ix, err := ix.InitProtocol(admin.PublicKey(), mintKey, tokenProgram, args)
	if err != nil {
		return fmt.Errorf("build init_protocol: %w", err)
	}
	ixs = append(ixs, ix)
	return s.Submit(ctx, session.Tx{What: "initialise the protocol", Instructions: ixs, Signers: signers, Labels: labels},
		session.Reread(ctx, r, Load))
}

// checkUpgradeAuthority refuses, before sending, a keypair that is not the
// upgrade authority recorded in mt_treasury's ProgramData account
// (UpgradeableLoaderState::ProgramData: u32 tag 3, u64 slot, Option<Pubkey>).
func checkUpgradeAuthority(ctx context.Context, r accounts.Reader, admin solana.PublicKey) error {
	addr := pda.ProgramData(mt.ProgramID)
	data, owner, ok, err := r.Raw(ctx, addr)
	if err != nil {
		return err
	}
	if !ok || !owner.Equals(solana.BPFLoaderUpgradeableProgramID) || len(data) < 45 || binary.LittleEndian.Uint32(data[0:4]) != 3 {
		return explain.Newf("deploy mt_treasury with the upgradeable loader (the local chain creates its ProgramData itself: check --url)",
			"mt_treasury has no ProgramData account at %s on this cluster, so nobody can initialise the protocol", addr)
	}
	if data[12] != 1 {
		return explain.New("the program is immutable (no upgrade authority): the protocol can no longer be initialised",
			"redeploy the program with an upgrade authority")
	}
	authority := solana.PublicKeyFromBytes(data[13:45])
	if !authority.Equals(admin) {
		return explain.Newf("run it with --keypair set to the upgrade authority's keypair (local chain: keys/localnet-upgrade-authority.json)",
			"only mt_treasury's upgrade authority %s may initialise the protocol; your keypair is %s", authority, admin)
	}
	return nil
}

func withdrawFeesCommand() *cli.Command {
	return &cli.Command{
		Name:  "withdraw-fees",
		Usage: "pay native tokens out of the protocol fee vault (admin)",
		Description: "The fee vault collects set-up fees, raise fees, the protocol's part of swap fees, settlement\n" +
			"fees and slashed stake; only the admin can take them out. --amount all takes everything.",
		Flags: session.WriteFlags(
			&cli.StringFlag{Name: "amount", Required: true, Usage: "native tokens to withdraw (e.g. 12.5), or `all`"},
			&cli.StringFlag{Name: "to", Usage: "wallet whose associated native-token account receives them (created if missing; default: your keypair)"},
			&cli.StringFlag{Name: "to-account", Usage: "an existing native-token account to pay instead of --to's associated account"},
		),
		Action: runWithdrawFees,
	}
}

func runWithdrawFees(c *cli.Context) error {
	s, _, err := session.Start(c)
	if err != nil {
		return err
	}
	ctx := c.Context
	r := s.Reader()
	admin, err := s.Signer()
	if err != nil {
		return err
	}
	p, err := r.Protocol(ctx)
	if err != nil {
		return err
	}
	if !p.Admin.Equals(admin.PublicKey()) {
		return explain.Newf("run it with the admin's --keypair", "only the protocol admin %s may withdraw protocol fees; your keypair is %s", p.Admin, admin.PublicKey())
	}
	mint, err := r.Mint(ctx, p.NativeMint)
	if err != nil {
		return err
	}
	held, err := r.TokenBalance(ctx, p.FeeVault)
	if err != nil {
		return err
	}
	var amt uint64
	if c.String("amount") == "all" {
		amt = held
	} else if amt, err = amount.Parse(c.String("amount"), mint.Decimals); err != nil {
		return explain.Wrap(err, "--amount: "+err.Error(), "give native tokens like 12.5, or `all`")
	}
	if amt == 0 {
		return explain.New("nothing to withdraw (the amount is zero or the fee vault is empty)", "see the vault with `mt protocol show`")
	}
	if amt > held {
		return explain.Newf("withdraw at most what it holds", "the fee vault holds %s native tokens, less than %s native tokens", amount.Of(held, mint.Decimals), amount.Of(amt, mint.Decimals))
	}
	var ixs []solana.Instruction
	labels := map[solana.PublicKey]string{p.FeeVault: "protocol fee vault"}
	var dest solana.PublicKey
	if c.IsSet("to-account") {
		if c.IsSet("to") {
			return explain.New("give --to or --to-account, not both", "--to names a wallet, --to-account a token account")
		}
		if dest, err = session.ParsePubkey("--to-account", c.String("to-account")); err != nil {
			return err
		}
		if dest.Equals(p.FeeVault) {
			return explain.New("the destination is the fee vault itself", "name another account")
		}
	} else {
		wallet := admin.PublicKey()
		if c.IsSet("to") {
			if wallet, err = session.ParsePubkey("--to", c.String("to")); err != nil {
				return err
			}
		}
		dest = tokens.ATA(wallet, p.NativeMint, mint.TokenProgram)
		ixs = append(ixs, tokens.CreateATAIdempotent(admin.PublicKey(), wallet, p.NativeMint, mint.TokenProgram))
	}
	labels[dest] = "destination"
	ix, err := ix.WithdrawProtocolFees(admin.PublicKey(), dest, ix.Native{Mint: p.NativeMint, Program: mint.TokenProgram, FeeVault: p.FeeVault}, amt)
	if err != nil {
		return fmt.Errorf("build withdraw_protocol_fees: %w", err)
	}
	ixs = append(ixs, ix)
	return s.Submit(ctx, session.Tx{What: fmt.Sprintf("withdraw %s of protocol fees", amount.Of(amt, mint.Decimals)), Instructions: ixs, Labels: labels},
		session.Reread(ctx, r, Load))
}
