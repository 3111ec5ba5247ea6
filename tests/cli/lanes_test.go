package cli_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	mtc "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	tok "github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/clients/txsend"
)

// node is a registered node: its operator and keeper wallets.
type node struct {
	op, keeper wallet
	seq        uint64 // last batch (and run) settled
}

func (n *node) addr() string { return pda.Node(n.op.Key.PublicKey()).String() }

// settle makes n's keeper settle one run of model 0 against escrow, as the
// keeper daemon would (model 0 charges 0.002 native per 1 000 output
// tokens).
func (e *env) settle(n *node, p protocolView, escrow string, outputTokens uint64) error {
	e.t.Helper()
	return e.settleOn(n, p, escrow, outputTokens, nil)
}

// settleOn settles that one run against n's own lane on escrow (domain
// nil) or against the escrow's lane to a domain n is a member of.
func (e *env) settleOn(n *node, p protocolView, escrow string, outputTokens uint64, domain *settlement.DomainLane) error {
	e.t.Helper()
	now, err := e.chain.Now(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	mint := solana.MustPublicKeyFromBase58(p.NativeMint)
	op := n.op.Key.PublicKey()
	entry := settlement.Single(solana.MustPublicKeyFromBase58(escrow), pda.Model(0), 1, 0, outputTokens, now.Unix())
	l, err := settlement.Build(n.seq+1, [32]byte{1}, settlement.Runs{First: n.seq + 1, Last: n.seq + 1}, []settlement.Entry{entry})
	if err != nil {
		e.t.Fatal(err)
	}
	l.Domain = domain
	ix, err := settlement.Instruction(settlement.Node{
		Keeper: n.keeper.Key.PublicKey(), Operator: op, OperatorAccount: tok.ATA(op, mint, solana.TokenProgramID),
		NativeMint: mint, TokenProgram: solana.TokenProgramID,
	}, l)
	if err != nil {
		e.t.Fatal(err)
	}
	s := txsend.New(txsend.Config{RPC: e.chain.RPC, Errors: txsend.Tables{im.ProgramID: im.Errors, mtc.ProgramID: mtc.Errors}, PollInterval: 50 * time.Millisecond})
	if _, err := s.Send(e.ctx, txsend.Tx{Instructions: []solana.Instruction{ix}, Payer: n.keeper.Key.PublicKey(), Signers: []solana.PrivateKey{n.keeper.Key}}); err != nil {
		return err
	}
	n.seq++
	return nil
}

// escrowOK runs an escrow command that must succeed and decodes its
// output into a fresh view (decoding into a used one would keep fields the
// new output leaves out, such as a revocable_at that is gone).
func (e *env) escrowOK(signer *wallet, args ...string) escrowView {
	e.t.Helper()
	var v escrowView
	e.ok(&v, signer, args...)
	return v
}

// lane is the escrow's lane for n, or nil.
func (v escrowView) lane(n *node) *laneView {
	for i := range v.Lanes {
		if v.Lanes[i].Node == n.addr() {
			return &v.Lanes[i]
		}
	}
	return nil
}

// An API user's escrow spent through lanes: open with a lane to one node,
// deposit and allow a second (by its node address), refusals before
// sending; a node without a lane cannot charge it and a node with one
// takes at most its lane; revocation takes a notice during which the node
// can still settle, then returns the lane's balance; close needs no lanes.
func TestEscrowLanes(t *testing.T) {
	e := newEnv(t)
	creator, user, stranger := e.wallet("creator", 5), e.wallet("user", 5), e.wallet("stranger", 5)
	n1 := &node{op: e.wallet("op1", 5), keeper: e.wallet("keeper1", 5)}
	n2 := &node{op: e.wallet("op2", 5), keeper: e.wallet("keeper2", 5)}
	n3 := &node{op: e.wallet("op3", 5), keeper: e.wallet("keeper3", 5)}
	admin, p := e.setup(creator, user, stranger, n1.op, n2.op, n3.op)
	var m modelView
	e.ok(&m, &creator, "model", "launch", "--spec", writeSpec(t, e.dir, "1", "1000"))
	e.ok(nil, &user, "crowdfund", "contribute", "0", "3")
	e.travel(m.Crowdfund.End)
	e.ok(&m, &user, "model", "finalize", "0")
	e.ok(nil, &admin, "meter", "init", "--min-node-stake", "10", "--unbonding", "1h", "--withdrawal-notice", "1h")
	for i, n := range []*node{n1, n2, n3} {
		e.ok(nil, &n.op, "node", "register", "--keeper", n.keeper.Pub(), "--endpoint", "https://node"+string(rune('1'+i))+".example/v1", "--stake", "10")
	}

	// Without --node the deposit is unallocated, and the output says so.
	if out := e.text(&user, "escrow", "open", "--deposit", "1"); !strings.Contains(out, "no node can spend this escrow yet") {
		t.Errorf("open without --node does not say the money is not spendable yet:\n%s", out)
	}

	// Open, deposit and allow node 1 (named by its operator) in one transaction.
	esc := e.escrowOK(&user, "escrow", "open", "--deposit", "10", "--node", n1.op.Pub())
	key := esc.APIKey
	if l := esc.lane(n1); l == nil || l.Balance.BaseUnits != 10_000_000 || l.Operator != n1.op.Pub() || l.Endpoint != "https://node1.example/v1" ||
		l.NodeStatus != "active" || esc.Unallocated.BaseUnits != 0 || esc.Balance.BaseUnits != 10_000_000 || esc.Allowed == nil || esc.Allowed.Node != n1.addr() {
		t.Fatalf("open --node: %+v", esc)
	}

	// Refused before sending: more than the unallocated balance, a stranger, something that is not a node.
	if ce := e.fails(&user, "escrow", "allow", key, n2.op.Pub(), "3"); !strings.Contains(ce.Error, "0 unallocated") || !strings.Contains(ce.Fix, "--node") {
		t.Errorf("allow beyond the unallocated balance: %+v", ce)
	}
	esc = e.escrowOK(&user, "escrow", "deposit", key, "5")
	if esc.Unallocated.BaseUnits != 5_000_000 || len(esc.Lanes) != 1 {
		t.Fatalf("deposit without --node: %+v", esc)
	}
	if ce := e.fails(&stranger, "escrow", "allow", key, n2.op.Pub(), "1"); !strings.Contains(ce.Error, "not by you") {
		t.Errorf("allow by a stranger: %+v", ce)
	}
	if ce := e.fails(&user, "escrow", "allow", key, creator.Pub(), "1"); !strings.Contains(ce.Error, "neither a node nor the operator") {
		t.Errorf("allow to a wallet that runs no node: %+v", ce)
	}

	// Node 2, named by its node address, gets 2 of the 5.
	esc = e.escrowOK(&user, "escrow", "allow", key, n2.addr(), "2")
	if l := esc.lane(n2); l == nil || l.Balance.BaseUnits != 2_000_000 || esc.Unallocated.BaseUnits != 3_000_000 || esc.Balance.BaseUnits != 15_000_000 {
		t.Fatalf("allow: %+v", esc)
	}

	// deposit --node: deposit and allow in one go, only by the owner.
	if ce := e.fails(&stranger, "escrow", "deposit", key, "1", "--expected-owner", user.Pub(), "--node", n2.op.Pub()); !strings.Contains(ce.Error, "only the escrow's owner") {
		t.Errorf("deposit --node by a stranger: %+v", ce)
	}
	esc = e.escrowOK(&user, "escrow", "deposit", key, "1", "--node", n2.op.Pub())
	if l := esc.lane(n2); l == nil || l.Balance.BaseUnits != 3_000_000 || esc.Unallocated.BaseUnits != 3_000_000 || esc.Allowed == nil || esc.Allowed.Amount.BaseUnits != 1_000_000 {
		t.Fatalf("deposit --node: %+v", esc)
	}

	// A node without a lane cannot charge the escrow at all.
	if err := e.settle(n3, p, esc.Address, 1_000); !errors.Is(err, im.ErrNoLaneForNode) {
		t.Fatalf("node 3 settling against an escrow with no lane for it: %v, want NoLaneForNode", err)
	}
	// A node with a lane takes at most the lane (3): node 2's run costs 2 000.
	if err := e.settle(n2, p, esc.Address, 1_000_000_000); err != nil {
		t.Fatal(err)
	}
	esc = e.escrowOK(nil, "escrow", "show", key)
	if l := esc.lane(n2); l == nil || l.Balance.BaseUnits != 0 || l.Spent.BaseUnits != 3_000_000 ||
		esc.lane(n1).Balance.BaseUnits != 10_000_000 || esc.Unallocated.BaseUnits != 3_000_000 || esc.Unpaid.BaseUnits == 0 {
		t.Fatalf("after node 2 overran its lane: %+v", esc)
	}

	// Revocation: requested (both lanes), refused before the notice, the
	// node still settles in the meantime, completed after it.
	rv := e.escrowOK(&user, "escrow", "revoke", key, n1.op.Pub())
	if rv.Revocation == nil || rv.Revocation.Step != "requested" || rv.lane(n1).RevocableAt == nil || !rv.lane(n1).RevocableAt.Equal(rv.Revocation.RevocableAt) {
		t.Fatalf("revoke (request): %+v", rv)
	}
	due := rv.Revocation.RevocableAt
	ce := e.fails(&user, "escrow", "revoke", key, n1.op.Pub())
	if !strings.Contains(ce.Error, "can complete at "+due.Format(time.RFC3339)) || !strings.Contains(ce.Fix, "still settle") {
		t.Errorf("revoke before the notice: %+v", ce)
	}
	if ce := e.fails(&user, "escrow", "revoke", key, n3.op.Pub()); !strings.Contains(ce.Error, "no lane for node") {
		t.Errorf("revoke a node without a lane: %+v", ce)
	}
	// Allowing again cancels a pending revocation; then node 2's is requested for good.
	rv = e.escrowOK(&user, "escrow", "revoke", key, n2.op.Pub())
	again := e.escrowOK(&user, "escrow", "allow", key, n2.op.Pub(), "0")
	if again.lane(n2).RevocableAt != nil {
		t.Errorf("allow did not cancel the revocation: %+v", again.lane(n2))
	}
	// The same request again would be the same transaction within one
	// blockhash (AlreadyProcessed): let the chain move on first.
	if err := e.chain.WarpSlots(e.ctx, 1); err != nil {
		t.Fatal(err)
	}
	rv = e.escrowOK(&user, "escrow", "revoke", key, n2.op.Pub())
	if ce := e.fails(&user, "escrow", "close", key); !strings.Contains(ce.Error, "lanes open to 2 node(s)") || !strings.Contains(ce.Fix, "mt escrow revoke") {
		t.Errorf("close with lanes open: %+v", ce)
	}
	// 2 000 000 output tokens: 4 native out of node 1's 10.
	if err := e.settle(n1, p, esc.Address, 2_000_000); err != nil {
		t.Fatalf("node 1 settling during the notice: %v", err)
	}
	esc = e.escrowOK(nil, "escrow", "show", key)
	left := esc.lane(n1).Balance.BaseUnits
	if left != 6_000_000 {
		t.Fatalf("node 1's lane after a 4-native run: %+v", esc.lane(n1))
	}

	e.travel(rv.Revocation.RevocableAt)
	rv = e.escrowOK(&user, "escrow", "revoke", key, n1.addr())
	if rv.Revocation == nil || rv.Revocation.Step != "revoked" || rv.Revocation.Returned == nil || rv.Revocation.Returned.BaseUnits != left ||
		rv.lane(n1) != nil || rv.Unallocated.BaseUnits != 3_000_000+left {
		t.Fatalf("revoke (complete): %+v", rv)
	}
	if err := e.settle(n1, p, esc.Address, 1_000); !errors.Is(err, im.ErrNoLaneForNode) {
		t.Errorf("node 1 settling after its lane was revoked: %v, want NoLaneForNode", err)
	}
	rv = e.escrowOK(&user, "escrow", "revoke", key, n2.op.Pub())
	if rv.Revocation.Step != "revoked" || rv.Revocation.Returned.BaseUnits != 0 || len(rv.Lanes) != 0 {
		t.Fatalf("revoke node 2's empty lane: %+v", rv)
	}

	// With no lanes left, only the unallocated balance stands between the escrow and closing.
	if ce := e.fails(&user, "escrow", "close", key); !strings.Contains(ce.Error, "still holds 9") {
		t.Errorf("close with money in it: %+v", ce)
	}
	rv = e.escrowOK(&user, "escrow", "request-withdrawal", key, "all")
	e.travel(rv.Withdrawal.AvailableAt)
	rv = e.escrowOK(&user, "escrow", "withdraw", key)
	if rv.Withdrawn == nil || rv.Withdrawn.BaseUnits != 9_000_000 {
		t.Fatalf("withdraw: %+v", rv)
	}
	var closed struct {
		Closed string `json:"closed"`
	}
	e.ok(&closed, &user, "escrow", "close", key)
	if closed.Closed != esc.Address {
		t.Errorf("close: %+v", closed)
	}
}
