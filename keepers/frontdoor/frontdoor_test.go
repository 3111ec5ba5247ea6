package frontdoor

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/domainpass"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/receipts"
)

func TestChatAndStreamsThroughTheFrontDoor(t *testing.T) {
	h := newDomain(t, 2, 1_000_000)
	for _, c := range []struct{ path, body string }{
		{"/v1/chat/completions", chatBody},
		{"/v1/chat/completions", streamBody},
		{"/v1/completions", `{"model":"tiny","prompt":"once upon","max_tokens":16}`},
		{"/v1/completions", `{"model":"tiny","prompt":"once upon","max_tokens":16,"stream":true}`},
	} {
		resp := post(t, h.srv.URL, c.path, userKey, c.body)
		body := readAll(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, body)
		}
		if resp.Header.Get(MemberHeader) == "" || resp.Header.Get("X-Run-Id") == "" {
			t.Fatalf("%s: member %q run %q", c.path, resp.Header.Get(MemberHeader), resp.Header.Get("X-Run-Id"))
		}
		if strings.Contains(c.body, `"stream":true`) && !strings.HasSuffix(body, "data: [DONE]\n\n") {
			t.Fatalf("%s: stream did not end with [DONE]: %q", c.path, body)
		}
	}
	owed, inflight := h.ledger.Owed(h.escrow)
	var recorded uint64
	for _, m := range h.members {
		runs, _ := m.journal.UnbatchedRuns(100)
		for _, r := range runs {
			recorded += r.Cost
		}
	}
	if owed != recorded || inflight != 0 || recorded == 0 {
		t.Fatalf("ledger owes %d (in flight %d); members recorded %d", owed, inflight, recorded)
	}
	h.settle()
	if err := h.ledger.Sync(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if owed, _ := h.ledger.Owed(h.escrow); owed != 0 {
		t.Fatalf("after settlement the ledger still owes %d", owed)
	}
	if got, want := h.ledger.Room(h.escrow), 1_000_000-recorded; got != want {
		t.Fatalf("room %d, want %d", got, want)
	}
}

func TestFrontDoorRefusals(t *testing.T) {
	h := newDomain(t, 1, 50)
	for _, c := range []struct {
		key, body string
		status    int
		code      string
	}{
		{"", chatBody, 401, "invalid_api_key"},
		{"sk-nobody-000000000000", chatBody, 401, "invalid_api_key"},
		{userKey, `{"model":"huge","messages":[{"role":"user","content":"x"}]}`, 404, "model_not_found"},
		{userKey, chatBody, 402, "insufficient_quota"}, // worst case above the 50 in the lane
	} {
		resp := post(t, h.srv.URL, "/v1/chat/completions", c.key, c.body)
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(readAll(t, resp)), &e)
		if resp.StatusCode != c.status || e.Error.Code != c.code {
			t.Fatalf("%q %q: %d %q, want %d %q", c.key, c.body, resp.StatusCode, e.Error.Code, c.status, c.code)
		}
	}
	for _, m := range h.members {
		if n, _ := m.journal.UnbatchedRuns(10); len(n) != 0 {
			t.Fatal("a refused request reached a member")
		}
	}
}

func TestMemberServesOnlyTheFrontDoor(t *testing.T) {
	h := newDomain(t, 1, 1_000_000)
	m := h.members[0]
	code := func(resp *http.Response) string {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(readAll(t, resp)), &e)
		return e.Error.Code
	}
	// Straight to the member: refused.
	if resp := post(t, m.srv.URL, "/v1/chat/completions", userKey, chatBody); resp.StatusCode != 403 || code(resp) != "front_door_required" {
		t.Fatalf("direct request: %d", resp.StatusCode)
	}
	// A pass for another body, or used twice: refused.
	req := func(pass, body string) *http.Response {
		r, _ := http.NewRequest(http.MethodPost, m.srv.URL+"/v1/chat/completions", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+userKey)
		r.Header.Set(domainpass.Header, pass)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	pass := domainpass.Sign(h.fdKey, h.escrow, []byte(chatBody), time.Now())
	if resp := req(pass, streamBody); resp.StatusCode != 403 {
		t.Fatalf("pass for another body: %d", resp.StatusCode)
	}
	if resp := req(pass, chatBody); resp.StatusCode != 200 {
		t.Fatalf("valid pass: %d", resp.StatusCode)
	} else if resp.Header.Get(gateway.RunSeqHeader) != "1" || resp.Header.Get(gateway.RunCostHeader) == "" {
		t.Fatalf("run headers: seq %q cost %q", resp.Header.Get(gateway.RunSeqHeader), resp.Header.Get(gateway.RunCostHeader))
	} else {
		readAll(t, resp)
	}
	if resp := req(pass, chatBody); resp.StatusCode != 403 {
		t.Fatalf("replayed pass: %d", resp.StatusCode)
	}
}

// badMember answers every request the way fail says, counting them.
func badMember(t *testing.T, hits *atomic.Int64, fail func(w http.ResponseWriter)) Member {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			return
		}
		hits.Add(1)
		fail(w)
	}))
	t.Cleanup(srv.Close)
	return Member{Node: solana.NewWallet().PublicKey(), URL: srv.URL}
}

// hangUp drops the connection, after writing head (if any).
func hangUp(head string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = buf.WriteString(head)
		_ = buf.Flush()
		conn.Close()
	}
}

func TestFailoverBeforeTheFirstByte(t *testing.T) {
	sseHead := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
	for name, fail := range map[string]func(http.ResponseWriter){
		"502":                      func(w http.ResponseWriter) { w.WriteHeader(502) },
		"connection dropped":       hangUp(""),
		"stream dies before bytes": hangUp(sseHead),
	} {
		t.Run(name, func(t *testing.T) {
			var hits atomic.Int64
			h := newDomain(t, 1, 1_000_000, badMember(t, &hits, fail))
			h.router.members[0].inflight.Add(1) // the bad member (least loaded) goes first
			resp := post(t, h.srv.URL, "/v1/chat/completions", userKey, streamBody)
			body := readAll(t, resp)
			if resp.StatusCode != 200 || !strings.HasSuffix(body, "data: [DONE]\n\n") {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
			if hits.Load() != 1 || resp.Header.Get(MemberHeader) != h.members[0].node.String() {
				t.Fatalf("bad member hits %d, served by %s", hits.Load(), resp.Header.Get(MemberHeader))
			}
			if got := testutilValue(h.fd.metrics.failovers); got != 1 {
				t.Fatalf("failovers = %v", got)
			}
		})
	}
}

func TestNoFailoverAfterTheFirstByte(t *testing.T) {
	var hits atomic.Int64
	event := `data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"}}]}` + "\n\n"
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(event)
	bad := badMember(t, &hits, hangUp(head))
	h := newDomain(t, 1, 1_000_000, bad)
	h.router.members[0].inflight.Add(1)
	resp := post(t, h.srv.URL, "/v1/chat/completions", userKey, streamBody)
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(lines) != 2 || !strings.Contains(lines[0], `"Hel"`) || !strings.Contains(lines[1], `"worker_error"`) {
		t.Fatalf("%d %q", resp.StatusCode, lines)
	}
	if runs, _ := h.members[0].journal.UnbatchedRuns(10); len(runs) != 0 || hits.Load() != 1 {
		t.Fatalf("the healthy member served it too (%d runs), bad hits %d", len(runs), hits.Load())
	}
	// The bad member may have recorded it: its worst case stays held.
	if owed, inflight := h.ledger.Owed(h.escrow); owed == 0 || inflight != 0 {
		t.Fatalf("owed %d in flight %d: the unknown run must stay owed", owed, inflight)
	}
}

func chunk(s string) string {
	return strings.ToUpper(strconvHex(len(s))) + "\r\n" + s + "\r\n"
}

// TestUnderLoadNoLaneOverServed drives a few hundred concurrent requests
// through three members against a lane that holds a fraction of them,
// settling as it goes, and kills one member half way. Every answered run
// is recorded by exactly the member that answered it, the lane pays for
// every recorded run (settle fails the test otherwise), and the lane's
// refusals (402) start only when it is nearly spent.
func TestUnderLoadNoLaneOverServed(t *testing.T) {
	const lane, total, workers = 6_000, 300, 16
	h := newDomain(t, 3, lane)
	stop := make(chan struct{})
	var settler sync.WaitGroup
	settler.Add(1)
	go func() {
		defer settler.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(15 * time.Millisecond):
				h.settle()
				_ = h.ledger.Sync(context.Background(), nil)
				_ = h.router.Refresh(context.Background())
			}
		}
	}()
	type answer struct {
		status int
		member string
		run    string
	}
	answers := make(chan answer, total)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				if i == total/2 {
					// Member 0 dies: its listener and connections close.
					h.members[0].srv.Listener.Close()
					h.members[0].srv.CloseClientConnections()
				}
				body := chatBody
				if i%2 == 0 {
					body = streamBody
				}
				resp := post(t, h.srv.URL, "/v1/chat/completions", userKey, body)
				text := readAll(t, resp)
				if resp.StatusCode == 200 && strings.Contains(text, `"worker_error"`) {
					resp.StatusCode = 599 // broke off after the first byte
				}
				answers <- answer{resp.StatusCode, resp.Header.Get(MemberHeader), resp.Header.Get("X-Run-Id")}
			}
		}()
	}
	wg.Wait()
	close(stop)
	settler.Wait()
	close(answers)
	h.settle()

	recorded := map[string]string{} // run id -> node
	for _, m := range h.members {
		entries, err := m.journal.Receipts(h.escrow, receipts.RunID{}, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			id := e.Signed.Receipt.RunID.String()
			if _, dup := recorded[id]; dup {
				t.Fatalf("run %s recorded twice", id)
			}
			recorded[id] = m.node.String()
		}
	}
	codes := map[int]int{}
	ok := 0
	for a := range answers {
		codes[a.status]++
		if a.status != 200 {
			continue
		}
		ok++
		if recorded[a.run] != a.member {
			t.Fatalf("answered run %s by %s is recorded by %q", a.run, a.member, recorded[a.run])
		}
	}
	if ok == 0 || codes[402] == 0 {
		t.Fatalf("statuses %v: want both served and refused requests", codes)
	}
	// Every recorded run was answered, except runs whose member was lost
	// after it may have recorded them (the front door counts each such
	// unknown outcome and holds it against the lane) — charged as their
	// receipts say.
	unknown := int(testutilValue(h.fd.metrics.unknown))
	if len(recorded) < ok || len(recorded) > ok+unknown {
		t.Fatalf("%d runs recorded for %d answers and %d unknown outcomes (%v)", len(recorded), ok, unknown, codes)
	}
	h.chain.mu.Lock()
	left := h.chain.lanes[h.escrow]
	h.chain.mu.Unlock()
	t.Logf("statuses %v; %d runs recorded, %d unknown outcomes; lane %d → %d", codes, len(recorded), unknown, lane, left)
}

func TestNoDomainLaneNamesTheDomain(t *testing.T) {
	h := newDomain(t, 1, 1_000_000)
	// The escrow exists but its owner opened no lane to the domain.
	h.chain.escrows.Put(gateway.EscrowState{Address: h.escrow, KeyHash: apikeyID(userKey)})
	domain := solana.NewWallet().PublicKey()
	adm, err := gateway.NewAdmitter(gateway.Config{Models: models, Escrows: h.chain.escrows, Prices: prices, Domain: domain})
	if err != nil {
		t.Fatal(err)
	}
	fd, err := New(Config{Admitter: adm, Router: h.router, Ledger: h.ledger, Key: h.fdKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fd.Handler())
	defer srv.Close()
	resp := post(t, srv.URL, "/v1/chat/completions", userKey, chatBody)
	body := readAll(t, resp)
	if resp.StatusCode != 402 || !strings.Contains(body, "mt escrow allow "+h.escrow.String()+" --domain "+domain.String()) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}
