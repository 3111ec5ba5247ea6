package pda

import (
	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// BountyPool is model's bounty pool record (programs/mt-treasury/BOUNTIES.md).
func BountyPool(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.BOUNTY_POOL, model[:])
}

// BountyVault holds model's bounty pool, bonds and fees (native token).
func BountyVault(model solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.BOUNTY_VAULT, model[:])
}

// Bounty is model's bounty number id (the pool's bounty_count when it was created).
func Bounty(model solana.PublicKey, id uint64) solana.PublicKey {
	return treasury(mt_treasury.BOUNTY, model[:], le64(id))
}

// Submission is contributor's submission to bounty.
func Submission(bounty, contributor solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.SUBMISSION, bounty[:], contributor[:])
}

// Review is reviewer's review of submission.
func Review(submission, reviewer solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.REVIEW, submission[:], reviewer[:])
}

// Reputation is wallet's contributor and reviewer record in model.
func Reputation(model, wallet solana.PublicKey) solana.PublicKey {
	return treasury(mt_treasury.REPUTATION, model[:], wallet[:])
}

// WorkClaim records the first submission of the work with contentHash in model.
func WorkClaim(model solana.PublicKey, contentHash [32]byte) solana.PublicKey {
	return treasury(mt_treasury.WORK, model[:], contentHash[:])
}
