package pda

import (
	"encoding/binary"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// mt_treasury seeds, one to one with programs/mt-treasury/src/state/seeds.rs.
var (
	SeedProtocol = []byte("protocol")
	SeedFeeVault = []byte("fee_vault")

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

	SeedContribution = []byte("contribution")
	SeedVoter        = []byte("voter")
	SeedProposal     = []byte("proposal")
	SeedVote         = []byte("vote")
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
func Protocol() solana.PublicKey { return treasury(SeedProtocol) }

// FeeVault is the protocol's native-token fee account.
func FeeVault() solana.PublicKey { return treasury(SeedFeeVault) }

// Model is the model with the given id (the protocol's model_count when it was launched).
func Model(id uint64) solana.PublicKey { return treasury(SeedModel, le64(id)) }

// MtMint is a model's Model Token mint (Token-2022).
func MtMint(model solana.PublicKey) solana.PublicKey { return treasury(SeedMtMint, model[:]) }

// RaiseVault holds a model's crowdfund contributions until finalisation (native token).
func RaiseVault(model solana.PublicKey) solana.PublicKey { return treasury(SeedRaiseVault, model[:]) }

// TreasuryVault is a model's governance-controlled treasury (native token).
func TreasuryVault(model solana.PublicKey) solana.PublicKey {
	return treasury(SeedTreasuryVault, model[:])
}

// RevenueVault holds revenue owed to a model's MT depositors (native token).
func RevenueVault(model solana.PublicKey) solana.PublicKey {
	return treasury(SeedRevenueVault, model[:])
}

// LiquidityNativeVault holds the share of the raise earmarked for the market (native token).
func LiquidityNativeVault(model solana.PublicKey) solana.PublicKey {
	return treasury(SeedLiquidityNativeVault, model[:])
}

// SaleVault holds sold MT until contributors claim it.
func SaleVault(model solana.PublicKey) solana.PublicKey { return treasury(SeedSaleVault, model[:]) }

// CreatorVault holds the creator's vesting MT.
func CreatorVault(model solana.PublicKey) solana.PublicKey {
	return treasury(SeedCreatorVault, model[:])
}

// LiquidityVault holds the MT side of the market.
func LiquidityVault(model solana.PublicKey) solana.PublicKey {
	return treasury(SeedLiquidityVault, model[:])
}

// RewardsVault holds the contributor-rewards pool (plus unsold sale MT).
func RewardsVault(model solana.PublicKey) solana.PublicKey {
	return treasury(SeedRewardsVault, model[:])
}

// DepositVault holds MT deposited by voters (stage 3).
func DepositVault(model solana.PublicKey) solana.PublicKey {
	return treasury(SeedDepositVault, model[:])
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
	return treasury(SeedContribution, model[:], contributor[:])
}

// Voter is owner's MT deposit record in model (stage 3).
func Voter(model, owner solana.PublicKey) solana.PublicKey {
	return treasury(SeedVoter, model[:], owner[:])
}

// Proposal is model's proposal number index (stage 3).
func Proposal(model solana.PublicKey, index uint64) solana.PublicKey {
	return treasury(SeedProposal, model[:], le64(index))
}

// Vote is voter's vote record on proposal (stage 3).
func Vote(proposal, voter solana.PublicKey) solana.PublicKey {
	return treasury(SeedVote, proposal[:], voter[:])
}
