package settlement

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/gagliardetto/solana-go"

	meter "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
)

// domainState is one escrow with 1 000 000 in a domain lane, a member
// admitted at 100 and a domain fee of 10% (the Rust meter_domains set-up).
func domainState(m *meter.Membership) (State, solana.PublicKey, solana.PublicKey) {
	model, escrow := key(1), key(9)
	d := &meter.Domain{FeeBps: 1_000, PreviousFeeBps: 1_000}
	return State{
		SettlementFeeBps: 100, OperatorShareBps: 2_000,
		Models:  map[solana.PublicKey]Model{model: {ID: 1, Active: true, Pricing: flat(10, 30)}},
		Escrows: map[solana.PublicKey]Escrow{escrow: {HasLane: true, Balance: 1_000_000}},
		Now:     200,
		Domain:  &DomainState{Domain: d, Membership: m},
	}, model, escrow
}

func admitted() *meter.Membership {
	return &meter.Membership{Status: meter.MembershipStatus_Admitted, AdmittedAt: 100}
}

func domainBatch(t *testing.T, model, escrow solana.PublicKey, servedAt ...int64) *Layout {
	t.Helper()
	var entries []Entry
	for _, at := range servedAt {
		entries = append(entries, Single(escrow, model, 1, 123_457, 0, at))
	}
	l, err := Build(1, [32]byte{}, Runs{1, uint64(len(entries))}, entries)
	if err != nil {
		t.Fatal(err)
	}
	l.Domain = &DomainLane{Domain: key(50), OperatorAccount: key(51)}
	return l
}

// The hand-worked batch of meter_domains.rs: 1 235 charged; protocol 13,
// domain 24 out of the operator's 247, node operator 223, model 975.
func TestDomainBatchMatchesTheProgramToTheBaseUnit(t *testing.T) {
	s, model, escrow := domainState(admitted())
	out, err := Settle(s, domainBatch(t, model, escrow, 150))
	if err != nil {
		t.Fatal(err)
	}
	got := [5]uint64{out.Charged, out.ToProtocol, out.ToDomain, out.ToOperator, out.ToModels}
	if got != [5]uint64{1_235, 13, 24, 223, 975} {
		t.Fatalf("charged, protocol, domain, operator, models = %v", got)
	}
}

func TestDomainBatchTakesTheLowestFeeOfItsRuns(t *testing.T) {
	s, model, escrow := domainState(admitted())
	s.Domain.Domain.FeeBps, s.Domain.Domain.FeeEffectiveAt = 5_000, 150
	out, err := Settle(s, domainBatch(t, model, escrow, 149, 150))
	if err != nil {
		t.Fatal(err)
	}
	if out.ToDomain != 49 { // floor(494 × 10%)
		t.Fatalf("straddling batch: domain %d, want 49", out.ToDomain)
	}
	if out, _ = Settle(s, domainBatch(t, model, escrow, 150)); out.ToDomain != 123 {
		t.Fatalf("after the switch: domain %d, want 123", out.ToDomain)
	}
}

func TestDomainBatchRefusesWhatTheProgramRefuses(t *testing.T) {
	ended := &meter.Membership{Status: meter.MembershipStatus_Removed, AdmittedAt: 100, EndedAt: 150, SettleUntil: 190}
	for _, c := range []struct {
		name     string
		m        *meter.Membership
		servedAt int64
		noLane   bool
		want     error
	}{
		{"only requested", &meter.Membership{Status: meter.MembershipStatus_Requested}, 150, false, meter.ErrNotDomainMember},
		{"notice over", ended, 149, false, meter.ErrMembershipEnded},
		{"served before admission", admitted(), 99, false, meter.ErrServedOutsideMembership},
		{"served at removal", &meter.Membership{Status: meter.MembershipStatus_Removed, AdmittedAt: 100, EndedAt: 150, SettleUntil: 300}, 150, false, meter.ErrServedOutsideMembership},
		{"no lane to the domain", admitted(), 150, true, meter.ErrNoLaneForDomain},
		{"lane left by an earlier domain at the address", admitted(), 150, false, meter.ErrDomainLaneStale},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, model, escrow := domainState(c.m)
			if c.noLane {
				s.Escrows[escrow] = Escrow{}
			}
			if c.want == meter.ErrDomainLaneStale {
				s.Domain.Domain.Serial = 2 // re-created; the lane recorded serial 0
			}
			if _, err := Settle(s, domainBatch(t, model, escrow, c.servedAt)); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	// Inside the notice, runs served before the removal settle.
	s, model, escrow := domainState(&meter.Membership{Status: meter.MembershipStatus_Removed, AdmittedAt: 100, EndedAt: 150, SettleUntil: 200})
	if _, err := Settle(s, domainBatch(t, model, escrow, 149)); err != nil {
		t.Fatalf("late settlement inside the notice: %v", err)
	}
}

// Property: whatever the fees, the protocol's share is rounded up, the
// domain's down out of the operator's cut, and the parts sum to the charge.
func TestDomainSplitPreservesTheChargeAndFavoursTheProtocol(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 1))
	for i := 0; i < 20_000; i++ {
		charged := r.Uint64() >> uint(r.IntN(64))
		fee := uint16(r.IntN(10_001))
		op := uint16(r.IntN(10_001 - int(fee)))
		dom := uint16(r.IntN(10_001))
		sp, err := SplitCharged(charged, fee, op)
		if err != nil {
			t.Fatal(err)
		}
		toDomain, err := rules.DomainFee(sp.ToOperator, dom)
		if err != nil {
			t.Fatal(err)
		}
		if sp.ToProtocol+toDomain+(sp.ToOperator-toDomain)+sp.ToModel != charged || toDomain > sp.ToOperator {
			t.Fatalf("charged %d fee %d op %d dom %d: %+v domain %d", charged, fee, op, dom, sp, toDomain)
		}
		exactProtocol, _ := MulDivFloor(charged, uint64(fee), uint64(BPS))
		if sp.ToProtocol < exactProtocol || (sp.ToProtocol-exactProtocol) > 1 {
			t.Fatalf("protocol %d not the ceiling of %d × %d bps", sp.ToProtocol, charged, fee)
		}
		if want, _ := MulDivFloor(sp.ToOperator, uint64(dom), uint64(BPS)); toDomain != want {
			t.Fatalf("domain %d, want floor %d", toDomain, want)
		}
	}
}

// A domain batch's instruction carries the three domain accounts and decodes back to them.
func TestDomainSettleInstructionDecodesBack(t *testing.T) {
	_, model, escrow := domainState(admitted())
	l := domainBatch(t, model, escrow, 150)
	keeper := solana.NewWallet()
	n := Node{Keeper: keeper.PublicKey(), Operator: key(60), OperatorAccount: key(61), NativeMint: key(62), TokenProgram: solana.TokenProgramID}
	ix, err := Instruction(n, l)
	if err != nil {
		t.Fatal(err)
	}
	accounts := ix.Accounts()
	if !accounts[settleDomainAccounts].PublicKey.Equals(pda.Membership(l.Domain.Domain, pda.Node(n.Operator))) || !accounts[settleDomainAccounts+2].IsWritable {
		t.Fatalf("domain accounts %+v", accounts[settleDomainAccounts:settleDomainAccounts+3])
	}
	tx, err := solana.NewTransaction([]solana.Instruction{ix}, solana.Hash{}, solana.TransactionPayer(keeper.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := DecodeSettle(tx, nil)
	if err != nil || !ok || !reflect.DeepEqual(got.Domain, l.Domain) || !reflect.DeepEqual(got.Escrows, l.Escrows) {
		t.Fatalf("decoded %+v (%v %v), built %+v", got, ok, err, l)
	}
	// A node batch holds read-only program-id placeholders.
	l.Domain = nil
	ix, _ = Instruction(n, l)
	for _, a := range ix.Accounts()[settleDomainAccounts : settleDomainAccounts+3] {
		if !a.PublicKey.Equals(meter.ProgramID) || a.IsWritable {
			t.Fatalf("placeholder %+v", a)
		}
	}
}

// The domain operator's own member node: the fee account is its operator
// account, passed once (writable) with a read-only placeholder for the
// domain account, and it decodes back to the same layout.
func TestDomainSettleInstructionPassesOneAccountForTheOperatorsOwnNode(t *testing.T) {
	_, model, escrow := domainState(admitted())
	l := domainBatch(t, model, escrow, 150)
	keeper := solana.NewWallet()
	n := Node{Keeper: keeper.PublicKey(), Operator: key(60), OperatorAccount: l.Domain.OperatorAccount, NativeMint: key(62), TokenProgram: solana.TokenProgramID}
	ix, err := Instruction(n, l)
	if err != nil {
		t.Fatal(err)
	}
	accounts := ix.Accounts()
	fee := accounts[settleDomainAccounts+2]
	if !fee.PublicKey.Equals(meter.ProgramID) || fee.IsWritable || !accounts[settleOperatorAccount].PublicKey.Equals(n.OperatorAccount) || !accounts[settleOperatorAccount].IsWritable {
		t.Fatalf("operator account %+v, domain account %+v", accounts[settleOperatorAccount], fee)
	}
	tx, err := solana.NewTransaction([]solana.Instruction{ix}, solana.Hash{}, solana.TransactionPayer(keeper.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := DecodeSettle(tx, nil)
	if err != nil || !ok || !reflect.DeepEqual(got.Domain, l.Domain) {
		t.Fatalf("decoded %+v (%v %v), built %+v", got, ok, err, l.Domain)
	}
}
