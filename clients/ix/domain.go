package ix

import (
	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// Domain instructions of inference_meter (programs/inference-meter/DOMAINS.md).
// A domain is addressed by pda.Domain(operator, name); a node by its node
// account pda.Node(operator); a membership by pda.Membership(domain, node).

// CreateDomain creates operator's domain args.Name, bonding args.Bond from
// the operator's native token account source.
func CreateDomain(operator, source solana.PublicKey, native Native, args im.CreateDomainArgs) (solana.Instruction, error) {
	return im.NewCreateDomainInstruction(args, operator, pda.Meter(), pda.Domain(operator, args.Name), pda.StakeVault(), source,
		native.Mint, native.Program, solana.SystemProgramID, meterEvents(), im.ProgramID)
}

// UpdateDomain changes domain's minimum node stake and notice now and
// schedules its fee after the notice; operator signs.
func UpdateDomain(operator, domain solana.PublicKey, args im.UpdateDomainArgs) (solana.Instruction, error) {
	return im.NewUpdateDomainInstruction(args, operator, domain, pda.Meter(), meterEvents(), im.ProgramID)
}

// CloseDomain closes operator's domain once no memberships remain, paying
// the bond to destination (a native token account of the operator).
func CloseDomain(operator, domain, destination solana.PublicKey, native Native) (solana.Instruction, error) {
	return im.NewCloseDomainInstruction(operator, domain, pda.Meter(), pda.StakeVault(), destination,
		native.Mint, native.Program, meterEvents(), im.ProgramID)
}

// SlashDomain takes amount of domain's bond to the protocol fee vault for
// reason; the protocol admin signs.
func SlashDomain(admin, domain solana.PublicKey, native Native, amount uint64, reason uint16) (solana.Instruction, error) {
	return im.NewSlashDomainInstruction(amount, reason, admin, pda.Protocol(), pda.Meter(), domain, pda.StakeVault(), pda.FeeVault(),
		native.Mint, native.Program, meterEvents(), im.ProgramID)
}

// RequestJoin asks for nodeOperator's node to join domain; nodeOperator signs and pays the rent.
func RequestJoin(nodeOperator, domain solana.PublicKey) (solana.Instruction, error) {
	node := pda.Node(nodeOperator)
	return im.NewRequestJoinInstruction(nodeOperator, node, domain, pda.Membership(domain, node), solana.SystemProgramID, meterEvents(), im.ProgramID)
}

// AdmitMember admits node (a node account) to domain; the domain operator signs.
func AdmitMember(domainOperator, domain, node solana.PublicKey) (solana.Instruction, error) {
	return im.NewAdmitMemberInstruction(domainOperator, domain, node, pda.Membership(domain, node), meterEvents(), im.ProgramID)
}

// RemoveMember removes node (a node account) from domain; the domain operator signs.
func RemoveMember(domainOperator, domain, node solana.PublicKey) (solana.Instruction, error) {
	return im.NewRemoveMemberInstruction(domainOperator, domain, pda.Membership(domain, node), meterEvents(), im.ProgramID)
}

// LeaveDomain takes nodeOperator's node out of domain; nodeOperator signs.
func LeaveDomain(nodeOperator, domain solana.PublicKey) (solana.Instruction, error) {
	node := pda.Node(nodeOperator)
	return im.NewLeaveDomainInstruction(nodeOperator, node, domain, pda.Membership(domain, node), meterEvents(), im.ProgramID)
}

// CloseMembership closes the ended membership of nodeOperator's node in
// domain after its notice; anyone (closer) signs, the rent goes to nodeOperator.
func CloseMembership(closer, nodeOperator, domain solana.PublicKey) (solana.Instruction, error) {
	node := pda.Node(nodeOperator)
	return im.NewCloseMembershipInstruction(closer, nodeOperator, node, domain, pda.Membership(domain, node), meterEvents(), im.ProgramID)
}

// AllowDomain moves amount of escrow's unallocated balance into domain's
// lane; the escrow owner signs. Revoke it with RequestRevoke/RevokeNode
// and the domain's address.
func AllowDomain(owner, escrow, domain solana.PublicKey, amount uint64) (solana.Instruction, error) {
	return im.NewAllowDomainInstruction(amount, owner, escrow, domain, meterEvents(), im.ProgramID)
}
