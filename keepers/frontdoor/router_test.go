package frontdoor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gagliardetto/solana-go"
)

func readyServer(t *testing.T, code int) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRouterPicksTheLeastLoadedHealthyMember(t *testing.T) {
	a, b, sick := solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey(), solana.NewWallet().PublicKey()
	r := NewRouter(RouterConfig{Source: StaticMembers{
		{Node: a, URL: readyServer(t, 200) + "/v1/"},
		{Node: sick, URL: readyServer(t, 503)},
		{Node: b, URL: readyServer(t, 200)},
	}})
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.Healthy() != 2 {
		t.Fatalf("healthy = %d, want 2", r.Healthy())
	}
	// Four leases spread two and two; the unhealthy member gets none.
	load := map[solana.PublicKey]int{}
	var leases []*route
	for i := 0; i < 4; i++ {
		m := r.pick(nil)
		if m == nil {
			t.Fatal("no member")
		}
		load[m.Node]++
		leases = append(leases, m)
	}
	if load[a] != 2 || load[b] != 2 || load[sick] != 0 {
		t.Fatalf("load %v, want a=2 b=2 sick=0", load)
	}
	// With a's requests done, a is the least loaded.
	for _, m := range leases {
		if m.Node == a {
			m.done(false)
		}
	}
	if m := r.pick(nil); m.Node != a {
		t.Fatalf("picked %s, want a", m.Node)
	}
	// Excluded (already tried) members are skipped; a failed one turns
	// unhealthy until its next good probe.
	if m := r.pick(map[solana.PublicKey]bool{a: true}); m.Node != b {
		t.Fatalf("picked %s, want b", m.Node)
	}
	m := r.pick(map[solana.PublicKey]bool{b: true})
	m.done(true)
	if got := r.pick(map[solana.PublicKey]bool{b: true}); got != nil {
		t.Fatalf("picked %s, want none (a failed, b tried, sick down)", got.Node)
	}
	_ = r.Refresh(context.Background())
	if r.Healthy() != 2 {
		t.Fatalf("after the probe healthy = %d, want 2", r.Healthy())
	}
}

func TestRouterDropsBadEndpoints(t *testing.T) {
	r := NewRouter(RouterConfig{Source: StaticMembers{{Node: solana.NewWallet().PublicKey(), URL: "ftp://nope"}}})
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.Nodes()) != 0 {
		t.Fatal("a non-http endpoint was kept")
	}
}
