package rules

import (
	"errors"
	"testing"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
)

func TestDomainNameRule(t *testing.T) {
	for name, want := range map[string]error{
		"alpha": nil, "a": nil, "0123456789abcdef0123456789abcdef": nil,
		"": im.ErrInvalidDomainName, "has space": im.ErrInvalidDomainName, "0123456789abcdef0123456789abcdefX": im.ErrInvalidDomainName, "tab\t": im.ErrInvalidDomainName, "é": im.ErrInvalidDomainName,
	} {
		if err := CheckDomainName(name); !errors.Is(err, want) {
			t.Errorf("CheckDomainName(%q) = %v, want %v", name, err, want)
		}
	}
}

func TestDomainTermsAndBond(t *testing.T) {
	meter := &im.MeterConfig{WithdrawalNoticeSecs: 300, MinNodeStake: 1_000}
	cases := []struct {
		fee    uint16
		notice int64
		want   error
	}{{10_000, 300, nil}, {10_001, 300, im.ErrInvalidBps}, {0, 299, im.ErrPeriodTooShort}, {0, 0, im.ErrPeriodTooShort}}
	for _, c := range cases {
		if err := CheckDomainTerms(meter, c.fee, c.notice); !errors.Is(err, c.want) {
			t.Errorf("CheckDomainTerms(%d, %d) = %v, want %v", c.fee, c.notice, err, c.want)
		}
	}
	if err := CheckDomainBond(meter, 999); !errors.Is(err, im.ErrInsufficientBond) {
		t.Errorf("bond 999: %v", err)
	}
	if err := CheckDomainBond(meter, 1_000); err != nil {
		t.Errorf("bond 1000: %v", err)
	}
}

func TestDomainFeeRoundsDownAndFeeSwitchesAtItsTime(t *testing.T) {
	for _, c := range []struct {
		op   uint64
		bps  uint16
		want uint64
	}{{247, 1_000, 24}, {494, 1_000, 49}, {247, 5_000, 123}, {1, 9_999, 0}, {^uint64(0), 10_000, ^uint64(0)}, {^uint64(0), 1, ^uint64(0) / 10_000}} {
		if got, err := DomainFee(c.op, c.bps); err != nil || got != c.want {
			t.Errorf("DomainFee(%d, %d) = %d, %v; want %d", c.op, c.bps, got, err, c.want)
		}
	}
	if _, err := DomainFee(1, 10_001); !errors.Is(err, im.ErrInvalidBps) {
		t.Errorf("fee above 100%%: %v", err)
	}
	d := &im.Domain{FeeBps: 5_000, PreviousFeeBps: 1_000, FeeEffectiveAt: 100}
	if DomainFeeAt(d, 99) != 1_000 || DomainFeeAt(d, 100) != 5_000 {
		t.Errorf("fee switch: %d at 99, %d at 100", DomainFeeAt(d, 99), DomainFeeAt(d, 100))
	}
}

func TestMembershipWindows(t *testing.T) {
	removed := &im.Membership{Status: im.MembershipStatus_Removed, AdmittedAt: 100, EndedAt: 150, SettleUntil: 200}
	if err := MembershipMaySettle(removed, 200); err != nil {
		t.Errorf("at the end of the notice: %v", err)
	}
	if err := MembershipMaySettle(removed, 201); !errors.Is(err, im.ErrMembershipEnded) {
		t.Errorf("after the notice: %v", err)
	}
	if err := MembershipMaySettle(&im.Membership{Status: im.MembershipStatus_Requested}, 0); !errors.Is(err, im.ErrNotDomainMember) {
		t.Errorf("requested: %v", err)
	}
	for at, want := range map[int64]error{99: im.ErrServedOutsideMembership, 100: nil, 149: nil, 150: im.ErrServedOutsideMembership} {
		if err := ServedAsMember(removed, at); !errors.Is(err, want) {
			t.Errorf("served at %d: %v, want %v", at, err, want)
		}
	}
	node := &im.Node{Status: im.NodeStatus_Active, Stake: 10}
	if err := CheckNodeEligible(node, &im.Domain{MinNodeStake: 11}); !errors.Is(err, im.ErrBelowDomainMinStake) {
		t.Errorf("stake below: %v", err)
	}
	node.Status = im.NodeStatus_Inactive
	if err := CheckNodeEligible(node, &im.Domain{}); !errors.Is(err, im.ErrNodeInactive) {
		t.Errorf("inactive: %v", err)
	}
}

func TestDomainLaneBelongsToTheDomainOfItsSerial(t *testing.T) {
	if err := CheckDomainLane(3, 3); err != nil {
		t.Errorf("same serial: %v", err)
	}
	for _, c := range [][2]uint64{{3, 4}, {0, 1}} {
		if err := CheckDomainLane(c[0], c[1]); !errors.Is(err, im.ErrDomainLaneStale) {
			t.Errorf("lane #%d, domain #%d: %v", c[0], c[1], err)
		}
	}
}
