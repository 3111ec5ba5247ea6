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

	"mt_treasury.NotAdmin":                    "sign with the protocol admin's keypair (--keypair); see `mt protocol show`",
	"mt_treasury.ProtocolPaused":              "wait until the protocol admin resumes it (`mt protocol show`); claims, refunds and finalisation still work",
	"mt_treasury.NothingToUpdate":             "pass at least one setting to change",
	"mt_treasury.ZeroSupply":                  "set supply.hard (--hard-supply) above zero",
	"mt_treasury.SupplySplitMismatch":         "make creator + crowdfund + liquidity + contributor rewards add up exactly to the hard supply",
	"mt_treasury.ZeroSaleAllocation":          "set supply.crowdfund (--crowdfund-allocation) above zero",
	"mt_treasury.ZeroPrice":                   "set the price above zero",
	"mt_treasury.PriceTooHigh":                "lower the per-query price",
	"mt_treasury.ZeroSoftCap":                 "set crowdfund.soft_cap above zero",
	"mt_treasury.SoftCapAboveHardCap":         "lower the soft cap or raise the hard cap",
	"mt_treasury.HardCapExceedsSale":          "lower the hard cap, raise the price or the crowdfund allocation",
	"mt_treasury.HardCapTooSmall":             "raise the hard cap or lower the price",
	"mt_treasury.WalletCapTooSmall":           "raise the per-wallet cap",
	"mt_treasury.EndBeforeStart":              "set crowdfund.end after crowdfund.start",
	"mt_treasury.EndTooSoon":                  "end the crowdfund later: at least the protocol's minimum period from now (`mt protocol show`)",
	"mt_treasury.InvalidVesting":              "make the vesting cliff at most its duration, both not negative",
	"mt_treasury.ZeroGovernanceBps":           "set the quorum and approval threshold above zero",
	"mt_treasury.ProposeThresholdAboveSupply": "lower governance.min_propose to at most the hard supply",
	"mt_treasury.InvalidName":                 "use a token name of 1 to 32 bytes",
	"mt_treasury.InvalidSymbol":               "use a token symbol of 1 to 10 bytes",
	"mt_treasury.UriTooLong":                  "use a metadata URI of at most 200 bytes",
	"mt_treasury.ZeroAllowlistRoot":           "omit the allowlist root for an open crowdfund",
	"mt_treasury.NotLaunching":                "the launch is already complete: see `mt model show <id>`",
	"mt_treasury.NotCreator":                  "sign with the model creator's keypair (--keypair)",
	"mt_treasury.NotFunding":                  "the raise is not open: see `mt model show <id>` for what to do next",
	"mt_treasury.RaiseNotStarted":             "wait until the crowdfund opens (`mt model show <id>`)",
	"mt_treasury.RaiseEnded":                  "the raise is over: run `mt model finalize <id>`, then `mt crowdfund claim <id>` or `mt crowdfund refund <id>`",
	"mt_treasury.HardCapReached":              "the raise is sold out: run `mt model finalize <id>`",
	"mt_treasury.ContributionTooSmall":        "offer more native tokens",
	"mt_treasury.WalletCapExceeded":           "contribute less: see your contribution with `mt crowdfund show <id>` and the cap with `mt model show <id>`",
	"mt_treasury.FillBelowMinimum":            "lower --min-mt or accept a partial fill",
	"mt_treasury.NotOnAllowlist":              "contribute from an allowed wallet, with the crowdfund's allowlist file (--allowlist)",
	"mt_treasury.ProofTooLong":                "the allowlist is too large for on-chain proofs",
	"mt_treasury.RaiseNotOver":                "wait until the crowdfund closes or sells out, then finalise",
	"mt_treasury.AlreadyClaimed":              "nothing to do: your MT was claimed",
	"mt_treasury.AlreadyRefunded":             "nothing to do: your refund was paid",
	"mt_treasury.RaiseNotFailed":              "the raise did not fail: claim your MT with `mt crowdfund claim <id>`",
	"mt_treasury.NothingVested":               "wait until more has vested (`mt model show <id>`)",
	"mt_treasury.SupplyCapExceeded":           "report this: the program refused to mint past the hard supply",
	"mt_treasury.WrongNativeMint":             "use the protocol's native token (`mt protocol show`)",
	"mt_treasury.WrongMtMint":                 "use the model's MT mint (`mt model show <id>`)",

	"inference_meter.ZeroAmount":                 "give an amount above zero",
	"inference_meter.EscrowOwnerMismatch":        "do not deposit: someone may have opened an escrow at your key's hash first; open a new one with `mt escrow open`",
	"inference_meter.TooManyAllowedModels":       "allow at most 8 models, or leave --allowed-models out to allow every model",
	"inference_meter.EmptyAllowedModels":         "leave --allowed-models out to allow every model",
	"inference_meter.EscrowRotated":              "use the escrow of the new key (`mt escrow show <old key>` names it)",
	"inference_meter.NoWithdrawalRequested":      "request one first: `mt escrow request-withdrawal`",
	"inference_meter.WithdrawalNoticeNotElapsed": "wait until the notice period has passed (`mt escrow show` says when)",
	"inference_meter.EscrowNotEmpty":             "withdraw the balance first (`mt escrow request-withdrawal ... all`, then `mt escrow withdraw`)",
	"inference_meter.RotationNoticeNotElapsed":   "close it after a notice period has passed since the rotation",
	"inference_meter.InsufficientStake":          "stake at least the meter's minimum (`mt meter show`)",
	"inference_meter.InvalidEndpoint":            "use an endpoint of 1 to 128 printable ASCII characters, e.g. https://node.example/v1",
	"inference_meter.InvalidKeeperKey":           "pass the keeper's real public key",
	"inference_meter.NodeInactive":               "reactivate the node first: `mt node activate`",
	"inference_meter.NodeUnbonding":              "the node is unbonding; withdraw its stake after the period (`mt node withdraw`)",
	"inference_meter.NodeAlreadyActive":          "nothing to do",
	"inference_meter.NotUnbonding":               "start unbonding first: `mt node unbond`",
	"inference_meter.UnbondingNotElapsed":        "wait until the unbonding period has passed (`mt node show` says when)",
	"inference_meter.NotNodeKeeper":              "sign with the node's current keeper key (`mt node show`)",
	"inference_meter.ModelNotActive":             "the model's raise has not succeeded: see `mt model show <id>`",
	"inference_meter.InvalidBps":                 "basis points go from 0 to 10000, and the settlement fee plus the operator share at most 10000",
	"inference_meter.PeriodTooShort":             "choose a longer period: at least the protocol's minimum (`mt protocol show`), and positive",
	"inference_meter.MathOverflow":               "the amounts are too large for the program's arithmetic: use smaller ones",
}

// Fix says what to do about a named program error ("" when nothing
// better than the program's message can be said).
func Fix(pe *programerr.Error) string {
	return fixes[pe.Program+"."+pe.Name]
}
