package pda

import (
	"encoding/binary"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/mt_treasury"
)

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func treasury(seeds ...[]byte) solana.PublicKey { return find(mt_treasury.ProgramID, seeds...) }

// ProgramData is program's ProgramData account under the BPF upgradeable
// loader: it records the upgrade authority, the only key mt_treasury's
// init_protocol accepts. (The local chain creates one for each builtin.)
func ProgramData(program solana.PublicKey) solana.PublicKey {
	return find(solana.BPFLoaderUpgradeableProgramID, program[:])
}

// Protocol is mt_treasury's singleton configuration.
func Protocol() solana.PublicKey { return treasury(mt_treasury.PROTOCOL) }

// FeeVault is the protocol's native-token fee account.
func FeeVault() solana.PublicKey { return treasury(mt_treasury.FEE_VAULT) }

// Model is the model with the given id (the protocol's model_count when it was launched).
func Model(id uint64) solana.PublicKey { return treasury(mt_treasury.MODEL, le64(id)) }

// MtMint is a model's Model Token mint (Token-2022).
func MtMint(model solana.PublicKey) solana.PublicKey { return treasury(mt_treasury.MT_MINT, model[:]) }

// RaiseVault holds a model's crowdfund contributions until finalisation (native token).
func RaiseVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.RAISE_VAULT, model[:])
}

// TreasuryVault is a model's governance-controlled treasury (native token).
func TreasuryVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.TREASURY_VAULT, model[:])
}

// RevenueVault holds revenue owed to a model's MT depositors (native token).
func RevenueVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.REVENUE_VAULT, model[:])
}

// LiquidityNativeVault holds the share of the raise earmarked for the market (native token).
func LiquidityNativeVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.LIQUIDITY_NATIVE_VAULT, model[:])
}

// SaleVault holds sold MT until contributors claim it.
func SaleVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.SALE_VAULT, model[:])
}

// CreatorVault holds the creator's vesting MT.
func CreatorVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.CREATOR_VAULT, model[:])
}

// LiquidityVault holds the MT side of the market.
func LiquidityVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.LIQUIDITY_VAULT, model[:])
}

// RewardsVault holds the contributor-rewards pool (plus unsold sale MT).
func RewardsVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.REWARDS_VAULT, model[:])
}

// DepositVault holds MT deposited by voters (stage 3).
func DepositVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.DEPOSIT_VAULT, model[:])
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
	return ModelVaults{
		Raise: RaiseVault(model), Treasury: TreasuryVault(model), Revenue: RevenueVault(model),
		LiquidityNative: LiquidityNativeVault(model),
		Sale:            SaleVault(model), Creator: CreatorVault(model), Liquidity: LiquidityVault(model),
		Rewards: RewardsVault(model), Deposit: DepositVault(model),
	}
}

// Contribution is contributor's record in model's crowdfund.
func Contribution(model, contributor solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.CONTRIBUTION, model[:], contributor[:])
}

// Voter is owner's MT deposit record in model (stage 3).
func Voter(model, owner solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.VOTER, model[:], owner[:])
}

// Proposal is model's proposal number index (stage 3).
func Proposal(model solana.PublicKey, index uint64) solana.PublicKey {
	return treasury(mt_treasury.PROPOSAL, model[:], le64(index))
}

// Vote is voter's vote record on proposal (stage 3).
func Vote(proposal, voter solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.VOTE, proposal[:], voter[:])
}
