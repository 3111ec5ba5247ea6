package pda

// mt_treasury seeds (programs/mt-treasury/src/state/seeds.rs).
var (
	SeedProtocol = []byte("protocol")
	SeedFeeVault = []byte("fee_vault")
)

// inference_meter seeds (programs/inference-meter/src/state/seeds.rs).
var (
	SeedMeter       = []byte("meter")
	SeedEscrowVault = []byte("escrow_vault")
	SeedStakeVault  = []byte("stake_vault")
)

// SeedEventAuthority is Anchor's seed for the PDA that signs emit_cpi! self-invocations.
var SeedEventAuthority = []byte("__event_authority")
