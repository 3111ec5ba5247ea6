package settler

import (
	"context"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/events"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/keepers/chainclock"
)

// maxAccountsPerCall is getMultipleAccounts' limit.
const maxAccountsPerCall = 100

// maxRotationHops bounds how far the settler follows rotated_to.
const maxRotationHops = 8

// view is the chain state a round works from.
type view struct {
	Node     *im.Node
	NodeAddr solana.PublicKey
	Meter    *im.MeterConfig
	// Now is the Clock sysvar's unix timestamp, Slot its slot.
	Now  int64
	Slot uint64
}

// readView reads the node, the meter and the clock in one call.
func (s *Settler) readView(ctx context.Context) (*view, error) {
	node := s.nodeAddr
	data, err := s.readAccounts(ctx, []solana.PublicKey{node, pda.Meter(), solana.SysVarClockPubkey})
	if err != nil {
		return nil, err
	}
	if data[0] == nil {
		return nil, fmt.Errorf("node %s: %w", node, ErrNoNode)
	}
	v := &view{NodeAddr: node}
	if v.Node, err = im.ParseAccount_Node(data[0]); err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	if data[1] == nil {
		return nil, fmt.Errorf("meter %s does not exist", pda.Meter())
	}
	if v.Meter, err = im.ParseAccount_MeterConfig(data[1]); err != nil {
		return nil, fmt.Errorf("meter: %w", err)
	}
	if v.Slot, v.Now, err = chainclock.ParseSysvar(data[2]); err != nil {
		return nil, err
	}
	if s.cfg.Clock != nil {
		s.cfg.Clock.Observe(v.Now)
	}
	return v, nil
}

// readAccounts returns the data of keys; nil for accounts that do not exist.
func (s *Settler) readAccounts(ctx context.Context, keys []solana.PublicKey) ([][]byte, error) {
	out := make([][]byte, 0, len(keys))
	for start := 0; start < len(keys); start += maxAccountsPerCall {
		chunk := keys[start:min(start+maxAccountsPerCall, len(keys))]
		res, err := s.rpc.GetMultipleAccountsWithOpts(ctx, chunk, &rpc.GetMultipleAccountsOpts{Commitment: s.cfg.Commitment})
		if err != nil {
			return nil, fmt.Errorf("get accounts: %w", err)
		}
		if len(res.Value) != len(chunk) {
			return nil, fmt.Errorf("get accounts: %d answers for %d accounts", len(res.Value), len(chunk))
		}
		for _, a := range res.Value {
			if a == nil {
				out = append(out, nil)
				continue
			}
			out = append(out, a.Data.GetBinary())
		}
	}
	return out, nil
}

// settleNode is what the settle instruction needs about the node.
func (s *Settler) settleNode(v *view) settlement.Node {
	op := v.Node.Operator
	acct := s.cfg.OperatorAccount
	if acct.IsZero() {
		acct = tokens.ATA(op, v.Meter.NativeMint, v.Meter.NativeTokenProgram)
	}
	return settlement.Node{
		Keeper: s.keeper, Operator: op, OperatorAccount: acct,
		NativeMint: v.Meter.NativeMint, TokenProgram: v.Meter.NativeTokenProgram,
	}
}

// escrowInfo is an escrow as settlement sees it, after following rotations.
type escrowInfo struct {
	// Target is the escrow that pays (the receipt's escrow, or where its
	// key was rotated to); zero when the escrow no longer exists.
	Target solana.PublicKey
	State  settlement.Escrow
}

// readEscrows resolves each escrow to the one that pays, following
// rotated_to, and reads its state. An escrow that no longer exists (or
// whose rotation chain is longer than maxRotationHops) maps to a zero Target.
func (s *Settler) readEscrows(ctx context.Context, keys []solana.PublicKey) (map[solana.PublicKey]escrowInfo, error) {
	out := make(map[solana.PublicKey]escrowInfo, len(keys))
	cur := make(map[solana.PublicKey]solana.PublicKey, len(keys)) // receipt escrow -> address to read
	for _, k := range keys {
		cur[k] = k
	}
	for hop := 0; hop <= maxRotationHops && len(cur) > 0; hop++ {
		seen := map[solana.PublicKey]bool{}
		var addrs []solana.PublicKey
		for _, a := range cur {
			if !seen[a] {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
		data, err := s.readAccounts(ctx, addrs)
		if err != nil {
			return nil, err
		}
		byAddr := make(map[solana.PublicKey][]byte, len(addrs))
		for i, a := range addrs {
			byAddr[a] = data[i]
		}
		next := map[solana.PublicKey]solana.PublicKey{}
		for src, addr := range cur {
			d := byAddr[addr]
			if d == nil {
				out[src] = escrowInfo{}
				continue
			}
			e, err := im.ParseAccount_Escrow(d)
			if err != nil {
				// Something else lives at the address: nothing can pay.
				out[src] = escrowInfo{}
				continue
			}
			if e.RotatedTo != nil {
				next[src] = *e.RotatedTo
				continue
			}
			out[src] = escrowInfo{Target: addr, State: settlement.EscrowOf(e, s.laneKey())}
		}
		cur = next
	}
	for src := range cur {
		out[src] = escrowInfo{}
	}
	return out, nil
}

// readModels reads model accounts by id.
func (s *Settler) readModels(ctx context.Context, ids []uint64) (map[uint64]settlement.Model, error) {
	keys := make([]solana.PublicKey, len(ids))
	for i, id := range ids {
		keys[i] = pda.Model(id)
	}
	data, err := s.readAccounts(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]settlement.Model, len(ids))
	for i, id := range ids {
		if data[i] == nil {
			out[id] = settlement.Model{ID: id}
			continue
		}
		m, err := mt.ParseAccount_Model(data[i])
		if err != nil {
			out[id] = settlement.Model{ID: id}
			continue
		}
		out[id] = settlement.Model{ID: m.Id, Active: m.Stage == mt.Stage_Active, Pricing: settlement.PricingOf(m)}
	}
	return out, nil
}

// batchEvent is a BatchSettled event found on chain.
type batchEvent struct {
	Sig   solana.Signature
	Slot  uint64
	Event *im.BatchSettled
}

// batchEventsIn returns the BatchSettled events of the landed transaction sig.
func (s *Settler) batchEventsIn(ctx context.Context, sig solana.Signature) ([]*im.BatchSettled, error) {
	payloads, err := events.Fetch(ctx, s.rpc, sig, im.ProgramID)
	if err != nil {
		return nil, err
	}
	var out []*im.BatchSettled
	for _, p := range payloads {
		if ev, err := im.ParseEvent_BatchSettled(p); err == nil {
			out = append(out, ev)
		}
	}
	return out, nil
}

// findBatchEvent searches the node's transaction history, newest first,
// for the BatchSettled event of seq. ok is false when the history the
// endpoint keeps holds none.
func (s *Settler) findBatchEvent(ctx context.Context, seq uint64) (batchEvent, bool, error) {
	var before solana.Signature
	for page := 0; page < 10; page++ {
		opts := &rpc.GetSignaturesForAddressOpts{Limit: ptr(1000), Commitment: s.cfg.Commitment}
		if !before.IsZero() {
			opts.Before = before
		}
		sigs, err := s.rpc.GetSignaturesForAddressWithOpts(ctx, s.nodeAddr, opts)
		if err != nil {
			return batchEvent{}, false, fmt.Errorf("node history: %w", err)
		}
		if len(sigs) == 0 {
			return batchEvent{}, false, nil
		}
		for _, info := range sigs {
			before = info.Signature
			if info.Err != nil {
				continue
			}
			evs, err := s.batchEventsIn(ctx, info.Signature)
			if errors.Is(err, events.ErrNotFound) {
				continue
			}
			if err != nil {
				return batchEvent{}, false, err
			}
			for _, ev := range evs {
				if !ev.Node.Equals(s.nodeAddr) {
					continue
				}
				if ev.BatchSeq == seq {
					return batchEvent{Sig: info.Signature, Slot: info.Slot, Event: ev}, true, nil
				}
				if ev.BatchSeq < seq {
					return batchEvent{}, false, nil
				}
			}
		}
	}
	return batchEvent{}, false, nil
}

func ptr[T any](v T) *T { return &v }

// NodeAddress derives the node account of an operator.
func NodeAddress(operator solana.PublicKey) solana.PublicKey { return pda.Node(operator) }

// ChainLastBatch reads the node's last settled batch sequence number.
func ChainLastBatch(ctx context.Context, client *rpc.Client, node solana.PublicKey) (uint64, error) {
	n, err := ChainNode(ctx, client, node)
	if err != nil {
		return 0, err
	}
	return n.LastBatchSeq, nil
}

// ChainNode reads the node account (its last batch and run numbers).
func ChainNode(ctx context.Context, client *rpc.Client, node solana.PublicKey) (*im.Node, error) {
	res, err := client.GetAccountInfoWithOpts(ctx, node, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if errors.Is(err, rpc.ErrNotFound) {
		return nil, fmt.Errorf("node %s: %w", node, ErrNoNode)
	}
	if err != nil {
		return nil, fmt.Errorf("read node %s: %w", node, err)
	}
	n, err := im.ParseAccount_Node(res.Value.Data.GetBinary())
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", node, err)
	}
	return n, nil
}

// readDomain reads the domain the settler settles for and the node's
// membership of it (nil outside a domain): settle checks both.
func (s *Settler) readDomain(ctx context.Context) (*settlement.DomainState, error) {
	if s.cfg.Domain == nil {
		return nil, nil
	}
	domain := s.cfg.Domain.Domain
	membership := pda.Membership(domain, s.nodeAddr)
	data, err := s.readAccounts(ctx, []solana.PublicKey{domain, membership})
	if err != nil {
		return nil, err
	}
	if data[0] == nil || data[1] == nil {
		return nil, fmt.Errorf("domain %s or node %s's membership of it does not exist", domain, s.nodeAddr)
	}
	d, err := im.ParseAccount_Domain(data[0])
	if err != nil {
		return nil, fmt.Errorf("domain %s: %w", domain, err)
	}
	m, err := im.ParseAccount_Membership(data[1])
	if err != nil {
		return nil, fmt.Errorf("membership %s: %w", membership, err)
	}
	return &settlement.DomainState{Domain: d, Membership: m}, nil
}
