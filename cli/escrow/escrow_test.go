package escrow

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/clients/explain"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
)

func native(v uint64) amount.Tokens { return amount.Of(v, 6) }

func key(b byte) solana.PublicKey { var k solana.PublicKey; k[0], k[31] = b, b; return k }

// problem requires err to be an explained problem whose text holds each of want.
func problem(t *testing.T, err error, want ...string) {
	t.Helper()
	var p *explain.Problem
	if !errors.As(err, &p) {
		t.Fatalf("got %v, want an explained problem", err)
	}
	text := p.What + " | " + p.Fix
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%q does not say %q", text, w)
		}
	}
}

func TestNextRevokeStep(t *testing.T) {
	now := time.Unix(10_000, 0)
	for _, tc := range []struct {
		name        string
		requestedAt int64
		want        revokeStep
		due         int64
	}{
		{"nothing pending: request, revocable a notice from now", 0, revokeRequest, 10_060},
		{"pending, notice running", 9_950, revokeWait, 10_010},
		{"pending, notice ends now (inclusive)", 9_940, revokeComplete, 10_000},
		{"pending, notice long over", 1_000, revokeComplete, 1_060},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, due := nextRevokeStep(&im.Lane{RevokeRequestedAt: tc.requestedAt}, 60, now)
			if step != tc.want || due.Unix() != tc.due {
				t.Errorf("step %d due %d, want %d due %d", step, due.Unix(), tc.want, tc.due)
			}
		})
	}
}

func lanes(n int) []im.Lane {
	out := make([]im.Lane, n)
	for i := range out {
		out[i] = im.Lane{Node: key(byte(100 + i)), Balance: 5}
	}
	return out
}

func TestCheckAllow(t *testing.T) {
	addr := key(1)
	for _, tc := range []struct {
		name  string
		e     im.Escrow
		node  solana.PublicKey
		units uint64
		want  []string // empty: allowed
	}{
		{"within the unallocated balance", im.Escrow{Balance: 10}, key(2), 10, nil},
		{"zero opens an empty lane", im.Escrow{}, key(2), 0, nil},
		{"more than unallocated (lanes do not count)", im.Escrow{Balance: 3, Lanes: lanes(2)}, key(2), 4,
			[]string{"0.000003 unallocated", "0.00001 already in lanes", "--node " + key(2).String()}},
		{"a ninth lane", im.Escrow{Balance: 10, Lanes: lanes(MaxLanes)}, key(2), 1, []string{"lanes to 8 nodes", "revoke a lane"}},
		{"more to an existing lane when all slots are taken", im.Escrow{Balance: 10, Lanes: lanes(MaxLanes)}, key(100), 1, nil},
		{"within the spend limit's room", im.Escrow{Balance: 10, SpendLimit: limitOf(7), Spent: 2}, key(2), 5, nil},
		{"beyond the spend limit's room", im.Escrow{Balance: 10, SpendLimit: limitOf(7), Spent: 2}, key(2), 6, []string{"room for 0.000005", "allow at most"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAllow(addr, &tc.e, tc.node, tc.units, native)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			problem(t, err, tc.want...)
		})
	}
}

func TestCheckClose(t *testing.T) {
	str := func(v uint64) string { return native(v).String() }
	problem(t, checkClose(key(1), &im.Escrow{Lanes: []im.Lane{{Node: key(9)}}}, str), "lanes open to 1 node", key(9).String(), "mt escrow revoke")
	problem(t, checkClose(key(1), &im.Escrow{Balance: 7}, str), "still holds 0.000007", "request-withdrawal")
	if err := checkClose(key(1), &im.Escrow{}, str); err != nil {
		t.Errorf("empty escrow without lanes: %v", err)
	}
}

// fakeChain is a rawReader over a map of accounts.
type fakeChain map[solana.PublicKey]struct {
	data  []byte
	owner solana.PublicKey
}

func (f fakeChain) raw(_ context.Context, addr solana.PublicKey) ([]byte, solana.PublicKey, bool, error) {
	a, ok := f[addr]
	return a.data, a.owner, ok, nil
}

func nodeData(t *testing.T, n im.Node) []byte {
	t.Helper()
	data, err := n.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(im.Account_Node[:], data...)
}

func TestResolveNode(t *testing.T) {
	operator, stranger := key(7), key(8)
	node := pda.Node(operator)
	chain := fakeChain{}
	chain[node] = struct {
		data  []byte
		owner solana.PublicKey
	}{nodeData(t, im.Node{Operator: operator, Endpoint: "https://n.example/v1"}), im.ProgramID}
	// An account with a node's layout at an address that is not its PDA.
	chain[stranger] = struct {
		data  []byte
		owner solana.PublicKey
	}{nodeData(t, im.Node{Operator: operator}), im.ProgramID}

	for _, arg := range []string{node.String(), operator.String(), " " + operator.String() + "\n"} {
		got, n, err := resolveNode(context.Background(), chain.raw, arg)
		if err != nil || !got.Equals(node) || n.Endpoint != "https://n.example/v1" {
			t.Errorf("resolveNode(%q) = %s, %+v, %v; want the node %s", arg, got, n, err, node)
		}
	}
	_, _, err := resolveNode(context.Background(), chain.raw, stranger.String())
	problem(t, err, "neither a node nor the operator")
	_, _, err = resolveNode(context.Background(), chain.raw, "nonsense")
	problem(t, err, `"nonsense" is not an address`)

	failing := func(context.Context, solana.PublicKey) ([]byte, solana.PublicKey, bool, error) {
		return nil, solana.PublicKey{}, false, errors.New("rpc down")
	}
	if _, _, err := resolveNode(context.Background(), failing, operator.String()); err == nil || !strings.Contains(err.Error(), "rpc down") {
		t.Errorf("an RPC failure must not read as a missing node: %v", err)
	}
}

func TestLaneFor(t *testing.T) {
	operator := key(7)
	node := pda.Node(operator)
	e := &im.Escrow{Lanes: []im.Lane{{Node: key(3)}, {Node: node, Balance: 42}}}
	for _, arg := range []string{node.String(), operator.String()} {
		got, l, err := laneFor(key(1), e, arg)
		if err != nil || !got.Equals(node) || l.Balance != 42 {
			t.Errorf("laneFor(%s) = %s, %+v, %v", arg, got, l, err)
		}
	}
	_, _, err := laneFor(key(1), e, key(9).String())
	problem(t, err, "has no lane for node "+key(9).String(), "mt escrow show")
}

func TestViewLanes(t *testing.T) {
	limit := uint64(1_000)
	e := &im.Escrow{
		Owner: key(2), Balance: 5_000_000, SpendLimit: &limit, OpenedAt: 100,
		Lanes: []im.Lane{
			{Node: key(3), Balance: 2_000_000, Spent: 300},
			{Node: key(4), Balance: 1_000_000, RevokeRequestedAt: 1_000},
		},
	}
	nodes := map[solana.PublicKey]*im.Node{key(3): {Operator: key(5), Endpoint: "https://a.example/v1", Status: im.NodeStatus_Active}}
	v := newView(key(1), e, nodes, 60, native)
	if v.Balance.Base != 8_000_000 || v.Unallocated.Base != 5_000_000 || len(v.Lanes) != 2 {
		t.Fatalf("balance %d unallocated %d lanes %d", v.Balance.Base, v.Unallocated.Base, len(v.Lanes))
	}
	a, b := v.Lanes[0], v.Lanes[1]
	if a.Operator == nil || *a.Operator != key(5) || a.NodeStatus != "active" || a.Spent.Base != 300 || a.RevocableAt != nil {
		t.Errorf("lane to a live node: %+v", a)
	}
	if b.Operator != nil || b.NodeStatus != "missing" || b.RevocableAt == nil || b.RevocableAt.Unix() != 1_060 {
		t.Errorf("lane being revoked, node gone: %+v", b)
	}
	text := v.Text()
	for _, want := range []string{"8 native tokens (5 native tokens unallocated", "0.0003 native tokens spent", "Lane 1", "https://a.example/v1, active", "revocable from 1970-01-01T00:17:40Z", "account is gone"} {
		if !strings.Contains(text, want) {
			t.Errorf("text does not say %q:\n%s", want, text)
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Unallocated struct {
			BaseUnits uint64 `json:"base_units"`
		} `json:"unallocated"`
		Lanes []struct {
			Node    string `json:"node"`
			Balance struct {
				BaseUnits uint64 `json:"base_units"`
			} `json:"balance"`
			RevocableAt *time.Time `json:"revocable_at"`
		} `json:"lanes"`
	}
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Unallocated.BaseUnits != 5_000_000 || len(back.Lanes) != 2 || back.Lanes[0].Node != key(3).String() ||
		back.Lanes[0].Balance.BaseUnits != 2_000_000 || back.Lanes[1].RevocableAt == nil {
		t.Errorf("JSON: %s", raw)
	}
}

// Without lanes the money is stuck until the owner names a node: say so.
func TestViewWithoutLanes(t *testing.T) {
	v := newView(key(1), &im.Escrow{Balance: 5}, nil, 60, native)
	if !strings.Contains(v.Text(), "no node can spend this escrow yet") {
		t.Errorf("text:\n%s", v.Text())
	}
	raw, _ := json.Marshal(v)
	if !strings.Contains(string(raw), `"lanes":[]`) {
		t.Errorf("JSON must list lanes even when there are none: %s", raw)
	}
}

func TestParseTarget(t *testing.T) {
	k, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := parseTarget(k); err != nil || !got.Equals(pda.Escrow(apikey.ID(k))) {
		t.Errorf("API key: %s, %v", got, err)
	}
	if got, err := parseTarget(key(4).String()); err != nil || !got.Equals(key(4)) {
		t.Errorf("address: %s, %v", got, err)
	}
	_, err = parseTarget("")
	problem(t, err, "which escrow")
	_, err = parseTarget("mc_nope!")
	problem(t, err, "neither an escrow address nor an API key")
}

func TestTargetReadsMCAPIKeyAndWarnsOnTheOldName(t *testing.T) {
	key, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	want := pda.Escrow(apikey.ID(key))
	run := func(env map[string]string) (solana.PublicKey, string, error) {
		for _, name := range []string{EnvAPIKey, envAPIKeyOld} {
			t.Setenv(name, env[name])
		}
		var got solana.PublicKey
		var stderr strings.Builder
		app := &cli.App{Name: "mt", ErrWriter: &stderr, Flags: []cli.Flag{keyFileFlag()}, Action: func(c *cli.Context) error {
			var err error
			got, err = target(c, nil)
			return err
		}}
		err := app.Run([]string{"mt"})
		return got, stderr.String(), err
	}
	if got, warn, err := run(map[string]string{EnvAPIKey: key}); err != nil || got != want || warn != "" {
		t.Fatalf("$MC_API_KEY: %s, %q, %v", got, warn, err)
	}
	if got, warn, err := run(map[string]string{envAPIKeyOld: key}); err != nil || got != want || !strings.Contains(warn, "deprecated") {
		t.Fatalf("$MT_API_KEY: %s, %q, %v", got, warn, err)
	}
	if _, _, err := run(map[string]string{}); err == nil {
		t.Fatal("no key anywhere: want an error")
	}
}

func limitOf(v uint64) *uint64 { return &v }
