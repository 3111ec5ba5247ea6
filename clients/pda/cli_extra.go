package pda

import (
	"encoding/binary"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// Per-model, per-wallet and per-key derivations the CLI needs, added here
// (by the CLI) because treasury.go and meter.go did not have them yet.
// Seeds mirror programs/*/src/state/seeds.rs.

// mt_treasury per-model seeds.
var (
	SeedModel                = []byte("model")
	SeedMtMint               = []byte("mt_mint")
	SeedRaiseVault           = []byte("raise_vault")
	SeedTreasuryVault        = []byte("treasury_vault")
	SeedRevenueVault         = []byte("revenue_vault")
	SeedLiquidityNativeVault = []byte("liquidity_native_vault")
	SeedSaleVault            = []byte("sale_vault")
	SeedCreatorVault         = []byte("creator_vault")
	SeedLiquidityVault       = []byte("liquidity_vault")
	SeedRewardsVault         = []byte("rewards_vault")
	SeedDepositVault         = []byte("deposit_vault")
	SeedContribution         = []byte("contribution")
	SeedVoter                = []byte("voter")
	SeedProposal             = []byte("proposal")
	SeedVote                 = []byte("vote")
)

// inference_meter per-key and per-operator seeds.
var (
	SeedEscrow = []byte("escrow")
	SeedNode   = []byte("node")
)

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// Model is the model with the given id.
func Model(id uint64) solana.PublicKey { return find(mt_treasury.ProgramID, SeedModel, le64(id)) }

// MtMint is a model's Model Token mint (Token-2022).
func MtMint(model solana.PublicKey) solana.PublicKey {
	return find(mt_treasury.ProgramID, SeedMtMint, model[:])
}

// ModelVaults are a model's token accounts, all owned by the model PDA.
type ModelVaults struct {
	// Native-token vaults.
	Raise, Treasury, Revenue, LiquidityNative solana.PublicKey
	// MT vaults.
	Sale, Creator, Liquidity, Rewards, Deposit solana.PublicKey
}

// Vaults derives every vault of model.
func Vaults(model solana.PublicKey) ModelVaults {
	v := func(seed []byte) solana.PublicKey { return find(mt_treasury.ProgramID, seed, model[:]) }
	return ModelVaults{
		Raise: v(SeedRaiseVault), Treasury: v(SeedTreasuryVault), Revenue: v(SeedRevenueVault),
		LiquidityNative: v(SeedLiquidityNativeVault),
		Sale: v(SeedSaleVault), Creator: v(SeedCreatorVault), Liquidity: v(SeedLiquidityVault),
		Rewards: v(SeedRewardsVault), Deposit: v(SeedDepositVault),
	}
}

// Contribution is contributor's record in model's crowdfund.
func Contribution(model, contributor solana.PublicKey) solana.PublicKey {
	return find(mt_treasury.ProgramID, SeedContribution, model[:], contributor[:])
}

// Voter is owner's MT deposit record in model.
func Voter(model, owner solana.PublicKey) solana.PublicKey {
	return find(mt_treasury.ProgramID, SeedVoter, model[:], owner[:])
}

// Proposal is model's proposal number index.
func Proposal(model solana.PublicKey, index uint64) solana.PublicKey {
	return find(mt_treasury.ProgramID, SeedProposal, model[:], le64(index))
}

// Vote is voter's vote record on proposal.
func Vote(proposal, voter solana.PublicKey) solana.PublicKey {
	return find(mt_treasury.ProgramID, SeedVote, proposal[:], voter[:])
}

// Escrow is the escrow of the API key whose SHA-256 is keyHash.
func Escrow(keyHash [32]byte) solana.PublicKey {
	return find(inference_meter.ProgramID, SeedEscrow, keyHash[:])
}

// Node is operator's node.
func Node(operator solana.PublicKey) solana.PublicKey {
	return find(inference_meter.ProgramID, SeedNode, operator[:])
}
