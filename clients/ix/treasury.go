// Package ix builds the programs' instructions, one function per
// instruction, each deriving the PDAs it needs (clients/pda) so that a
// caller names only what it chooses: the signer, the model, its own token
// accounts and the arguments. The CLI, the Actions server, the keeper's
// cranks, the tests and the benchmarks build the same account list from
// here instead of each assembling it by hand.
//
// A builder checks nothing about chain state: it is the generated client
// (clients/mt_treasury, clients/inference_meter) with the account list
// filled in. MT mints are Token-2022 and the model's (pda.MtMint); the
// native token's mint, program and the protocol's fee vault come from the
// Protocol account (NativeOf).
package ix

import (
	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// Native is the protocol's native token and fee vault, as its Protocol
// account records them.
type Native struct {
	Mint, Program, FeeVault solana.PublicKey
}

// NativeOf reads Native from a decoded Protocol account.
func NativeOf(p *mt.Protocol) Native {
	return Native{Mint: p.NativeMint, Program: p.NativeTokenProgram, FeeVault: p.FeeVault}
}

func treasuryEvents() solana.PublicKey { return pda.EventAuthority(mt.ProgramID) }

// Contribute buys into model's crowdfund from the contributor's native
// token account source.
func Contribute(contributor, model, source solana.PublicKey, native Native, args mt.ContributeArgs) (solana.Instruction, error) {
	if args.Proof == nil {
		args.Proof = [][32]uint8{} // an open crowdfund: no allowlist proof
	}
	return mt.NewContributeInstruction(args, contributor, pda.Protocol(), native.Mint, model, pda.Contribution(model, contributor),
		source, pda.RaiseVault(model), native.Program, solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// FinalizeRaise closes model's crowdfund (a permissionless crank).
func FinalizeRaise(model solana.PublicKey, native Native) (solana.Instruction, error) {
	v := pda.Vaults(model)
	return mt.NewFinalizeRaiseInstruction(pda.Protocol(), native.Mint, model, pda.MtMint(model), v.Raise, native.FeeVault,
		v.Treasury, v.LiquidityNative, v.Sale, v.Creator, v.Liquidity, v.Rewards,
		native.Program, solana.Token2022ProgramID, treasuryEvents(), mt.ProgramID)
}

// DepositMt deposits amount MT from the owner's MT account source into its
// voter record (to vote and earn).
func DepositMt(owner, model, source solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return mt.NewDepositMtInstruction(amount, owner, model, pda.Voter(model, owner), source, pda.DepositVault(model),
		pda.MtMint(model), solana.Token2022ProgramID, solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// WithdrawMt withdraws amount deposited MT to the owner's MT account destination.
func WithdrawMt(owner, model, destination solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return mt.NewWithdrawMtInstruction(amount, owner, model, pda.Voter(model, owner), pda.DepositVault(model), destination,
		pda.MtMint(model), solana.Token2022ProgramID, treasuryEvents(), mt.ProgramID)
}

// CastVote votes the owner's deposited MT on proposal.
func CastVote(owner, model, proposal solana.PublicKey, choice mt.VoteChoice) (solana.Instruction, error) {
	voter := pda.Voter(model, owner)
	return mt.NewCastVoteInstruction(choice, owner, model, proposal, voter, pda.Vote(proposal, voter),
		solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// CheckpointVoter moves the owner's warmed-up MT into its earning balance
// (a permissionless crank).
func CheckpointVoter(model, owner solana.PublicKey) (solana.Instruction, error) {
	return mt.NewCheckpointVoterInstruction(model, pda.Voter(model, owner), treasuryEvents(), mt.ProgramID)
}

// ClaimRewards pays the owner's pending revenue share to its native token
// account destination.
func ClaimRewards(owner, model, destination solana.PublicKey, native Native) (solana.Instruction, error) {
	return mt.NewClaimRewardsInstruction(owner, pda.Protocol(), native.Mint, model, pda.Voter(model, owner), pda.RevenueVault(model),
		destination, native.Program, treasuryEvents(), mt.ProgramID)
}

// ClaimMt pays a contributor's MT from a successful raise to its MT account destination.
func ClaimMt(contributor, model, destination solana.PublicKey) (solana.Instruction, error) {
	return mt.NewClaimMtInstruction(contributor, model, pda.Contribution(model, contributor), pda.SaleVault(model), destination,
		pda.MtMint(model), solana.Token2022ProgramID, treasuryEvents(), mt.ProgramID)
}

// Refund returns a contributor's payment from a failed raise to its native
// token account destination.
func Refund(contributor, model, destination solana.PublicKey, native Native) (solana.Instruction, error) {
	return mt.NewRefundInstruction(contributor, pda.Protocol(), native.Mint, model, pda.Contribution(model, contributor),
		pda.RaiseVault(model), destination, native.Program, treasuryEvents(), mt.ProgramID)
}

// CloseContribution closes a settled contribution record, returning its rent.
func CloseContribution(contributor, model solana.PublicKey) (solana.Instruction, error) {
	return mt.NewCloseContributionInstruction(contributor, model, pda.Contribution(model, contributor), treasuryEvents(), mt.ProgramID)
}

// FinalizeProposal closes voting on proposal (a permissionless crank).
func FinalizeProposal(model, proposal solana.PublicKey) (solana.Instruction, error) {
	return mt.NewFinalizeProposalInstruction(model, proposal, treasuryEvents(), mt.ProgramID)
}

// OpenMarket opens model's pool from the amounts its raise recorded (permissionless).
func OpenMarket(model solana.PublicKey) (solana.Instruction, error) {
	return mt.NewOpenMarketInstruction(pda.Protocol(), model, treasuryEvents(), mt.ProgramID)
}

// Swap trades against model's pool between the trader's native account
// traderNative and MT account traderMT.
func Swap(trader, model, traderNative, traderMT solana.PublicKey, native Native, args mt.SwapArgs) (solana.Instruction, error) {
	v := pda.Vaults(model)
	return mt.NewSwapInstruction(args, trader, pda.Protocol(), model, traderNative, traderMT, v.Liquidity, v.LiquidityNative, v.Revenue, v.Treasury,
		native.FeeVault, native.Mint, pda.MtMint(model), native.Program, solana.Token2022ProgramID, treasuryEvents(), mt.ProgramID)
}

// DepositRevenue pays amount native tokens from the payer's account source
// into model's revenue, split between depositors and the model treasury.
func DepositRevenue(payer, model, source solana.PublicKey, native Native, amount uint64) (solana.Instruction, error) {
	return mt.NewDepositRevenueInstruction(amount, payer, pda.Protocol(), model, source, pda.RevenueVault(model), pda.TreasuryVault(model),
		native.Mint, native.Program, treasuryEvents(), mt.ProgramID)
}

// TransferDestination is the token account a transfer action pays, and
// whether the action is a transfer at all.
func TransferDestination(action mt.ProposalAction) (solana.PublicKey, bool) {
	switch a := action.(type) {
	case *mt.ProposalAction_TransferNative:
		return a.Destination, true
	case *mt.ProposalAction_TransferMt:
		return a.Destination, true
	}
	return solana.PublicKey{}, false
}

// optionalDestination is the action's destination, or the program id:
// Anchor's "no account" for an optional one.
func optionalDestination(action mt.ProposalAction) solana.PublicKey {
	if d, ok := TransferDestination(action); ok {
		return d
	}
	return mt.ProgramID
}

// CreateProposal creates proposal number index of model (the model's
// ProposalCount when it is created), by proposer.
func CreateProposal(proposer, model solana.PublicKey, index uint64, args mt.CreateProposalArgs) (solana.Instruction, error) {
	return mt.NewCreateProposalInstruction(args, proposer, pda.Protocol(), model, pda.Voter(model, proposer), pda.Proposal(model, index),
		pda.RewardsVault(model), optionalDestination(args.Action), solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// ExecuteProposal executes passed proposal index of model, whose action is
// action (a transfer pays its destination).
func ExecuteProposal(model solana.PublicKey, index uint64, action mt.ProposalAction, native Native) (solana.Instruction, error) {
	return mt.NewExecuteProposalInstruction(pda.Protocol(), model, pda.Proposal(model, index), pda.TreasuryVault(model), pda.RewardsVault(model),
		optionalDestination(action), native.Mint, pda.MtMint(model), native.Program, solana.Token2022ProgramID, treasuryEvents(), mt.ProgramID)
}

// CancelProposal withdraws proposal index of model, by its proposer.
func CancelProposal(proposer, model solana.PublicKey, index uint64) (solana.Instruction, error) {
	return mt.NewCancelProposalInstruction(proposer, model, pda.Proposal(model, index), treasuryEvents(), mt.ProgramID)
}

// ClaimVested pays the creator's vested MT to its MT account destination.
func ClaimVested(creator, model, destination solana.PublicKey) (solana.Instruction, error) {
	return mt.NewClaimVestedInstruction(creator, model, pda.CreatorVault(model), destination, pda.MtMint(model),
		solana.Token2022ProgramID, treasuryEvents(), mt.ProgramID)
}

// InitProtocol initialises the protocol once, signed by the program's
// upgrade authority admin, with nativeMint (owned by tokenProgram) as the
// native token.
func InitProtocol(admin, nativeMint, tokenProgram solana.PublicKey, args mt.InitProtocolArgs) (solana.Instruction, error) {
	return mt.NewInitProtocolInstruction(args, admin, pda.ProgramData(mt.ProgramID), pda.Protocol(), nativeMint, pda.FeeVault(),
		tokenProgram, solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// UpdateProtocol changes the protocol's settings, signed by its admin.
func UpdateProtocol(admin solana.PublicKey, args mt.UpdateProtocolArgs) (solana.Instruction, error) {
	return mt.NewUpdateProtocolInstruction(args, admin, pda.Protocol(), treasuryEvents(), mt.ProgramID)
}

// AcceptAdmin completes the two-step admin handover, signed by the new admin.
func AcceptAdmin(newAdmin solana.PublicKey) (solana.Instruction, error) {
	return mt.NewAcceptAdminInstruction(newAdmin, pda.Protocol(), treasuryEvents(), mt.ProgramID)
}

// LaunchModel launches model number id (the protocol's model count),
// paying the set-up fee from the creator's native token account source.
func LaunchModel(creator, source solana.PublicKey, id uint64, native Native, args mt.LaunchModelArgs) (solana.Instruction, error) {
	return mt.NewLaunchModelInstruction(args, creator, pda.Protocol(), native.Mint, pda.Model(id), source, native.FeeVault,
		native.Program, solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// CreateModelToken creates model's MT mint (Token-2022, with its metadata).
func CreateModelToken(creator, model solana.PublicKey, args mt.CreateModelTokenArgs) (solana.Instruction, error) {
	return mt.NewCreateModelTokenInstruction(args, creator, pda.Protocol(), model, pda.MtMint(model),
		solana.Token2022ProgramID, solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// OpenModelVaults opens model's vaults, the last launch step.
func OpenModelVaults(creator, model solana.PublicKey, native Native) (solana.Instruction, error) {
	v := pda.Vaults(model)
	return mt.NewOpenModelVaultsInstruction(creator, pda.Protocol(), model, native.Mint, pda.MtMint(model),
		v.Raise, v.Treasury, v.Revenue, v.LiquidityNative, v.Sale, v.Creator, v.Liquidity, v.Rewards,
		native.Program, solana.Token2022ProgramID, solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// WithdrawProtocolFees pays amount of the protocol's fees to the admin's
// native token account destination.
func WithdrawProtocolFees(admin, destination solana.PublicKey, native Native, amount uint64) (solana.Instruction, error) {
	return mt.NewWithdrawProtocolFeesInstruction(amount, admin, pda.Protocol(), native.FeeVault, destination, native.Mint,
		native.Program, treasuryEvents(), mt.ProgramID)
}

// CloseVoteRecord returns the rent of owner's vote record on proposal
// index of model, once it takes no more votes.
func CloseVoteRecord(owner, model solana.PublicKey, index uint64) (solana.Instruction, error) {
	proposal, voter := pda.Proposal(model, index), pda.Voter(model, owner)
	return mt.NewCloseVoteRecordInstruction(owner, model, proposal, voter, pda.Vote(proposal, voter), treasuryEvents(), mt.ProgramID)
}

// CloseVoter returns the rent of owner's empty voter record.
func CloseVoter(owner, model solana.PublicKey) (solana.Instruction, error) {
	return mt.NewCloseVoterInstruction(owner, model, pda.Voter(model, owner), treasuryEvents(), mt.ProgramID)
}
