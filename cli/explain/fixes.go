package explain

import "github.com/modelcommons/modelcommons/clients/programerr"

// fixes says what to do about each named program error, keyed by
// "<program>.<Name>" (names rather than codes: codes move when a program
// inserts an error, names do not). The program's own message already says
// what went wrong.
var fixes = map[string]string{
	// Anchor's account checks: the CLI derives every account itself, so these
	// mean a wrong signer, a wrong account given by flag, or stale state.
	"anchor.ConstraintHasOne":             "sign with the account's authority (--keypair): e.g. the protocol admin, the model's creator or the account's owner",
	"anchor.ConstraintSigner":             "sign with the account's authority (--keypair)",
	"anchor.AccountNotSigner":             "sign with the account's authority (--keypair)",
	"anchor.AccountNotInitialized":        "an account this needs does not exist yet: check the model/escrow/node id, and that the previous step (init, launch, open, register) was done",
	"anchor.AccountDiscriminatorMismatch": "an address given on the command line is an account of another kind: check it",
	"anchor.AccountOwnedByWrongProgram":   "an address given on the command line is not one of this protocol's accounts: check it",
	"anchor.ConstraintSeeds":              "an address does not match what the program derives: check the ids given on the command line",
	"anchor.ConstraintAddress":            "an address does not match the one the protocol records: check the ids and mints given on the command line",
	"anchor.ConstraintTokenMint":          "a token account is of the wrong token: use the protocol's native token (see `mt protocol show`)",
	"anchor.ConstraintTokenOwner":         "a token account is not owned by the signer: sign with its owner (--keypair)",
	"anchor.ConstraintMintTokenProgram":   "the mint belongs to the other token program (SPL Token vs Token-2022)",
	"anchor.InstructionFallbackNotFound":  "the deployed program does not know this instruction: mt and the deployed program are different versions",
	"anchor.InstructionDidNotDeserialize": "the deployed program does not understand this instruction's arguments: mt and the deployed program are different versions",
	"anchor.DeclaredProgramIdMismatch":    "the program at this address is not the one mt was built for: check --url",

	"mt_treasury.InvalidBps":               "basis points go from 0 to 10000 (100% = 10000)",
	"mt_treasury.PeriodTooShort":           "choose a longer period: at least the protocol's minimum (`mt protocol show`), and positive",
	"mt_treasury.UnsupportedMintExtension": "create a plain mint (`spl-token create-token`, or `mt protocol init --create-native-mint`) and use it",
	"mt_treasury.MathOverflow":             "the amounts are too large for the program's arithmetic: use smaller ones",
	"mt_treasury.ZeroAmount":               "give an amount above zero",
	"mt_treasury.ModelNotActive":           "the model's raise has not succeeded: see `mt model show <id>`; after the deadline run `mt model finalize <id>`",

	"inference_meter.InvalidBps":     "basis points go from 0 to 10000, and the settlement fee plus the operator share at most 10000",
	"inference_meter.PeriodTooShort": "choose a longer period: at least the protocol's minimum (`mt protocol show`), and positive",
	"inference_meter.MathOverflow":   "the amounts are too large for the program's arithmetic: use smaller ones",
}

// Fix says what to do about a named program error ("" when nothing
// better than the program's message can be said).
func Fix(pe *programerr.Error) string {
	return fixes[pe.Program+"."+pe.Name]
}
