// Package foundation_test proves the pipeline end to end: programs running
// in the local chain, transactions built with the generated clients and sent
// over JSON-RPC, accounts and events decoded, errors named.
package foundation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/events"
	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/programerr"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/localnet/golocal"
)

func newSender(c *golocal.Chain) *txsend.Sender {
	return txsend.New(txsend.Config{
		RPC: c.RPC,
		Errors: txsend.Tables{
			mt.ProgramID:    mt.Errors,
			meter.ProgramID: meter.Errors,
		},
		PollInterval: 50 * time.Millisecond,
	})
}

// createNativeMint makes an SPL Token mint with 6 decimals owned by admin.
func createNativeMint(ctx context.Context, t *testing.T, c *golocal.Chain, s *txsend.Sender, admin solana.PrivateKey) solana.PublicKey {
	t.Helper()
	mint := solana.NewWallet().PrivateKey
	rent, err := c.RPC.GetMinimumBalanceForRentExemption(ctx, tokens.MintSize, rpc.CommitmentConfirmed)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(ctx, txsend.Tx{
		Instructions: tokens.CreateMint(admin.PublicKey(), mint.PublicKey(), admin.PublicKey(), 6, solana.TokenProgramID, rent),
		Payer:        admin.PublicKey(),
		Signers:      []solana.PrivateKey{admin, mint},
	})
	if err != nil {
		t.Fatalf("create native mint: %v", err)
	}
	return mint.PublicKey()
}

func initProtocolIx(t *testing.T, admin, mint solana.PublicKey, args mt.InitProtocolArgs) solana.Instruction {
	t.Helper()
	ix, err := ix.InitProtocol(admin, mint, solana.TokenProgramID, args)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func initMeterIx(t *testing.T, admin, mint solana.PublicKey, args meter.InitMeterArgs) solana.Instruction {
	t.Helper()
	ix, err := ix.InitMeter(admin, ix.Native{Mint: mint, Program: solana.TokenProgramID}, args)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestProtocolRoundTripOverJSONRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := golocal.Start(t)
	s := newSender(c)
	admin, err := c.FundUpgradeAuthority(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	mint := createNativeMint(ctx, t, c, s, admin)

	args := mt.InitProtocolArgs{SetupFee: 5_000_000, ProtocolFeeBps: 250, SwapFeeBps: 30, SwapProtocolShareBps: 5_000, MinPeriodSecs: 1}
	sig, err := s.Send(ctx, txsend.Tx{
		Instructions: []solana.Instruction{initProtocolIx(t, admin.PublicKey(), mint, args)},
		Payer:        admin.PublicKey(),
		Signers:      []solana.PrivateKey{admin},
	})
	if err != nil {
		t.Fatalf("init_protocol: %v", err)
	}

	// The account, read back over RPC and decoded by the generated decoder.
	info, err := c.RPC.GetAccountInfo(ctx, pda.Protocol())
	if err != nil {
		t.Fatalf("read protocol: %v", err)
	}
	if !info.Value.Owner.Equals(mt.ProgramID) {
		t.Fatalf("protocol owned by %s, want %s", info.Value.Owner, mt.ProgramID)
	}
	protocol, err := mt.ParseAccount_Protocol(info.Value.Data.GetBinary())
	if err != nil {
		t.Fatalf("decode protocol: %v", err)
	}
	if !protocol.Admin.Equals(admin.PublicKey()) || !protocol.NativeMint.Equals(mint) || !protocol.FeeVault.Equals(pda.FeeVault()) {
		t.Errorf("protocol keys = %+v", protocol)
	}
	if protocol.SetupFee != args.SetupFee || protocol.ProtocolFeeBps != 250 || protocol.SwapFeeBps != 30 || protocol.ModelCount != 0 || protocol.Paused {
		t.Errorf("protocol values = %+v", protocol)
	}
	// The fee vault is a real SPL token account owned by the protocol PDA.
	vault, err := tokens.GetAccount(ctx, c.RPC, pda.FeeVault())
	if err != nil {
		t.Fatalf("fee vault: %v", err)
	}
	if !vault.Mint.Equals(mint) || !vault.Owner.Equals(pda.Protocol()) || vault.Amount != 0 {
		t.Errorf("fee vault = %+v", vault)
	}

	// The event, from the transaction's inner instructions.
	payloads, err := events.Fetch(ctx, c.RPC, sig, mt.ProgramID)
	if err != nil {
		t.Fatalf("fetch events: %v", err)
	}
	if len(payloads) != 1 {
		t.Fatalf("got %d events, want 1", len(payloads))
	}
	ev, err := mt.ParseEvent_ProtocolInitialized(payloads[0])
	if err != nil {
		t.Fatalf("decode event: %v", err)
	}
	if !ev.Admin.Equals(admin.PublicKey()) || ev.SetupFee != args.SetupFee || ev.MinPeriodSecs != 1 {
		t.Errorf("event = %+v", ev)
	}

	// A cross-program read: the meter checks the protocol account it is given.
	meterArgs := meter.InitMeterArgs{SettlementFeeBps: 100, OperatorShareBps: 2_000, MinNodeStake: 1_000_000, UnbondingSecs: 60, WithdrawalNoticeSecs: 60}
	if _, err := s.Send(ctx, txsend.Tx{
		Instructions: []solana.Instruction{initMeterIx(t, admin.PublicKey(), mint, meterArgs)},
		Payer:        admin.PublicKey(),
		Signers:      []solana.PrivateKey{admin},
	}); err != nil {
		t.Fatalf("init_meter: %v", err)
	}
	cfgInfo, err := c.RPC.GetAccountInfo(ctx, pda.Meter())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := meter.ParseAccount_MeterConfig(cfgInfo.Value.Data.GetBinary())
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Protocol.Equals(pda.Protocol()) || cfg.OperatorShareBps != 2_000 || !cfg.EscrowVault.Equals(pda.EscrowVault()) {
		t.Errorf("meter config = %+v", cfg)
	}
}

func TestProgramErrorsComeBackByName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := golocal.Start(t)
	s := newSender(c)
	admin, err := c.FundUpgradeAuthority(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	mint := createNativeMint(ctx, t, c, s, admin)
	send := func(signer solana.PrivateKey, ix solana.Instruction) error {
		_, err := s.Send(ctx, txsend.Tx{Instructions: []solana.Instruction{ix}, Payer: signer.PublicKey(), Signers: []solana.PrivateKey{signer}})
		return err
	}

	// A program's own error, caught in preflight.
	bad := mt.InitProtocolArgs{ProtocolFeeBps: 10_001, MinPeriodSecs: 1}
	err = send(admin, initProtocolIx(t, admin.PublicKey(), mint, bad))
	if !errors.Is(err, mt.ErrInvalidBps) {
		t.Fatalf("init_protocol with 10001 bps: got %v, want %v", err, mt.ErrInvalidBps)
	}
	var txErr *txsend.TxError
	if !errors.As(err, &txErr) || !txErr.ProgramID.Equals(mt.ProgramID) {
		t.Fatalf("error does not name the failing program: %#v", err)
	}

	good := mt.InitProtocolArgs{SetupFee: 1, MinPeriodSecs: 1}
	if err := send(admin, initProtocolIx(t, admin.PublicKey(), mint, good)); err != nil {
		t.Fatal(err)
	}

	// Anchor's constraint errors are named too: a stranger is not the protocol admin.
	stranger, err := c.Fund(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	meterArgs := meter.InitMeterArgs{MinNodeStake: 1, UnbondingSecs: 60, WithdrawalNoticeSecs: 60}
	err = send(stranger, initMeterIx(t, stranger.PublicKey(), mint, meterArgs))
	if !errors.Is(err, programerr.AnchorConstraintHasOne) {
		t.Fatalf("init_meter by a stranger: got %v, want %v", err, programerr.AnchorConstraintHasOne)
	}

	// An error in a transaction that landed (preflight skipped) decodes the same way.
	tooShort := meter.InitMeterArgs{MinNodeStake: 1, UnbondingSecs: 0, WithdrawalNoticeSecs: 60}
	ix := initMeterIx(t, admin.PublicKey(), mint, tooShort)
	sig, err := sendSkippingPreflight(ctx, c, admin, ix)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Confirm(ctx, sig, ^uint64(0))
	if !errors.As(err, &txErr) {
		t.Fatalf("landed failure: got %v", err)
	}
	// Confirm reports the raw error; decoding needs the logs, which Send fetches.
	if raw, _ := txErr.Raw.(map[string]any); raw == nil {
		t.Fatalf("landed failure has no runtime error: %#v", txErr)
	}
}

func sendSkippingPreflight(ctx context.Context, c *golocal.Chain, signer solana.PrivateKey, ix solana.Instruction) (solana.Signature, error) {
	bh, err := c.RPC.GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
	if err != nil {
		return solana.Signature{}, err
	}
	tx, err := solana.NewTransaction([]solana.Instruction{ix}, bh.Value.Blockhash, solana.TransactionPayer(signer.PublicKey()))
	if err != nil {
		return solana.Signature{}, err
	}
	if _, err := tx.Sign(func(k solana.PublicKey) *solana.PrivateKey { return &signer }); err != nil {
		return solana.Signature{}, err
	}
	return c.RPC.SendTransactionWithOpts(ctx, tx, rpc.TransactionOpts{SkipPreflight: true})
}
