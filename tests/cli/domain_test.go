package cli_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/settlement"
	tok "github.com/modelcommons/modelcommons/clients/tokens"
)

// domainView is `mt domain show` as JSON.
type domainView struct {
	Address        string    `json:"address"`
	Operator       string    `json:"operator"`
	Name           string    `json:"name"`
	Bond           tokens    `json:"bond"`
	MinNodeStake   tokens    `json:"min_node_stake"`
	FeeBps         uint16    `json:"fee_bps"`
	PreviousFeeBps uint16    `json:"previous_fee_bps"`
	FeeEffectiveAt time.Time `json:"fee_effective_at"`
	NoticeSecs     int64     `json:"notice_secs"`
	Members        uint32    `json:"members"`
	Memberships    uint32    `json:"memberships"`
	MemberList     []struct {
		Node     string `json:"node"`
		Operator string `json:"operator"`
		Status   string `json:"status"`
		Endpoint string `json:"endpoint"`
	} `json:"member_list"`
}

// settleDomain makes n's keeper settle one run of model 0 (outputTokens at
// 0.002 native per 1 000) against escrow's lane for domain, as a member
// keeper would.
func (e *env) settleDomain(n *node, p protocolView, domain, domainOperator solana.PublicKey, escrow string, outputTokens uint64) error {
	e.t.Helper()
	mint := solana.MustPublicKeyFromBase58(p.NativeMint)
	return e.settleOn(n, p, escrow, outputTokens, &settlement.DomainLane{Domain: domain, OperatorAccount: tok.ATA(domainOperator, mint, solana.TokenProgramID)})
}

// A domain on a real chain through the CLI: create (refusals before
// sending), join, admit, list, show with members, an escrow lane to the
// domain, a member's settlement paying the domain fee out of the
// operator's cut to the base unit, a fee change scheduled after the
// notice, and a removal after which the node's new runs are refused.
func TestDomainThroughTheCLI(t *testing.T) {
	e := newEnv(t)
	creator, user, dop := e.wallet("creator", 5), e.wallet("user", 5), e.wallet("domain-operator", 5)
	n1 := &node{op: e.wallet("op1", 5), keeper: e.wallet("keeper1", 5)}
	n2 := &node{op: e.wallet("op2", 5), keeper: e.wallet("keeper2", 5)}
	admin, p := e.setup(creator, user, dop, n1.op, n2.op)
	var m modelView
	e.ok(&m, &creator, "model", "launch", "--spec", writeSpec(t, e.dir, "1", "1000"))
	e.ok(nil, &user, "crowdfund", "contribute", "0", "3")
	e.travel(m.Crowdfund.End)
	e.ok(&m, &user, "model", "finalize", "0")
	e.ok(nil, &admin, "meter", "init", "--min-node-stake", "10", "--unbonding", "1h", "--withdrawal-notice", "1h")
	e.ok(nil, &n1.op, "node", "register", "--keeper", n1.keeper.Pub(), "--endpoint", "https://member1.example/v1", "--stake", "20")
	e.ok(nil, &n2.op, "node", "register", "--keeper", n2.keeper.Pub(), "--endpoint", "https://member2.example/v1", "--stake", "10")

	// Refused before sending: a notice shorter than the meter's, a bond below the minimum.
	if ce := e.fails(&dop, "domain", "create", "alpha", "--bond", "10", "--fee-bps", "1000", "--notice", "30m"); !strings.Contains(ce.Error, "shorter than the meter's withdrawal notice") {
		t.Errorf("create with a short notice: %+v", ce)
	}
	if ce := e.fails(&dop, "domain", "create", "alpha", "--bond", "9", "--fee-bps", "1000"); !strings.Contains(ce.Error, "below the meter's minimum node stake") {
		t.Errorf("create with a small bond: %+v", ce)
	}
	var d domainView
	e.ok(&d, &dop, "domain", "create", "alpha", "--bond", "10", "--fee-bps", "1000", "--min-stake", "20", "--notice", "2h")
	domain := pda.Domain(dop.Key.PublicKey(), "alpha")
	if d.Address != domain.String() || d.Operator != dop.Pub() || d.Bond.BaseUnits != 10_000_000 || d.MinNodeStake.BaseUnits != 20_000_000 || d.FeeBps != 1_000 || d.NoticeSecs != 7_200 {
		t.Fatalf("create: %+v", d)
	}
	if ce := e.fails(&dop, "domain", "create", "alpha", "--bond", "10", "--fee-bps", "1000"); !strings.Contains(ce.Error, "already have a domain named") {
		t.Errorf("create twice: %+v", ce)
	}

	// Join: node 2's stake is below the domain's minimum; node 1 asks, then is admitted.
	ref := dop.Pub() + "/alpha"
	if ce := e.fails(&n2.op, "domain", "join", ref); !strings.Contains(ce.Error, "cannot join") {
		t.Errorf("join below the domain's minimum stake: %+v", ce)
	}
	e.ok(&d, &n1.op, "domain", "join", ref)
	if d.Members != 0 || d.Memberships != 1 || len(d.MemberList) != 1 || d.MemberList[0].Status != "requested" {
		t.Fatalf("join: %+v", d)
	}
	if ce := e.fails(&n1.op, "domain", "admit", ref, n1.op.Pub()); !strings.Contains(ce.Error, "only the operator") {
		t.Errorf("a node admitting itself: %+v", ce)
	}
	e.ok(&d, &dop, "domain", "admit", "alpha", n1.op.Pub())
	if ce := e.fails(&n1.op, "domain", "join", ref); !strings.Contains(ce.Error, "already has a membership") {
		t.Errorf("join twice: %+v", ce)
	}
	if d.Members != 1 || d.MemberList[0].Status != "admitted" || d.MemberList[0].Endpoint != "https://member1.example/v1" || d.MemberList[0].Node != n1.addr() {
		t.Fatalf("admit: %+v", d)
	}
	var list struct {
		Domains []domainView `json:"domains"`
	}
	e.ok(&list, nil, "domain", "list", "--operator", dop.Pub())
	if len(list.Domains) != 1 || list.Domains[0].Name != "alpha" || list.Domains[0].Members != 1 {
		t.Fatalf("list: %+v", list)
	}

	// An escrow lane to the domain, shown as the domain's.
	esc := e.escrowOK(&user, "escrow", "open", "--deposit", "10")
	key := esc.APIKey
	esc = e.escrowOK(&user, "escrow", "allow", key, "--domain", ref, "5")
	if len(esc.Lanes) != 1 || esc.Lanes[0].Node != domain.String() || esc.Lanes[0].Balance.BaseUnits != 5_000_000 || !strings.Contains(esc.Lanes[0].NodeStatus, `domain "alpha"`) {
		t.Fatalf("allow --domain: %+v", esc)
	}
	if ce := e.fails(&user, "escrow", "allow", key, "--domain", dop.Pub()+"/nosuch", "1"); !strings.Contains(ce.Error, "no domain at") {
		t.Errorf("allow to a missing domain: %+v", ce)
	}

	// The member settles one 2-native run: protocol, domain and node operator to the base unit.
	cfg := readMeter(t, e)
	domainBefore, nodeBefore := e.nativeBalance(dop, p), e.nativeBalance(n1.op, p)
	if err := e.settleDomain(n1, p, domain, dop.Key.PublicKey(), esc.Address, 1_000_000); err != nil {
		t.Fatal(err)
	}
	sp, err := settlement.SplitCharged(2_000_000, cfg.SettlementFeeBps, cfg.OperatorShareBps)
	if err != nil {
		t.Fatal(err)
	}
	fee, _ := rules.DomainFee(sp.ToOperator, 1_000)
	if got := e.nativeBalance(dop, p) - domainBefore; got != fee || fee == 0 {
		t.Errorf("domain operator got %d, want %d", got, fee)
	}
	if got := e.nativeBalance(n1.op, p) - nodeBefore; got != sp.ToOperator-fee {
		t.Errorf("node operator got %d, want %d", got, sp.ToOperator-fee)
	}
	esc = e.escrowOK(nil, "escrow", "show", key)
	if esc.Lanes[0].Balance.BaseUnits != 3_000_000 {
		t.Fatalf("domain lane after the run: %+v", esc.Lanes[0])
	}

	// A fee change applies after the notice.
	now, err := e.chain.Now(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.ok(&d, &dop, "domain", "set-fee", "alpha", "2000")
	if d.FeeBps != 2_000 || d.PreviousFeeBps != 1_000 || d.FeeEffectiveAt.Before(now.Add(2*time.Hour)) {
		t.Fatalf("set-fee: %+v", d)
	}
	if ce := e.fails(&n1.op, "domain", "set-fee", ref, "0"); !strings.Contains(ce.Error, "only the operator") {
		t.Errorf("set-fee by a member: %+v", ce)
	}

	// Removed: the node's new runs are no longer the domain's.
	e.ok(&d, &dop, "domain", "remove", "alpha", n1.addr())
	if d.Members != 0 || d.MemberList[0].Status != "removed" {
		t.Fatalf("remove: %+v", d)
	}
	if err := e.settleDomain(n1, p, domain, dop.Key.PublicKey(), esc.Address, 1_000); !errors.Is(err, im.ErrServedOutsideMembership) {
		t.Fatalf("a run served after removal: %v, want ServedOutsideMembership", err)
	}
	if ce := e.fails(&n1.op, "domain", "leave", ref); !strings.Contains(ce.Error, "already Removed") {
		t.Errorf("leave after removal: %+v", ce)
	}

	// Closing: not while the removed member may still settle; then the membership, then the domain with its bond.
	if ce := e.fails(&dop, "domain", "close", "alpha"); !strings.Contains(ce.Error, "still has 1 membership") {
		t.Errorf("close with a membership: %+v", ce)
	}
	if ce := e.fails(&dop, "domain", "close-membership", "alpha", n1.op.Pub()); !strings.Contains(ce.Error, "may settle what it served until") {
		t.Errorf("close-membership inside the notice: %+v", ce)
	}
	removedAt, err := e.chain.Now(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.travel(removedAt.Add(2*time.Hour + 2*time.Second))
	e.ok(nil, &dop, "domain", "close-membership", "alpha", n1.op.Pub())
	bondBefore := e.nativeBalance(dop, p)
	e.ok(nil, &dop, "domain", "close", "alpha")
	if got := e.nativeBalance(dop, p) - bondBefore; got != 10_000_000 {
		t.Errorf("bond returned %d, want 10 native", got)
	}
	if ce := e.fails(nil, "domain", "show", ref); !strings.Contains(ce.Error, "no domain at") {
		t.Errorf("show a closed domain: %+v", ce)
	}

	// Created again under the same name: the same address, a new domain.
	// The user's old lane is not the new domain's: shown stale, topping it
	// up refused before sending, taken back the usual way.
	e.ok(&d, &dop, "domain", "create", "alpha", "--bond", "10", "--fee-bps", "9000", "--notice", "2h")
	if d.Address != domain.String() {
		t.Fatalf("re-created at %s, want %s", d.Address, domain)
	}
	esc = e.escrowOK(nil, "escrow", "show", key)
	if !strings.Contains(esc.Lanes[0].NodeStatus, "stale") {
		t.Errorf("the old lane after re-creation: %+v", esc.Lanes[0])
	}
	if ce := e.fails(&user, "escrow", "allow", key, "--domain", ref, "1"); !strings.Contains(ce.Error, "opened to an earlier domain") || !strings.Contains(ce.Fix, "mt escrow revoke") {
		t.Errorf("allow to a stale lane: %+v", ce)
	}
	rv := e.escrowOK(&user, "escrow", "revoke", key, domain.String())
	if rv.Revocation == nil || rv.Revocation.Step != "requested" {
		t.Fatalf("revoke the stale lane (request): %+v", rv)
	}
	e.travel(rv.Revocation.RevocableAt.Add(time.Second))
	if rv = e.escrowOK(&user, "escrow", "revoke", key, domain.String()); len(rv.Lanes) != 0 || rv.Unallocated.BaseUnits != 8_000_000 {
		t.Fatalf("revoke the stale lane: %+v", rv)
	}

	// The domain operator runs a member node itself: settlement passes its
	// one token account once, and it takes the whole operator cut (the
	// domain's 90% and the node's 10%) to the base unit.
	own := &node{op: dop, keeper: e.wallet("keeper-own", 5)}
	e.ok(nil, &dop, "node", "register", "--keeper", own.keeper.Pub(), "--endpoint", "https://own.example/v1", "--stake", "10")
	e.ok(nil, &dop, "domain", "join", ref)
	e.ok(&d, &dop, "domain", "admit", "alpha", dop.Pub())
	e.escrowOK(&user, "escrow", "allow", key, "--domain", ref, "5")
	ownBefore := e.nativeBalance(dop, p)
	if err := e.settleDomain(own, p, domain, dop.Key.PublicKey(), esc.Address, 1_000_000); err != nil {
		t.Fatalf("the domain operator's own node settling: %v", err)
	}
	if got := e.nativeBalance(dop, p) - ownBefore; got != sp.ToOperator {
		t.Errorf("domain operator's one account got %d, want the operator cut %d", got, sp.ToOperator)
	}
}

func readMeter(t *testing.T, e *env) *im.MeterConfig {
	t.Helper()
	info, err := e.chain.RPC.GetAccountInfo(e.ctx, pda.Meter())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := im.ParseAccount_MeterConfig(info.Value.Data.GetBinary())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
