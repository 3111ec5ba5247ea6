package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/clients/pda"
)

type escrowView struct {
	Address       string     `json:"address"`
	Owner         string     `json:"owner"`
	Balance       tokens     `json:"balance"`
	Unallocated   tokens     `json:"unallocated"`
	Unpaid        tokens     `json:"unpaid"`
	Lanes         []laneView `json:"lanes"`
	SpendLimit    *tokens    `json:"spend_limit"`
	AllowedModels []uint64   `json:"allowed_models"`
	Withdrawal    *struct {
		Amount      tokens    `json:"amount"`
		AvailableAt time.Time `json:"available_at"`
	} `json:"withdrawal"`
	RotatedTo *string `json:"rotated_to"`
	APIKey    string  `json:"api_key"`
	Withdrawn *tokens `json:"withdrawn"`
	Allowed   *struct {
		Node   string `json:"node"`
		Amount tokens `json:"amount"`
	} `json:"allowed"`
	Revocation *struct {
		Node        string    `json:"node"`
		Step        string    `json:"step"`
		RevocableAt time.Time `json:"revocable_at"`
		Returned    *tokens   `json:"returned"`
	} `json:"revocation"`
}

type laneView struct {
	Node        string     `json:"node"`
	Operator    string     `json:"operator"`
	Endpoint    string     `json:"endpoint"`
	NodeStatus  string     `json:"node_status"`
	Balance     tokens     `json:"balance"`
	Spent       tokens     `json:"spent"`
	RevocableAt *time.Time `json:"revocable_at"`
}

type nodeView struct {
	Address   string  `json:"address"`
	Operator  string  `json:"operator"`
	Keeper    string  `json:"keeper"`
	Status    string  `json:"status"`
	Stake     tokens  `json:"stake"`
	Endpoint  string  `json:"endpoint"`
	Withdrawn *tokens `json:"withdrawn"`
}

// The admin's meter commands, and an API user's escrow from open to
// withdrawal and key rotation, with the front-running defence.
func TestEscrowLifecycle(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.wallet("alice", 5), e.wallet("bob", 5)
	admin, p := e.setup(alice, bob)

	if ce := e.fails(&alice, "meter", "init"); !strings.Contains(ce.Error, "only the protocol admin") {
		t.Errorf("meter init by a stranger: %+v", ce)
	}
	if ce := e.fails(&admin, "meter", "init", "--unbonding", "30s", "--settlement-fee-bps", "9000", "--operator-share-bps", "2000"); !strings.Contains(ce.Error, "minimum period") || !strings.Contains(ce.Error, "exceed 10000") {
		t.Errorf("meter init with bad values: %+v", ce)
	}
	var meter struct {
		WithdrawalNoticeSecs int64  `json:"withdrawal_notice_secs"`
		MinNodeStake         tokens `json:"min_node_stake"`
		EscrowVaultBalance   tokens `json:"escrow_vault_balance"`
	}
	e.ok(&meter, &admin, "meter", "init", "--min-node-stake", "10", "--unbonding", "1h", "--withdrawal-notice", "1h")
	if meter.WithdrawalNoticeSecs != 3600 || meter.MinNodeStake.BaseUnits != 10_000_000 {
		t.Fatalf("meter init: %+v", meter)
	}

	// Open with a deposit: the key is printed once and the escrow lives at sha256(key).
	var esc escrowView
	keyFile := filepath.Join(e.dir, "api.key")
	e.ok(&esc, &alice, "escrow", "open", "--deposit", "25", "--spend-limit", "100", "--key-out", keyFile)
	if !apikey.LooksLikeKey(esc.APIKey) || esc.Address != pda.Escrow(apikey.ID(esc.APIKey)).String() ||
		esc.Owner != alice.Pub() || esc.Balance.BaseUnits != 25_000_000 || esc.SpendLimit == nil || esc.SpendLimit.BaseUnits != 100_000_000 {
		t.Fatalf("escrow open: %+v", esc)
	}
	if data, err := os.ReadFile(keyFile); err != nil || strings.TrimSpace(string(data)) != esc.APIKey {
		t.Fatalf("--key-out: %q, %v", data, err)
	}
	key := esc.APIKey
	var shown escrowView
	e.ok(&shown, nil, "escrow", "show", "--key-file", keyFile)
	if shown.Address != esc.Address || shown.APIKey != "" {
		t.Errorf("escrow show by key file: %+v (the key must never be printed again)", shown)
	}

	// Front-running defence: a deposit checks the owner first.
	ce := e.fails(&bob, "escrow", "deposit", key, "5")
	if !strings.Contains(ce.Error, "owned by "+alice.Pub()) || !strings.Contains(ce.Fix, "do not deposit") {
		t.Errorf("deposit into someone else's escrow: %+v", ce)
	}
	if ce := e.fails(&bob, "escrow", "deposit", esc.Address, "5", "--expected-owner", bob.Pub()); !strings.Contains(ce.Error, "owned by") {
		t.Errorf("deposit with the wrong expected owner: %+v", ce)
	}
	e.ok(&shown, &bob, "escrow", "deposit", esc.Address, "5", "--expected-owner", alice.Pub())
	if shown.Balance.BaseUnits != 30_000_000 {
		t.Errorf("deposit by a third party: %+v", shown)
	}
	e.ok(&shown, &alice, "escrow", "deposit", key, "0.5")
	if shown.Balance.BaseUnits != 30_500_000 {
		t.Errorf("owner deposit: %+v", shown)
	}

	// Withdrawal: request, refused before the notice period, paid after it.
	if ce := e.fails(&alice, "escrow", "withdraw", key); !strings.Contains(ce.Error, "no withdrawal is pending") {
		t.Errorf("withdraw without a request: %+v", ce)
	}
	if ce := e.fails(&bob, "escrow", "request-withdrawal", key, "all"); !strings.Contains(ce.Error, "not by you") {
		t.Errorf("request by a stranger: %+v", ce)
	}
	e.ok(&shown, &alice, "escrow", "request-withdrawal", key, "all")
	if shown.Withdrawal == nil || shown.Withdrawal.Amount.BaseUnits != 30_500_000 {
		t.Fatalf("request-withdrawal: %+v", shown)
	}
	if ce := e.fails(&alice, "escrow", "withdraw", key); !strings.Contains(ce.Error, "notice period") {
		t.Errorf("withdraw early: %+v", ce)
	}
	e.travel(shown.Withdrawal.AvailableAt)
	before := e.nativeBalance(alice, p)
	e.ok(&shown, &alice, "escrow", "withdraw", key)
	if shown.Withdrawn == nil || shown.Withdrawn.BaseUnits != 30_500_000 || shown.Balance.BaseUnits != 0 || e.nativeBalance(alice, p) != before+30_500_000 {
		t.Errorf("withdraw: %+v", shown)
	}

	// Rotation: a new key, printed once; the old escrow points to the new one.
	e.ok(&shown, &alice, "escrow", "deposit", key, "3")
	var rotated escrowView
	e.ok(&rotated, &alice, "escrow", "rotate-key", key)
	if !apikey.LooksLikeKey(rotated.APIKey) || rotated.APIKey == key || rotated.Balance.BaseUnits != 3_000_000 ||
		rotated.Address != pda.Escrow(apikey.ID(rotated.APIKey)).String() {
		t.Fatalf("rotate-key: %+v", rotated)
	}
	e.ok(&shown, nil, "escrow", "show", key)
	if shown.RotatedTo == nil || *shown.RotatedTo != rotated.Address || shown.Balance.BaseUnits != 0 {
		t.Errorf("old escrow after rotation: %+v", shown)
	}
	if ce := e.fails(&alice, "escrow", "deposit", key, "1"); !strings.Contains(ce.Error, "rotated") {
		t.Errorf("deposit into a rotated escrow: %+v", ce)
	}

	// Admin updates; a stranger cannot.
	e.ok(&meter, &admin, "meter", "update", "--withdrawal-notice", "2h")
	if meter.WithdrawalNoticeSecs != 7200 || meter.MinNodeStake.BaseUnits != 10_000_000 {
		t.Errorf("meter update: %+v", meter)
	}
	if ce := e.fails(&bob, "meter", "update", "--withdrawal-notice", "3h"); !strings.Contains(ce.Error, "only the protocol admin") {
		t.Errorf("meter update by a stranger: %+v", ce)
	}
}

// A node operator's commands: register, stake, keeper rotation, unbonding
// and withdrawal after the unbonding period.
func TestNodeLifecycle(t *testing.T) {
	e := newEnv(t)
	op, keeper, keeper2 := e.wallet("operator", 5), e.wallet("keeper", 1), e.wallet("keeper2", 1)
	admin, p := e.setup(op)
	e.ok(nil, &admin, "meter", "init", "--min-node-stake", "10", "--unbonding", "1h", "--withdrawal-notice", "1h")

	if ce := e.fails(&op, "node", "register", "--keeper", keeper.Pub(), "--endpoint", "https://node.example/v1", "--stake", "9.999999"); !strings.Contains(ce.Error, "minimum node stake") {
		t.Errorf("register under the minimum: %+v", ce)
	}
	if ce := e.fails(&op, "node", "register", "--keeper", "nonsense", "--endpoint", "has space", "--stake", "10"); !strings.Contains(ce.Error, "--keeper") || !strings.Contains(ce.Error, "--endpoint") {
		t.Errorf("register with two bad flags: %+v", ce)
	}
	var n nodeView
	e.ok(&n, &op, "node", "register", "--keeper", keeper.Path, "--endpoint", "https://node.example/v1", "--stake", "10")
	if n.Operator != op.Pub() || n.Keeper != keeper.Pub() || n.Status != "active" || n.Stake.BaseUnits != 10_000_000 || n.Address != pda.Node(op.Key.PublicKey()).String() {
		t.Fatalf("register: %+v", n)
	}
	e.ok(&n, &op, "node", "stake", "5")
	if n.Stake.BaseUnits != 15_000_000 {
		t.Errorf("stake: %+v", n)
	}
	e.ok(&n, &op, "node", "set-keeper", keeper2.Pub())
	if n.Keeper != keeper2.Pub() {
		t.Errorf("set-keeper: %+v", n)
	}
	e.ok(&n, &op, "node", "set-endpoint", "https://other.example/v1")
	if n.Endpoint != "https://other.example/v1" {
		t.Errorf("set-endpoint: %+v", n)
	}
	e.ok(&n, nil, "node", "show", op.Pub())
	if n.Keeper != keeper2.Pub() {
		t.Errorf("show by operator address: %+v", n)
	}

	if ce := e.fails(&op, "node", "withdraw"); !strings.Contains(ce.Fix, "mt node unbond") {
		t.Errorf("withdraw before unbonding: %+v", ce)
	}
	e.ok(&n, &op, "node", "unbond")
	if n.Status != "unbonding" {
		t.Fatalf("unbond: %+v", n)
	}
	if ce := e.fails(&op, "node", "withdraw"); !strings.Contains(ce.Error, "unbonding period") {
		t.Errorf("withdraw early: %+v", ce)
	}
	if ce := e.fails(&op, "node", "stake", "1"); !strings.Contains(ce.Error, "unbonding") {
		t.Errorf("stake while unbonding: %+v", ce)
	}
	now, err := e.chain.Now(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.travel(now.Add(time.Hour + time.Second))
	before := e.nativeBalance(op, p)
	e.ok(&n, &op, "node", "withdraw")
	if n.Withdrawn == nil || n.Withdrawn.BaseUnits != 15_000_000 || e.nativeBalance(op, p) != before+15_000_000 {
		t.Errorf("withdraw: %+v", n)
	}
}

// The admin pauses the protocol: launches and contributions stop, with a
// message saying so; a stranger cannot update it.
func TestProtocolUpdate(t *testing.T) {
	e := newEnv(t)
	creator, alice := e.wallet("creator", 5), e.wallet("alice", 5)
	admin, _ := e.setup(creator, alice)
	var m modelView
	e.ok(&m, &creator, "model", "launch", "--spec", writeSpec(t, e.dir, "50", "1000"))

	if ce := e.fails(&alice, "protocol", "update", "--pause"); !strings.Contains(ce.Error, "only the protocol admin") {
		t.Errorf("update by a stranger: %+v", ce)
	}
	if ce := e.fails(&admin, "protocol", "update"); !strings.Contains(ce.Error, "nothing to change") {
		t.Errorf("update with nothing: %+v", ce)
	}
	var p protocolView
	e.ok(&p, &admin, "protocol", "update", "--pause", "--setup-fee", "7.5")
	if p.SetupFee.BaseUnits != 7_500_000 {
		t.Errorf("update: %+v", p)
	}
	if ce := e.fails(&alice, "crowdfund", "contribute", "0", "1"); !strings.Contains(ce.Error, "paused") {
		t.Errorf("contribute while paused: %+v", ce)
	}
	if ce := e.fails(&creator, "model", "launch", "--spec", writeSpec(t, e.dir, "50", "1000")); !strings.Contains(ce.Error, "paused") {
		t.Errorf("launch while paused: %+v", ce)
	}
	e.ok(&p, &admin, "protocol", "update", "--resume")
	var pos position
	e.ok(&pos, &alice, "crowdfund", "contribute", "0", "1")
	if pos.Bought == nil || pos.Bought.BaseUnits != 100_000_000 {
		t.Errorf("contribute after resume: %+v", pos)
	}

	// Handing the admin role over takes the nominee's signature.
	if ce := e.fails(&alice, "protocol", "accept-admin"); !strings.Contains(ce.Error, "no admin is nominated") {
		t.Errorf("accept with no nomination: %+v", ce)
	}
	var nominated protocolView
	e.ok(&nominated, &admin, "protocol", "update", "--new-admin", alice.Pub())
	if nominated.Admin != admin.Pub() || nominated.PendingAdmin != alice.Pub() {
		t.Errorf("after the nomination: %+v", nominated)
	}
	if ce := e.fails(&creator, "protocol", "accept-admin"); !strings.Contains(ce.Error, "the nominated admin is "+alice.Pub()) {
		t.Errorf("accept by someone else: %+v", ce)
	}
	var accepted protocolView
	e.ok(&accepted, &alice, "protocol", "accept-admin")
	if accepted.Admin != alice.Pub() || accepted.PendingAdmin != "" {
		t.Errorf("after accepting: %+v", accepted)
	}
	if ce := e.fails(&admin, "protocol", "update", "--pause"); !strings.Contains(ce.Error, "only the protocol admin") {
		t.Errorf("the old admin still updates: %+v", ce)
	}
	var paused protocolView
	e.ok(&paused, &alice, "protocol", "update", "--pause")
	if !paused.Paused {
		t.Errorf("the new admin's pause: %+v", paused)
	}
}
