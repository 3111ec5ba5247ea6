package frontdoor

import (
	"context"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/settlement"
)

// RPC is what the chain-backed parts call (*rpc.Client implements it).
type RPC interface {
	GetMultipleAccountsWithOpts(ctx context.Context, accounts []solana.PublicKey, opts *rpc.GetMultipleAccountsOpts) (*rpc.GetMultipleAccountsResult, error)
	GetProgramAccountsWithOpts(ctx context.Context, program solana.PublicKey, opts *rpc.GetProgramAccountsOpts) (rpc.GetProgramAccountsResult, error)
}

// maxAccounts is getMultipleAccounts' limit.
const maxAccounts = 100

// Membership layout offsets (programs/inference-meter/DOMAINS.md): the
// domain after the 8-byte discriminator, then the node, then the status.
const (
	membershipDomainOffset = 8
	membershipStatusOffset = 72
)

// ChainMembers lists a domain's Admitted memberships with getProgramAccounts
// and reads each member node's endpoint (set_endpoint) as its gateway URL.
type ChainMembers struct {
	RPC        RPC
	Domain     solana.PublicKey
	Commitment rpc.CommitmentType
}

// Members implements MemberSource.
func (c ChainMembers) Members(ctx context.Context) ([]Member, error) {
	res, err := c.RPC.GetProgramAccountsWithOpts(ctx, im.ProgramID, &rpc.GetProgramAccountsOpts{
		Commitment: c.Commitment, Encoding: solana.EncodingBase64,
		Filters: []rpc.RPCFilter{
			{Memcmp: &rpc.RPCFilterMemcmp{Offset: membershipDomainOffset, Bytes: c.Domain[:]}},
			{Memcmp: &rpc.RPCFilterMemcmp{Offset: membershipStatusOffset, Bytes: solana.Base58{byte(im.MembershipStatus_Admitted)}}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("list members of domain %s: %w", c.Domain, err)
	}
	var nodes []solana.PublicKey
	for _, a := range res {
		m, err := im.ParseAccount_Membership(a.Account.Data.GetBinary())
		if err != nil || !m.Domain.Equals(c.Domain) || m.Status != im.MembershipStatus_Admitted {
			continue
		}
		nodes = append(nodes, m.Node)
	}
	var out []Member
	for i := 0; i < len(nodes); i += maxAccounts {
		chunk := nodes[i:min(i+maxAccounts, len(nodes))]
		accs, err := c.RPC.GetMultipleAccountsWithOpts(ctx, chunk, &rpc.GetMultipleAccountsOpts{Commitment: c.Commitment, Encoding: solana.EncodingBase64})
		if err != nil {
			return nil, fmt.Errorf("read member nodes: %w", err)
		}
		for j, a := range accs.Value {
			if a == nil || a.Data == nil || !a.Owner.Equals(im.ProgramID) {
				continue
			}
			n, err := im.ParseAccount_Node(a.Data.GetBinary())
			if err != nil || n.Endpoint == "" {
				continue
			}
			out = append(out, Member{Node: chunk[j], URL: n.Endpoint})
		}
	}
	return out, nil
}

// ChainLanes reads ledger snapshots: escrows (as the domain's lane) and
// member nodes in one getMultipleAccounts call, at one slot.
type ChainLanes struct {
	RPC    RPC
	Domain solana.PublicKey
	// Serial is the domain's: lanes left by an earlier domain at its
	// address are not its own (rules.CheckDomainLane).
	Serial     uint64
	Commitment rpc.CommitmentType
}

// MaxEscrowsPerRead is how many escrows fit one read beside nodes nodes.
func MaxEscrowsPerRead(nodes int) int { return max(1, maxAccounts-nodes) }

// Read implements Chain. escrows and nodes together must fit one call.
func (c ChainLanes) Read(ctx context.Context, escrows, nodes []solana.PublicKey) (Snapshot, error) {
	keys := append(append(make([]solana.PublicKey, 0, len(escrows)+len(nodes)), escrows...), nodes...)
	if len(keys) > maxAccounts {
		return Snapshot{}, fmt.Errorf("%d accounts do not fit one read", len(keys))
	}
	res, err := c.RPC.GetMultipleAccountsWithOpts(ctx, keys, &rpc.GetMultipleAccountsOpts{Commitment: c.Commitment, Encoding: solana.EncodingBase64})
	if err != nil {
		return Snapshot{}, err
	}
	if len(res.Value) != len(keys) {
		return Snapshot{}, fmt.Errorf("getMultipleAccounts returned %d accounts for %d", len(res.Value), len(keys))
	}
	s := Snapshot{Slot: res.Context.Slot, Available: map[solana.PublicKey]uint64{}, RunSeq: map[solana.PublicKey]uint64{}}
	for i, e := range escrows {
		s.Available[e] = 0
		a := res.Value[i]
		if a == nil || a.Data == nil || !a.Owner.Equals(im.ProgramID) {
			continue
		}
		esc, err := im.ParseAccount_Escrow(a.Data.GetBinary())
		if err != nil {
			continue
		}
		if st := settlement.EscrowOf(esc, c.Domain); st.HasLane && rules.CheckDomainLane(st.LaneSerial, c.Serial) == nil {
			s.Available[e] = st.Available()
		}
	}
	for i, n := range nodes {
		a := res.Value[len(escrows)+i]
		if a == nil || a.Data == nil || !a.Owner.Equals(im.ProgramID) {
			// Unknown node: no run of it is known settled.
			continue
		}
		node, err := im.ParseAccount_Node(a.Data.GetBinary())
		if err != nil {
			continue
		}
		s.RunSeq[n] = node.LastRunSeq
	}
	return s, nil
}
