package pda

// SeedEventAuthority is Anchor's seed for the PDA that signs emit_cpi! self-invocations.
var SeedEventAuthority = []byte("__event_authority")
