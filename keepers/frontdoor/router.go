package frontdoor

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/poll"
)

// RouterConfig configures a Router.
type RouterConfig struct {
	Source MemberSource
	// Refresh is how often the member list is read and every member's
	// gateway probed (GET /readyz); default 5s.
	Refresh time.Duration
	// ProbeTimeout bounds one probe; default 2s.
	ProbeTimeout time.Duration
	Client       *http.Client
	Logger       *slog.Logger
}

// Router keeps the domain's members and their health and picks the member
// for each request: the healthy one with the fewest requests in flight.
type Router struct {
	cfg   RouterConfig
	marks *memberMarks

	mu      sync.RWMutex
	members []*route
	next    atomic.Uint64 // rotates ties
}

// route is a member as the router tracks it.
type route struct {
	Member
	healthy  atomic.Bool
	inflight atomic.Int64
}

// NewRouter builds a router; call Refresh (or Run) before routing.
func NewRouter(cfg RouterConfig) *Router {
	if cfg.Refresh <= 0 {
		cfg.Refresh = 5 * time.Second
	}
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = 2 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Router{cfg: cfg, marks: &memberMarks{client: cfg.Client}}
}

// Refresh reads the member list and probes every member.
func (r *Router) Refresh(ctx context.Context) error {
	list, err := r.cfg.Source.Members(ctx)
	if err != nil {
		return err
	}
	r.mu.RLock()
	old := map[solana.PublicKey]*route{}
	for _, m := range r.members {
		old[m.Node] = m
	}
	r.mu.RUnlock()
	var next []*route
	var clean []Member
	for _, m := range list {
		base, err := baseURL(m.URL)
		if err != nil {
			r.cfg.Logger.Warn("member skipped", "node", m.Node, "err", err)
			continue
		}
		m.URL = base
		clean = append(clean, m)
		if o, ok := old[m.Node]; ok && o.URL == base {
			next = append(next, o)
			continue
		}
		next = append(next, &route{Member: m})
	}
	var wg sync.WaitGroup
	for _, m := range next {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.probe(ctx, m)
		}()
	}
	wg.Wait()
	r.marks.set(clean)
	r.mu.Lock()
	r.members = next
	r.mu.Unlock()
	return nil
}

func (r *Router) probe(ctx context.Context, m *route) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/readyz", nil)
	if err != nil {
		m.healthy.Store(false)
		return
	}
	resp, err := r.cfg.Client.Do(req)
	ok := err == nil && resp.StatusCode == http.StatusOK
	if err == nil {
		resp.Body.Close()
	}
	if was := m.healthy.Swap(ok); was != ok {
		r.cfg.Logger.Info("member health changed", "node", m.Node, "url", m.URL, "healthy", ok)
	}
}

// Run refreshes until ctx ends.
func (r *Router) Run(ctx context.Context) error {
	return poll.Every(ctx, r.cfg.Refresh, r.Refresh, func(err error) { r.cfg.Logger.Warn("member refresh failed", "err", err) })
}

// Nodes are the current members' node accounts.
func (r *Router) Nodes() []solana.PublicKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]solana.PublicKey, len(r.members))
	for i, m := range r.members {
		out[i] = m.Node
	}
	return out
}

// Healthy counts the healthy members.
func (r *Router) Healthy() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, m := range r.members {
		if m.healthy.Load() {
			n++
		}
	}
	return n
}

// pick leases the healthy member not in tried with the fewest requests in
// flight (ties rotate), or nil.
func (r *Router) pick(tried map[solana.PublicKey]bool) *route {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := len(r.members)
	if n == 0 {
		return nil
	}
	start := int(r.next.Add(1) % uint64(n))
	var best *route
	var bestLoad int64
	for i := 0; i < n; i++ {
		m := r.members[(start+i)%n]
		if tried[m.Node] || !m.healthy.Load() {
			continue
		}
		if load := m.inflight.Load(); best == nil || load < bestLoad {
			best, bestLoad = m, load
		}
	}
	if best != nil {
		best.inflight.Add(1)
	}
	return best
}

// done returns a lease; a member that failed before answering is marked
// unhealthy until its next good probe.
func (m *route) done(failed bool) {
	m.inflight.Add(-1)
	if failed {
		m.healthy.Store(false)
	}
}

// Marks asks the members for their journal high-water marks (the
// ledger's HighWater), including members that have since left.
func (r *Router) Marks() HighWater { return r.marks }
