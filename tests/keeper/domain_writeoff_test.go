package keeper_test

import (
	"crypto/ed25519"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/ix"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/keepers/domainpass"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/tests/keeper"
)

// A member keeper (real binary) serves three runs while admitted and two
// after its node was removed (requests carrying a valid front door pass:
// the member's view of the chain may lag). The first three settle against
// the domain lane; the two served after the removal can never be paid
// (ServedOutsideMembership), so the settler writes them off with reason
// served_outside_membership instead of sending a batch the program refuses
// (before, it retried that batch forever): the journal drains, the chain's
// run mark stays at the third run, the lane paid only for what the node
// served as a member.
func TestDomainMemberWritesOffRunsServedAfterRemoval(t *testing.T) {
	lw := newLaneWorld(t)
	w, ctx := lw.w, lw.ctx
	nativeOf := ix.Native{Mint: w.NativeMint, Program: w.NativeProgram}
	node := w.Node
	domOp, err := w.Wallet(ctx, 1_000*native)
	if err != nil {
		t.Fatal(err)
	}
	create, err := ix.CreateDomain(domOp.PublicKey(), w.NativeATA(domOp.PublicKey()), nativeOf,
		im.CreateDomainArgs{Name: "wo-test", Bond: 1_000 * native, MinNodeStake: 1_000 * native, FeeBps: 1_000, NoticeSecs: 3_600})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Send(ctx, domOp, nil, create); err != nil {
		t.Fatalf("create_domain: %v", err)
	}
	domain := pda.Domain(domOp.PublicKey(), "wo-test")
	port := freePort(t)
	op := node.Operator.PublicKey()
	endpoint, err := ix.SetEndpoint(op, "http://127.0.0.1:"+port+"/v1")
	if err != nil {
		t.Fatal(err)
	}
	join, err := ix.RequestJoin(op, domain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Send(ctx, node.Operator, nil, endpoint, join); err != nil {
		t.Fatalf("set_endpoint + request_join: %v", err)
	}
	admit, err := ix.AdmitMember(domOp.PublicKey(), domain, node.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Send(ctx, domOp, nil, admit); err != nil {
		t.Fatalf("admit: %v", err)
	}
	const lane = 5_000
	key := keeper.NewAPIKey()
	escrow, err := w.OpenEscrowLanes(ctx, key, lane, nil, nil, nil)
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

	fdKey := solana.NewWallet().PrivateKey
	journalPath := filepath.Join(lw.dir, "member.db")
	logPath := filepath.Join(lw.dir, "member.log")
	cfg := lw.config(t, "member", node.Keeper, node.Addr(), journalPath, "300ms")
	domainMember(t, cfg, port, domain, fdKey.PublicKey())
	k := startKeeper(t, lw.bin, cfg, logPath)
	defer k.p.stop()
	waitReady(t, k, logPath)

	serve := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			body := `{"model":"sim-model","messages":[{"role":"user","content":"count to ten"}],"max_tokens":8}`
			req, _ := http.NewRequest(http.MethodPost, "http://"+k.api+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(domainpass.Header, domainpass.Sign(ed25519.PrivateKey(fdKey), escrow, []byte(body), time.Now()))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("request %d: HTTP %d", i, resp.StatusCode)
			}
		}
	}
	serve(3)
	st := settled(t, k, logPath)
	if st.Settlement.ChainLastRunSeq != 3 {
		t.Fatalf("runs settled as a member: chain mark %d, want 3", st.Settlement.ChainLastRunSeq)
	}

	remove, err := ix.RemoveMember(domOp.PublicKey(), domain, node.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Send(ctx, domOp, nil, remove); err != nil {
		t.Fatalf("remove_member: %v", err)
	}
	// Past the removal's second on the chain's clock, as the keeper dates runs.
	time.Sleep(2 * time.Second)
	serve(2)

	deadline := time.Now().Add(time.Minute)
	for {
		st = k.runStatus(t)
		if st.Unbatched == 0 && st.PendingBatches == 0 && st.JournalRunSeq == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the runs served after the removal are still pending: %+v; log:\n%s", st, tailFile(logPath, 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Stays drained: nothing is rebatched or retried.
	time.Sleep(time.Second)
	if again := k.runStatus(t); again.Unbatched != 0 || again.PendingBatches != 0 || again.Settlement.ChainLastRunSeq != 3 {
		t.Fatalf("after a second: %+v", again)
	}
	if got := metricValue(t, k.admin, `keeper_settlement_written_off_runs_total{reason="served_outside_membership"}`); got != "2" {
		t.Fatalf("written off as served outside the membership: %q, want 2", got)
	}
	var n *im.Node
	readAccount(t, lw, node.Addr(), func(b []byte) (err error) { n, err = im.ParseAccount_Node(b); return })
	if n.LastRunSeq != 3 || n.LastBatchSeq != st.Settlement.ChainLastBatch {
		t.Fatalf("chain after the write-off: last run %d (want 3), last batch %d", n.LastRunSeq, n.LastBatchSeq)
	}
	k.p.stop()
	costs := journalCosts(t, journalPath, escrow)
	d := domainTokens(t, lw, nil, domOp.PublicKey(), escrow, domain)
	if spent := lane - d.escrow.Balance; spent != costs[journal.StateSettled] || costs[journal.StateFailed] == 0 || costs[journal.StateRecorded]+costs[journal.StateBatched] != 0 {
		t.Fatalf("lane paid %d; journal settled %d, written off %d, still open %d", spent, costs[journal.StateSettled], costs[journal.StateFailed], costs[journal.StateRecorded]+costs[journal.StateBatched])
	}
}
