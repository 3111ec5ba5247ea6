package keeper_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/keepers/frontdoor"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/tests/keeper"
	"github.com/modelcommons/modelcommons/tests/meter"
)

// A domain's front door (`keeper run --domain`) in front of three member
// keepers (real binaries, each with its own worker simulator), under a few
// hundred concurrent requests against one escrow's lane to the domain, more
// than the lane holds; member 0 is SIGKILLed half way and restarted after
// the load. Then, on chain: every answered request was settled exactly once
// by the node that served it, against the domain lane; each batch's split
// (protocol share, domain fee, operator's cut) is what clients/settlement
// predicts, to the base unit, and the token accounts moved by exactly the
// sums; the lane paid for every run (no shortfall, escrow unpaid 0) and the
// money outside the lane is untouched.
func TestDomainFrontDoorThreeMembersUnderLoad(t *testing.T) {
	const (
		lane, spare  = 4_000, 5_000 // base units; one run costs about 25
		feeBps       = 1_500
		requests     = 300
		clients      = 10
		killAfter    = requests / 2
		memberPrefix = "member"
	)
	lw := newLaneWorld(t)
	w, ctx := lw.w, lw.ctx
	_, simBin := binaries(t)
	nativeOf := ix.Native{Mint: w.NativeMint, Program: w.NativeProgram}

	// Three nodes: the world's and two more.
	nodes := []*meter.Node{w.Node}
	for i := 0; i < 2; i++ {
		n, err := w.RegisterNode(ctx, 1_000*native)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	// The domain, bonded by its operator; every node's endpoint is its
	// member keeper's gateway; each asks to join and is admitted.
	domOp, err := w.Wallet(ctx, 1_000*native)
	if err != nil {
		t.Fatal(err)
	}
	create, err := ix.CreateDomain(domOp.PublicKey(), w.NativeATA(domOp.PublicKey()), nativeOf,
		im.CreateDomainArgs{Name: "fd-test", Bond: 1_000 * native, MinNodeStake: 1_000 * native, FeeBps: feeBps, NoticeSecs: 60})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Send(ctx, domOp, nil, create); err != nil {
		t.Fatalf("create_domain: %v", err)
	}
	domain := pda.Domain(domOp.PublicKey(), "fd-test")
	ports := make([]string, len(nodes))
	for i, n := range nodes {
		ports[i] = freePort(t)
		op := n.Operator.PublicKey()
		endpoint, err := ix.SetEndpoint(op, "http://127.0.0.1:"+ports[i]+"/v1")
		if err != nil {
			t.Fatal(err)
		}
		join, err := ix.RequestJoin(op, domain)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Send(ctx, n.Operator, nil, endpoint, join); err != nil {
			t.Fatalf("node %d set_endpoint + request_join: %v", i, err)
		}
		admit, err := ix.AdmitMember(domOp.PublicKey(), domain, n.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Send(ctx, domOp, nil, admit); err != nil {
			t.Fatalf("admit node %d: %v", i, err)
		}
	}
	// The user's escrow: a lane to the domain, and money outside any lane.
	key := keeper.NewAPIKey()
	escrow, err := w.OpenEscrowLanes(ctx, key, lane+spare, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	allow, err := ix.AllowDomain(w.Owner.PublicKey(), escrow, domain, lane)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Send(ctx, w.Owner, nil, allow); err != nil {
		t.Fatalf("allow_domain: %v", err)
	}

	// The front door's key signs the passes the members check.
	fdKey := solana.NewWallet().PrivateKey
	fdKeypair := filepath.Join(lw.dir, "frontdoor.json")
	writeKeypair(t, fdKeypair, fdKey)

	type member struct {
		cfg, log, journal string
		k                 keeperRun
	}
	members := make([]*member, len(nodes))
	for i, n := range nodes {
		_, simURL := start(t, simBin, filepath.Join(lw.dir, fmt.Sprintf("sim-%d.log", i)), func(line string) (string, bool) {
			rest, ok := strings.CutPrefix(line, "workersim ready url=")
			url, _, _ := strings.Cut(rest, " ")
			return url, ok
		}, "--listen", "127.0.0.1:0", "--model", "sim-model", "--per-token", "1ms", "--min-tokens", "3", "--max-tokens", "8")
		m := &member{journal: filepath.Join(lw.dir, fmt.Sprintf("%s-%d.db", memberPrefix, i)), log: filepath.Join(lw.dir, fmt.Sprintf("%s-%d.log", memberPrefix, i))}
		m.cfg = filepath.Join(lw.dir, fmt.Sprintf("%s-%d.toml", memberPrefix, i))
		keypair := filepath.Join(lw.dir, fmt.Sprintf("%s-%d-keeper.json", memberPrefix, i))
		writeKeypair(t, keypair, n.Keeper)
		simKeeper{Keypair: keypair, RPC: w.Chain.URL, Journal: m.journal, SimURL: simURL, Node: n.Addr().String(),
			ModelID: w.Models[0].ID, Interval: "300ms"}.write(t, m.cfg)
		domainMember(t, m.cfg, ports[i], domain, fdKey.PublicKey())
		m.k = startKeeper(t, lw.bin, m.cfg, m.log)
		members[i] = m
	}
	defer func() {
		for _, m := range members {
			m.k.p.stop()
		}
	}()
	fdCfg := filepath.Join(lw.dir, "frontdoor.toml")
	writeFile(t, fdCfg, fmt.Sprintf(`listen = "127.0.0.1:0"
keypair = %q
rpc_url = %q
log_format = "json"

[gateway]
shutdown_grace = "2s"

[[model]]
name = "sim-model"
id = %d

[domain]
member_refresh = "300ms"
lane_refresh = "200ms"
# the start barrier asks the members' marks after this (35s outside tests)
unknown_hold = "1s"
`, fdKeypair, w.Chain.URL, w.Models[0].ID))
	fdLog := filepath.Join(lw.dir, "frontdoor.log")
	fdProc, fdAPI := start(t, lw.bin, fdLog, func(line string) (string, bool) {
		var l struct{ Msg, API string }
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "front door serving" {
			return "", false
		}
		return l.API, true
	}, "run", "--config", fdCfg, "--domain", domain.String())
	defer fdProc.stop()
	waitReady(t, keeperRun{api: fdAPI}, fdLog)

	before := domainTokens(t, lw, nodes, domOp.PublicKey(), escrow, domain)

	// The load: streaming and not, from several clients at once.
	type answer struct {
		status     int
		member     string
		run        string
		complete   bool
		brokeAfter bool
	}
	var (
		mu      sync.Mutex
		answers []answer
		sent    atomic.Int64
		wg      sync.WaitGroup
	)
	client := &http.Client{Timeout: 20 * time.Second}
	killed := make(chan struct{})
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := sent.Add(1)
				if i > requests {
					return
				}
				if i == killAfter {
					members[0].k.p.kill()
					close(killed)
				}
				stream := i%2 == 0
				body := fmt.Sprintf(`{"model":"sim-model","messages":[{"role":"user","content":"count to ten"}],"max_tokens":8,"stream":%v}`, stream)
				req, _ := http.NewRequest(http.MethodPost, "http://"+fdAPI+"/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				a := answer{status: resp.StatusCode, member: resp.Header.Get(frontdoor.MemberHeader), run: resp.Header.Get("X-Run-Id")}
				if err == nil && resp.StatusCode == http.StatusOK {
					text := string(b)
					a.complete = !stream || strings.HasSuffix(text, "data: [DONE]\n\n")
					a.brokeAfter = stream && !a.complete && strings.Contains(text, `"error"`)
				}
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
				if resp.StatusCode == http.StatusPaymentRequired {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	<-killed
	// Member 0 comes back on its port with its journal and settles what
	// it served before it was killed.
	members[0].k = startKeeper(t, lw.bin, members[0].cfg, members[0].log)
	for _, m := range members {
		settled(t, m.k, m.log)
	}
	unknown := fdMetric(t, fdAPI, "frontdoor_unknown_outcomes_total")
	for _, m := range members {
		m.k.p.stop() // releases its journal
	}

	// Every answered run is settled exactly once, by the node that served it.
	codes := map[int]int{}
	byMember := map[string]int{}
	served := map[string]string{} // run id -> node that answered
	for _, a := range answers {
		codes[a.status]++
		if a.status == http.StatusOK && a.complete {
			if a.member == "" || a.run == "" {
				t.Fatalf("an answer without its member or run id: %+v", a)
			}
			served[a.run] = a.member
			byMember[a.member]++
		}
	}
	settledBy := map[string]string{}
	var settledCost uint64
	for i, m := range members {
		j, err := journal.Open(journal.Config{Path: m.journal, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		es, err := j.Receipts(escrow, receipts.RunID{}, 100_000)
		j.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			id := e.Signed.Receipt.RunID.String()
			if e.State != journal.StateSettled {
				t.Fatalf("member %d left run %s %s", i, id, e.State)
			}
			if prev, dup := settledBy[id]; dup {
				t.Fatalf("run %s settled by %s and %s", id, prev, nodes[i].Addr())
			}
			settledBy[id] = nodes[i].Addr().String()
			settledCost += e.Signed.Receipt.Cost
		}
	}
	for run, node := range served {
		if settledBy[run] != node {
			t.Fatalf("run %s answered by %s is settled by %q", run, node, settledBy[run])
		}
	}
	// Runs settled but not answered completely: only those a member
	// recorded while its answer broke off (the kill), as the front door
	// counted them.
	if extra := len(settledBy) - len(served); extra < 0 || float64(extra) > unknown {
		t.Fatalf("%d runs settled, %d answered, %v unknown outcomes", len(settledBy), len(served), unknown)
	}
	if codes[http.StatusPaymentRequired] == 0 || len(served) == 0 || len(byMember) < 2 {
		t.Fatalf("statuses %v, served by %v: want load beyond the lane spread over the members", codes, byMember)
	}

	// On chain: each member's batches, in chain order, are what
	// clients/settlement predicts, against the domain's lane.
	type batch struct {
		node int
		st   settlement.Settled
	}
	var all []batch
	for i, n := range nodes {
		bs, err := settlement.SettledBatches(ctx, w.Chain.RPC, n.Addr())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			all = append(all, batch{i, b})
		}
	}
	// Chain order; batches of one node in one slot by their sequence.
	sort.Slice(all, func(a, b int) bool {
		if all[a].st.Slot != all[b].st.Slot {
			return all[a].st.Slot < all[b].st.Slot
		}
		return all[a].st.Event.BatchSeq < all[b].st.Event.BatchSeq
	})
	var meterCfg *im.MeterConfig
	registered := make([]int64, len(nodes))
	readAccount(t, lw, pda.Meter(), func(b []byte) (err error) { meterCfg, err = im.ParseAccount_MeterConfig(b); return })
	for i, n := range nodes {
		readAccount(t, lw, n.Addr(), func(b []byte) error {
			nd, err := im.ParseAccount_Node(b)
			if err == nil {
				registered[i] = nd.RegisteredAt
			}
			return err
		})
	}
	md, err := w.Model(ctx, w.Models[0].Addr)
	if err != nil {
		t.Fatal(err)
	}
	dom, mem := domainAccounts(t, lw, domain, nodes)
	escrows := map[solana.PublicKey]settlement.Escrow{escrow: before.escrow}
	lastRun := make([]uint64, len(nodes))
	var toProtocol, toDomain, charged, shortfall uint64
	toOperator := make([]uint64, len(nodes))
	for _, b := range all {
		ev := b.st.Event
		if !ev.Domain.Equals(domain) || b.st.Layout.Domain == nil {
			t.Fatalf("node %d batch %d settled against %s, not the domain lane", b.node, ev.BatchSeq, ev.Domain)
		}
		state := settlement.State{SettlementFeeBps: meterCfg.SettlementFeeBps, OperatorShareBps: meterCfg.OperatorShareBps,
			Models:  map[solana.PublicKey]settlement.Model{w.Models[0].Addr: {ID: md.Id, Active: md.Stage == mt.Stage_Active, Pricing: settlement.PricingOf(md)}},
			Escrows: escrows, Now: b.st.Time, RegisteredAt: registered[b.node], LastRunSeq: lastRun[b.node],
			Domain: &settlement.DomainState{Domain: dom, Membership: mem[b.node]}}
		predicted, err := settlement.Settle(state, b.st.Layout)
		if err != nil {
			t.Fatalf("node %d batch %d: prediction: %v", b.node, ev.BatchSeq, err)
		}
		if err := settlement.CheckOutcome(predicted, ev); err != nil {
			t.Fatalf("node %d batch %d: %v", b.node, ev.BatchSeq, err)
		}
		for k, v := range predicted.After {
			escrows[k] = v
		}
		lastRun[b.node] = ev.LastRunSeq
		toProtocol += ev.ToProtocol
		toDomain += ev.ToDomain
		toOperator[b.node] += ev.ToOperator
		charged += ev.Charged
		shortfall += ev.Shortfall
	}
	after := domainTokens(t, lw, nodes, domOp.PublicKey(), escrow, domain)
	if d := after.tokens[pda.FeeVault()] - before.tokens[pda.FeeVault()]; d != toProtocol {
		t.Fatalf("protocol fee vault moved %d, batches gave it %d", d, toProtocol)
	}
	domAcct := w.NativeATA(domOp.PublicKey())
	if d := after.tokens[domAcct] - before.tokens[domAcct]; d != toDomain || toDomain == 0 {
		t.Fatalf("domain operator got %d, batches gave it %d", d, toDomain)
	}
	for i, n := range nodes {
		a := n.Settle.OperatorAccount
		if d := after.tokens[a] - before.tokens[a]; d != toOperator[i] {
			t.Fatalf("node %d operator got %d, batches gave it %d", i, d, toOperator[i])
		}
	}
	// The lane paid every run; the money outside it is untouched.
	es, err := w.Escrows(ctx, []solana.PublicKey{escrow})
	if err != nil {
		t.Fatal(err)
	}
	l := settlement.LaneOf(es[0], domain)
	if l == nil {
		t.Fatal("the domain lane is gone")
	}
	if es[0].Unpaid != 0 || shortfall != 0 {
		t.Fatalf("unpaid %d, shortfall %d: the members served more than the lane held", es[0].Unpaid, shortfall)
	}
	if l.Spent != charged || l.Spent+l.Balance != lane || es[0].Balance != spare {
		t.Fatalf("lane spent %d balance %d (of %d), batches charged %d; unallocated %d (want %d)", l.Spent, l.Balance, lane, charged, es[0].Balance, spare)
	}
	if charged > settledCost {
		t.Fatalf("charged %d, more than the receipts' %d", charged, settledCost)
	}
	t.Logf("statuses %v; answered by member %v; %d runs settled (%d unknown outcomes); lane %d: charged %d (receipts %d), protocol %d, domain %d, operators %v",
		codes, byMember, len(settledBy), int(unknown), lane, charged, settledCost, toProtocol, toDomain, toOperator)
}

// domainMember turns a keeper config written by simKeeper into a domain
// member's: a fixed API port (its on-chain endpoint) and the [domain]
// section.
func domainMember(t *testing.T, path, port string, domain, frontDoor solana.PublicKey) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), `listen = "127.0.0.1:0"`, `listen = "127.0.0.1:`+port+`"`, 1)
	cfg += fmt.Sprintf("\n[domain]\naddress = %q\nfront_door = %q\n", domain, frontDoor)
	writeFile(t, path, cfg)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort is a loopback port free right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func fdMetric(t *testing.T, api, series string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(metricValue(t, api, series), 64)
	if err != nil {
		t.Fatalf("metric %s: %v", series, err)
	}
	return v
}

// domainBalances is what settlement against the domain lane moves.
type domainBalances struct {
	escrow settlement.Escrow // as the domain's lane sees it
	tokens map[solana.PublicKey]uint64
}

func domainTokens(t *testing.T, lw *laneWorld, nodes []*meter.Node, domainOperator, escrow, domain solana.PublicKey) domainBalances {
	t.Helper()
	out := domainBalances{tokens: map[solana.PublicKey]uint64{}}
	readAccount(t, lw, escrow, func(b []byte) error {
		e, err := im.ParseAccount_Escrow(b)
		if err == nil {
			out.escrow = settlement.EscrowOf(e, domain)
		}
		return err
	})
	accts := []solana.PublicKey{pda.FeeVault(), lw.w.NativeATA(domainOperator)}
	for _, n := range nodes {
		accts = append(accts, n.Settle.OperatorAccount)
	}
	for _, a := range accts {
		b, err := tokens.Balance(lw.ctx, lw.w.Chain.RPC, a)
		if err != nil {
			b = 0 // not created yet: settlement creates none, so it stays 0
		}
		out.tokens[a] = b
	}
	return out
}

// domainAccounts reads the domain and each node's membership of it.
func domainAccounts(t *testing.T, lw *laneWorld, domain solana.PublicKey, nodes []*meter.Node) (d *im.Domain, ms []*im.Membership) {
	t.Helper()
	readAccount(t, lw, domain, func(b []byte) (err error) { d, err = im.ParseAccount_Domain(b); return })
	for _, n := range nodes {
		readAccount(t, lw, pda.Membership(domain, n.Addr()), func(b []byte) error {
			m, err := im.ParseAccount_Membership(b)
			ms = append(ms, m)
			return err
		})
	}
	return d, ms
}

// readAccount reads addr's data and hands it to parse.
func readAccount(t *testing.T, lw *laneWorld, addr solana.PublicKey, parse func([]byte) error) {
	t.Helper()
	info, err := lw.w.Chain.RPC.GetAccountInfoWithOpts(lw.ctx, addr, &rpc.GetAccountInfoOpts{Commitment: rpc.CommitmentConfirmed})
	if err != nil {
		t.Fatalf("read %s: %v", addr, err)
	}
	if err := parse(info.Value.Data.GetBinary()); err != nil {
		t.Fatalf("decode %s: %v", addr, err)
	}
}
