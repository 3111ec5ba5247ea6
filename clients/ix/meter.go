package ix

import (
	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// MeterNativeOf reads the native token (Mint, Program) from a decoded
// MeterConfig account; FeeVault is left empty (escrow instructions do not use it).
func MeterNativeOf(c *im.MeterConfig) Native {
	return Native{Mint: c.NativeMint, Program: c.NativeTokenProgram}
}

func meterEvents() solana.PublicKey { return pda.EventAuthority(im.ProgramID) }

// OpenEscrow opens the escrow of API key key (its ed25519 public key, which
// signs) for owner.
func OpenEscrow(owner, key solana.PublicKey, args im.OpenEscrowArgs) (solana.Instruction, error) {
	return im.NewOpenEscrowInstruction(args, owner, key, pda.Escrow(key), solana.SystemProgramID, meterEvents(), im.ProgramID)
}

// DepositEscrow moves amount native tokens from the depositor's account
// source into escrow, which must be owned by expectedOwner.
func DepositEscrow(depositor, escrow, source, expectedOwner solana.PublicKey, native Native, amount uint64) (solana.Instruction, error) {
	return im.NewDepositEscrowInstruction(amount, expectedOwner, depositor, escrow, pda.Meter(), pda.EscrowVault(), source,
		native.Mint, native.Program, meterEvents(), im.ProgramID)
}

// RequestWithdrawal starts the withdrawal notice for amount of escrow.
func RequestWithdrawal(owner, escrow solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return im.NewRequestWithdrawalInstruction(amount, owner, escrow, pda.Meter(), meterEvents(), im.ProgramID)
}

// WithdrawEscrow pays a requested withdrawal, after the notice, to the
// owner's native token account destination.
func WithdrawEscrow(owner, escrow, destination solana.PublicKey, native Native) (solana.Instruction, error) {
	return im.NewWithdrawEscrowInstruction(owner, escrow, pda.Meter(), pda.EscrowVault(), destination,
		native.Mint, native.Program, meterEvents(), im.ProgramID)
}

// CloseEscrow closes an empty escrow, returning its rent to the owner.
func CloseEscrow(owner, escrow solana.PublicKey) (solana.Instruction, error) {
	return im.NewCloseEscrowInstruction(owner, escrow, pda.Meter(), meterEvents(), im.ProgramID)
}

// RotateKey moves escrow to a new API key newKey (which signs).
func RotateKey(owner, escrow, newKey solana.PublicKey) (solana.Instruction, error) {
	return im.NewRotateKeyInstruction(owner, escrow, newKey, pda.Escrow(newKey), solana.SystemProgramID, meterEvents(), im.ProgramID)
}

// RequestRevoke starts the notice before node's lane on escrow can be revoked.
func RequestRevoke(owner, escrow, node solana.PublicKey) (solana.Instruction, error) {
	return im.NewRequestRevokeInstruction(node, owner, escrow, pda.Meter(), meterEvents(), im.ProgramID)
}

// RevokeNode closes node's lane on escrow after the notice; what it held
// returns to the escrow's unallocated balance.
func RevokeNode(owner, escrow, node solana.PublicKey) (solana.Instruction, error) {
	return im.NewRevokeNodeInstruction(node, owner, escrow, pda.Meter(), meterEvents(), im.ProgramID)
}
