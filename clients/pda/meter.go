package pda

import (
	"crypto/sha256"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/inference_meter"
)

// inference_meter seeds (programs/inference-meter/src/state/seeds.rs).
var (
	SeedMeter       = []byte("meter")
	SeedEscrowVault = []byte("escrow_vault")
	SeedStakeVault  = []byte("stake_vault")
	SeedEscrow      = []byte("escrow")
	SeedNode        = []byte("node")
)

func meter(seeds ...[]byte) solana.PublicKey { return find(inference_meter.ProgramID, seeds...) }

// Meter is inference_meter's singleton configuration; it is also the
// authority of the escrow and stake vaults.
func Meter() solana.PublicKey { return meter(SeedMeter) }

// EscrowVault holds every escrow's native tokens.
func EscrowVault() solana.PublicKey { return meter(SeedEscrowVault) }

// StakeVault holds every node's stake.
func StakeVault() solana.PublicKey { return meter(SeedStakeVault) }

// KeyHash is the sha256 of an API key: the escrow's seed. The key itself
// never goes on chain.
func KeyHash(apiKey []byte) [32]byte { return sha256.Sum256(apiKey) }

// Escrow is the escrow of the API key whose sha256 is keyHash.
func Escrow(keyHash [32]byte) solana.PublicKey { return meter(SeedEscrow, keyHash[:]) }

// EscrowForKey is the escrow of apiKey.
func EscrowForKey(apiKey []byte) solana.PublicKey { return Escrow(KeyHash(apiKey)) }

// Node is the node registered by operator.
func Node(operator solana.PublicKey) solana.PublicKey { return meter(SeedNode, operator[:]) }
