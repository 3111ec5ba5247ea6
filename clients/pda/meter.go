package pda

import (
	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/inference_meter"
)

func meter(seeds ...[]byte) solana.PublicKey { return find(inference_meter.ProgramID, seeds...) }

// Meter is inference_meter's singleton configuration; it is also the
// authority of the escrow and stake vaults.
func Meter() solana.PublicKey { return meter(inference_meter.METER) }

// EscrowVault holds every escrow's native tokens.
func EscrowVault() solana.PublicKey { return meter(inference_meter.ESCROW_VAULT) }

// StakeVault holds every node's stake.
func StakeVault() solana.PublicKey { return meter(inference_meter.STAKE_VAULT) }

// Escrow is the escrow of the API key whose id (clients/apikey.ID) is keyID.
func Escrow(keyID solana.PublicKey) solana.PublicKey { return meter(inference_meter.ESCROW, keyID[:]) }

// Node is the node registered by operator.
func Node(operator solana.PublicKey) solana.PublicKey {
	return meter(inference_meter.NODE, operator[:])
}

// Domain is the domain operator runs under name (1..=32 bytes).
func Domain(operator solana.PublicKey, name string) solana.PublicKey {
	return meter(inference_meter.DOMAIN, operator[:], []byte(name))
}

// Membership is node's membership of domain (node is the node account, not its operator).
func Membership(domain, node solana.PublicKey) solana.PublicKey {
	return meter(inference_meter.MEMBER, domain[:], node[:])
}
