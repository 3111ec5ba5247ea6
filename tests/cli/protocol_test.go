package cli_test

import (
	"strings"
	"testing"
)

// Only the programs' upgrade authority initialises the protocol; the admin
// takes protocol fees out of the fee vault with `mt protocol withdraw-fees`,
// nobody else can, and never more than it holds.
func TestProtocolInitAndFeeWithdrawal(t *testing.T) {
	e := newEnv(t)
	stranger := e.wallet("stranger", 5)
	if ce := e.fails(&stranger, "protocol", "init", "--create-native-mint", "--min-period", "1m"); !strings.Contains(ce.Error, "upgrade authority") {
		t.Fatalf("init by a stranger: %+v", ce)
	}
	creator, alice := e.wallet("creator", 5), e.wallet("alice", 5)
	admin, p := e.setup(creator, alice)
	e.ok(nil, &creator, "model", "launch", "--spec", writeSpec(t, e.dir, "1", "1000"))
	e.ok(&p, nil, "protocol", "show")
	if p.FeeVaultBalance.BaseUnits != 5_000_000 {
		t.Fatalf("fee vault after one launch: %+v", p)
	}

	if ce := e.fails(&alice, "protocol", "withdraw-fees", "--amount", "1"); !strings.Contains(ce.Error, "only the protocol admin") {
		t.Errorf("withdraw by a stranger: %+v", ce)
	}
	if ce := e.fails(&admin, "protocol", "withdraw-fees", "--amount", "5.000001"); !strings.Contains(ce.Error, "holds 5") {
		t.Errorf("withdraw more than held: %+v", ce)
	}
	before := e.nativeBalance(alice, p)
	e.ok(&p, &admin, "protocol", "withdraw-fees", "--amount", "2", "--to", alice.Pub())
	if p.FeeVaultBalance.BaseUnits != 3_000_000 || e.nativeBalance(alice, p) != before+2_000_000 {
		t.Errorf("after withdrawing 2 to alice: vault %+v, alice %d → %d", p.FeeVaultBalance, before, e.nativeBalance(alice, p))
	}
	e.ok(&p, &admin, "protocol", "withdraw-fees", "--amount", "all")
	if p.FeeVaultBalance.BaseUnits != 0 {
		t.Errorf("after withdrawing all: %+v", p)
	}
	if ce := e.fails(&admin, "protocol", "withdraw-fees", "--amount", "all"); !strings.Contains(ce.Error, "nothing to withdraw") {
		t.Errorf("withdraw from an empty vault: %+v", ce)
	}
}
