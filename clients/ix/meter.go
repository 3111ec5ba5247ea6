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

// AllowNode moves amount of escrow's unallocated balance into node's lane
// (node is the node account, pda.Node of its operator).
func AllowNode(owner, escrow, node solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return im.NewAllowNodeInstruction(amount, owner, escrow, node, meterEvents(), im.ProgramID)
}

// RegisterNode registers operator's node, staking args.Stake from its
// native token account source.
func RegisterNode(operator, source solana.PublicKey, native Native, args im.RegisterNodeArgs) (solana.Instruction, error) {
	return im.NewRegisterNodeInstruction(args, operator, pda.Meter(), pda.Node(operator), pda.StakeVault(), source,
		native.Mint, native.Program, solana.SystemProgramID, meterEvents(), im.ProgramID)
}

// AddStake adds amount to operator's node stake from source.
func AddStake(operator, source solana.PublicKey, native Native, amount uint64) (solana.Instruction, error) {
	return im.NewAddStakeInstruction(amount, operator, pda.Node(operator), pda.Meter(), pda.StakeVault(), source,
		native.Mint, native.Program, meterEvents(), im.ProgramID)
}

// BeginUnbonding starts the unbonding period of operator's node.
func BeginUnbonding(operator solana.PublicKey) (solana.Instruction, error) {
	return im.NewBeginUnbondingInstruction(operator, pda.Node(operator), pda.Meter(), meterEvents(), im.ProgramID)
}

// WithdrawStake pays operator's unbonded stake to destination.
func WithdrawStake(operator, destination solana.PublicKey, native Native) (solana.Instruction, error) {
	return im.NewWithdrawStakeInstruction(operator, pda.Node(operator), pda.Meter(), pda.StakeVault(), destination,
		native.Mint, native.Program, meterEvents(), im.ProgramID)
}

// SetKeeperKey sets the hot key that may settle for operator's node.
func SetKeeperKey(operator, keeper solana.PublicKey) (solana.Instruction, error) {
	return im.NewSetKeeperKeyInstruction(keeper, operator, pda.Node(operator), meterEvents(), im.ProgramID)
}

// SetEndpoint sets the public endpoint of operator's node.
func SetEndpoint(operator solana.PublicKey, endpoint string) (solana.Instruction, error) {
	return im.NewSetEndpointInstruction(endpoint, operator, pda.Node(operator), meterEvents(), im.ProgramID)
}

// ActivateNode (re)activates operator's node.
func ActivateNode(operator solana.PublicKey) (solana.Instruction, error) {
	return im.NewActivateNodeInstruction(operator, pda.Node(operator), pda.Meter(), meterEvents(), im.ProgramID)
}

// DeactivateNode stops operator's node from serving and settling new work.
func DeactivateNode(operator solana.PublicKey) (solana.Instruction, error) {
	return im.NewDeactivateNodeInstruction(operator, pda.Node(operator), meterEvents(), im.ProgramID)
}

// InitMeter initialises the meter once, signed by the protocol admin.
func InitMeter(admin solana.PublicKey, native Native, args im.InitMeterArgs) (solana.Instruction, error) {
	return im.NewInitMeterInstruction(args, admin, pda.Protocol(), pda.Meter(), native.Mint,
		pda.EscrowVault(), pda.StakeVault(), native.Program, solana.SystemProgramID, meterEvents(), im.ProgramID)
}

// UpdateMeter changes the meter's settings, signed by the protocol admin.
func UpdateMeter(admin solana.PublicKey, args im.InitMeterArgs) (solana.Instruction, error) {
	return im.NewUpdateMeterInstruction(args, admin, pda.Protocol(), pda.Meter(), meterEvents(), im.ProgramID)
}

// SlashNode takes amount of operator's node stake to the protocol's fee
// vault for reason, signed by the protocol admin.
func SlashNode(admin, operator solana.PublicKey, native Native, amount uint64, reason uint16) (solana.Instruction, error) {
	return im.NewSlashNodeInstruction(amount, reason, admin, pda.Protocol(), pda.Meter(), pda.Node(operator), pda.StakeVault(), pda.FeeVault(),
		native.Mint, native.Program, meterEvents(), im.ProgramID)
}
