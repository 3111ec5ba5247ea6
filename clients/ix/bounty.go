package ix

import (
	"github.com/gagliardetto/solana-go"

	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// FundBountyPool executes model's passed FundBountyPool proposal index; payer pays the pool's rent on first use.
func FundBountyPool(payer, model solana.PublicKey, index uint64, native Native) (solana.Instruction, error) {
	return mt.NewFundBountyPoolInstruction(payer, pda.Protocol(), model, pda.Proposal(model, index), pda.BountyPool(model),
		pda.BountyVault(model), pda.TreasuryVault(model), native.Mint, native.Program, solana.SystemProgramID,
		treasuryEvents(), mt.ProgramID)
}

// CreateBounty executes model's passed CreateBounty proposal index as bounty id (the pool's bounty_count).
func CreateBounty(payer, model solana.PublicKey, index, id uint64) (solana.Instruction, error) {
	return mt.NewCreateBountyInstruction(payer, pda.Protocol(), model, pda.Proposal(model, index), pda.BountyPool(model),
		pda.Bounty(model, id), solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// SubmitWork submits work to bounty id, the bond paid from the contributor's native account source.
func SubmitWork(contributor, model solana.PublicKey, id uint64, source solana.PublicKey, native Native, args mt.SubmitWorkArgs) (solana.Instruction, error) {
	bounty := pda.Bounty(model, id)
	return mt.NewSubmitWorkInstruction(args, contributor, pda.Protocol(), model, bounty, pda.Submission(bounty, contributor),
		pda.WorkClaim(model, args.ContentHash), pda.Reputation(model, contributor), pda.BountyPool(model), pda.BountyVault(model),
		source, native.Mint, native.Program, solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// CommitReview commits reviewer's hidden review (rules.ReviewCommitment) of contributor's submission to bounty id.
func CommitReview(reviewer, model solana.PublicKey, id uint64, contributor, source solana.PublicKey, native Native, commitment [32]byte) (solana.Instruction, error) {
	bounty := pda.Bounty(model, id)
	submission := pda.Submission(bounty, contributor)
	return mt.NewCommitReviewInstruction(commitment, reviewer, pda.Protocol(), model, bounty, submission, pda.Voter(model, reviewer),
		pda.Review(submission, reviewer), pda.Reputation(model, reviewer), pda.BountyPool(model), pda.BountyVault(model),
		source, native.Mint, native.Program, solana.SystemProgramID, treasuryEvents(), mt.ProgramID)
}

// RevealReview reveals reviewer's committed review of contributor's submission to bounty id.
func RevealReview(reviewer, model solana.PublicKey, id uint64, contributor solana.PublicKey, choice mt.ReviewChoice, salt [32]byte) (solana.Instruction, error) {
	bounty := pda.Bounty(model, id)
	submission := pda.Submission(bounty, contributor)
	return mt.NewRevealReviewInstruction(choice, salt, reviewer, model, bounty, submission, pda.Review(submission, reviewer),
		pda.Reputation(model, reviewer), treasuryEvents(), mt.ProgramID)
}

// FinalizeSubmission decides contributor's submission to bounty id (anyone, after the reveal window).
func FinalizeSubmission(model solana.PublicKey, id uint64, contributor solana.PublicKey) (solana.Instruction, error) {
	bounty := pda.Bounty(model, id)
	return mt.NewFinalizeSubmissionInstruction(model, bounty, pda.Submission(bounty, contributor), pda.Reputation(model, contributor),
		pda.BountyPool(model), treasuryEvents(), mt.ProgramID)
}

// SettleBounty fixes bounty id's award once every submission is finalised (anyone).
func SettleBounty(model solana.PublicKey, id uint64) (solana.Instruction, error) {
	return mt.NewSettleBountyInstruction(model, pda.Bounty(model, id), pda.BountyPool(model), treasuryEvents(), mt.ProgramID)
}

// ClaimSubmission pays contributor what their submission to bounty id earned, to destination.
func ClaimSubmission(contributor, model solana.PublicKey, id uint64, destination solana.PublicKey, native Native) (solana.Instruction, error) {
	bounty := pda.Bounty(model, id)
	return mt.NewClaimSubmissionInstruction(contributor, pda.Protocol(), model, bounty, pda.Submission(bounty, contributor),
		pda.BountyPool(model), pda.BountyVault(model), destination, native.Mint, native.Program, treasuryEvents(), mt.ProgramID)
}

// ClaimReview pays reviewer what their review of contributor's submission to bounty id earned, to destination.
func ClaimReview(reviewer, model solana.PublicKey, id uint64, contributor, destination solana.PublicKey, native Native) (solana.Instruction, error) {
	bounty := pda.Bounty(model, id)
	submission := pda.Submission(bounty, contributor)
	return mt.NewClaimReviewInstruction(reviewer, pda.Protocol(), model, bounty, submission, pda.Review(submission, reviewer),
		pda.Reputation(model, reviewer), pda.BountyPool(model), pda.BountyVault(model), destination, native.Mint, native.Program,
		treasuryEvents(), mt.ProgramID)
}
