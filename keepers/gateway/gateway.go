package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/modelcommons/modelcommons/clients/apikey"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/keepers/domainpass"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
)

// ModelConfig maps a public model name (what clients send and workers are
// configured with) to its mt_treasury model id.
type ModelConfig struct {
	Name string
	ID   uint64
}

// Config configures a Gateway.
type Config struct {
	Models  []ModelConfig
	Pool    *workers.Pool
	Escrows EscrowSource
	Prices  PriceBook
	Journal Journal
	// ReceiptProofs, if set, serves GET /v1/receipts/proofs: the Merkle
	// proofs of the caller's batched receipts against their batch roots
	// (keeperd's ReceiptProofs over the journal), so users can check their
	// receipts against the roots settle recorded on chain.
	ReceiptProofs func(escrow solana.PublicKey, after receipts.RunID, limit int) (any, error)
	// Key signs receipts: the node's keeper hot key.
	Key ed25519.PrivateKey
	// Node is the node account this keeper settles for (zero offline): the
	// 402 for an escrow without a lane names it.
	Node solana.PublicKey
	// Registry receives the metrics (default: a fresh registry, served on
	// /metrics).
	Registry *prometheus.Registry
	// Unsettled reports the journal's unsettled total for the metrics.
	Unsettled func() uint64
	// Ready is an extra readiness condition (e.g. chain sources fresh).
	Ready func() bool
	// HideMetrics keeps /metrics off the API handler (serve
	// MetricsHandler on an operator-only listener instead).
	HideMetrics bool
	Logger      *slog.Logger

	MaxBodyBytes     int64 // default 4 MiB
	MaxResponseBytes int64 // non-streaming worker bodies, default 16 MiB
	DefaultMaxTokens int   // sent upstream when a request has none; default 1024
	MaxTokensLimit   int   // larger max_tokens are rejected; default 32768
	MaxN             int   // default 4
	PromptMarginPct  int   // added to the prompt estimate for admission; default 25
	MaxAttempts      int   // workers tried per request; default 3
	// RateLimit per escrow (requests/s) and burst; 0 disables.
	RateLimit float64
	RateBurst int
	// Limits are per-minute request and token budgets per API key and per
	// (key, model); off by default.
	Limits Limits
	// MaxInFlight generation requests (0: unlimited); over it: 429.
	MaxInFlight int
	// WriteTimeout bounds each write to a client (slow readers are cut
	// off); default 30s.
	WriteTimeout time.Duration
	// UpstreamIdleTimeout bounds the silence of a worker that has started
	// answering: between two stream events, or for a whole non-streaming
	// body. Default 120s. (Time to response headers is the pool's
	// HeaderTimeout.)
	UpstreamIdleTimeout time.Duration
	// Clock dates runs (a receipt's serve and completion times) and picks
	// the price they are quoted at: the chain's clock as the keeper
	// estimates it (keepers/chainclock), because settlement checks serve
	// times and charges prices against the chain's clock. Default
	// WallClock, for a keeper without a chain.
	Clock Clock
	// FrontDoor, if set, makes this keeper a member of a domain whose front
	// door signs with this key: a generation request must carry the front
	// door's pass (keepers/domainpass), and an answer carries its run's
	// journal number and cost (X-Run-Seq, X-Run-Cost; trailers on streams)
	// for the front door's reservation ledger (keepers/frontdoor).
	FrontDoor ed25519.PublicKey
	// Domain is the domain whose lanes admission reads (a front door, or a
	// member; the Escrows source reads lanes for it): refusals then name
	// the domain lane. Zero: the node's own lanes.
	Domain solana.PublicKey
}

// Gateway serves the API. Create with New; use Handler.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	ids     map[string]uint64
	names   map[uint64]string
	pool    *workers.Pool
	metrics *Metrics
	reg     *prometheus.Registry
	handler http.Handler
	pub     solana.PublicKey

	admitMu  sync.Mutex
	reserved map[solana.PublicKey]uint64

	limMu    sync.Mutex
	limiters map[solana.PublicKey]*limiterEntry
	limits   *limiter // nil: Config.Limits off
	inflight atomic.Int64

	pdaMu    sync.RWMutex
	pdaCache map[[32]byte][2]solana.PublicKey

	// pass checks the front door's pass (nil: not a domain member).
	pass *domainpass.Verifier
}

type limiterEntry struct {
	lim  *rate.Limiter
	used time.Time
}

// New validates the configuration and builds the gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Pool == nil || cfg.Escrows == nil || cfg.Prices == nil || cfg.Journal == nil {
		return nil, errors.New("gateway: pool, escrows, prices and journal are required")
	}
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("gateway: keeper signing key missing")
	}
	g, err := newCore(cfg)
	if err != nil {
		return nil, err
	}
	cfg = g.cfg
	for _, name := range cfg.Pool.Models() {
		if _, ok := g.ids[name]; !ok {
			return nil, fmt.Errorf("gateway: workers serve %q but no on-chain model id is configured for it", name)
		}
	}
	g.metrics = NewMetrics(cfg.Registry, cfg.Pool, cfg.Unsettled)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", g.serveGen(workers.ChatCompletions, "chat"))
	mux.HandleFunc("POST /v1/completions", g.serveGen(workers.Completions, "completions"))
	mux.HandleFunc("POST /v1/embeddings", g.serveGen(workers.Embeddings, "embeddings"))
	mux.HandleFunc("GET /v1/models", g.serveModels)
	mux.HandleFunc("GET /v1/models/{model}", g.serveModel)
	mux.HandleFunc("GET /v1/receipts", g.serveReceipts)
	mux.HandleFunc("GET /v1/receipts/proofs", g.serveReceiptProofs)
	mux.HandleFunc("GET /v1/receipts/{run_id}", g.serveReceipt)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", g.serveReady)
	if g.pass != nil {
		mux.HandleFunc("GET /domain/high-water", g.serveHighWater)
	}
	if !cfg.HideMetrics {
		mux.Handle("GET /metrics", g.MetricsHandler())
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { errNotFound.write(w) })
	g.handler = withRequestID(mux)
	return g, nil
}

// newCore applies the defaults and builds what admission needs: the model
// table, the rate limiters, the front door's pass verifier.
func newCore(cfg Config) (*Gateway, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 4 << 20
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 16 << 20
	}
	if cfg.DefaultMaxTokens <= 0 {
		cfg.DefaultMaxTokens = 1024
	}
	if cfg.MaxTokensLimit <= 0 {
		cfg.MaxTokensLimit = 32768
	}
	if cfg.DefaultMaxTokens > cfg.MaxTokensLimit {
		return nil, errors.New("gateway: default max_tokens exceeds the limit")
	}
	if cfg.MaxN <= 0 {
		cfg.MaxN = 4
	}
	if cfg.PromptMarginPct < 0 {
		cfg.PromptMarginPct = 0
	} else if cfg.PromptMarginPct == 0 {
		cfg.PromptMarginPct = 25
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.RateLimit > 0 && cfg.RateBurst <= 0 {
		cfg.RateBurst = max(1, int(cfg.RateLimit))
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.UpstreamIdleTimeout <= 0 {
		cfg.UpstreamIdleTimeout = 120 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = WallClock{}
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	g := &Gateway{
		cfg: cfg, log: cfg.Logger, pool: cfg.Pool, reg: cfg.Registry,
		ids: map[string]uint64{}, names: map[uint64]string{},
		reserved: map[solana.PublicKey]uint64{}, limiters: map[solana.PublicKey]*limiterEntry{},
		pdaCache: map[[32]byte][2]solana.PublicKey{},
	}
	if len(cfg.Key) == ed25519.PrivateKeySize {
		g.pub = solana.PublicKeyFromBytes(cfg.Key.Public().(ed25519.PublicKey))
	}
	for _, m := range cfg.Models {
		if m.Name == "" || strings.HasPrefix(m.Name, MixPrefix) || strings.ContainsAny(m.Name, "+@") {
			return nil, fmt.Errorf("gateway: bad model name %q (must be non-empty, not start with %q, no '+' or '@')", m.Name, MixPrefix)
		}
		if _, dup := g.ids[m.Name]; dup {
			return nil, fmt.Errorf("gateway: model %q configured twice", m.Name)
		}
		if other, dup := g.names[m.ID]; dup {
			return nil, fmt.Errorf("gateway: models %q and %q share on-chain id %d", other, m.Name, m.ID)
		}
		g.ids[m.Name] = m.ID
		g.names[m.ID] = m.Name
	}
	for name := range cfg.Limits.Models {
		if _, ok := g.ids[name]; !ok {
			return nil, fmt.Errorf("gateway: limits for model %q, which is not configured", name)
		}
	}
	if cfg.Limits.enabled() {
		g.limits = newLimiter(cfg.Limits)
	}

	if len(cfg.FrontDoor) > 0 {
		if len(cfg.FrontDoor) != ed25519.PublicKeySize {
			return nil, errors.New("gateway: front door key must be an ed25519 public key")
		}
		g.pass = domainpass.NewVerifier(cfg.FrontDoor, nil)
	}
	return g, nil
}

// Handler is the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler { return g.handler }

// MetricsHandler serves the Prometheus registry.
func (g *Gateway) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{Registry: g.reg})
}

// Metrics returns the gateway's metrics.
func (g *Gateway) Metrics() *Metrics { return g.metrics }

// KeeperKey is the public key receipts are signed with.
func (g *Gateway) KeeperKey() solana.PublicKey { return g.pub }

// Ready reports whether the gateway can serve: a worker is healthy and
// the extra readiness condition holds.
func (g *Gateway) Ready() bool {
	return g.pool.Ready() && (g.cfg.Ready == nil || g.cfg.Ready())
}

func (g *Gateway) serveReady(w http.ResponseWriter, r *http.Request) {
	if !g.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "not ready\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

type ctxKey int

const requestIDKey ctxKey = 0

func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := "req_" + hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func requestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// statusWriter records the status code; Unwrap keeps Flush and deadlines
// reachable through http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	code    int
	written bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.written {
		s.code, s.written = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.written {
		s.code, s.written = http.StatusOK, true
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// --- authentication ---

// authenticate resolves the bearer key to its escrow. The key is hashed
// at once and never kept, logged or compared in variable time.
func (g *Gateway) authenticate(r *http.Request) (EscrowState, *apiError) {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return EscrowState{}, errNoKey
	}
	key = strings.TrimSpace(key)
	if key == "" || len(key) > 512 {
		return EscrowState{}, errBadKey
	}
	id, addr := g.escrowAddress(key)
	st, err := g.cfg.Escrows.Escrow(r.Context(), addr)
	switch {
	case errors.Is(err, ErrNoEscrow):
		return EscrowState{}, errBadKey
	case errors.Is(err, ErrSourceBusy):
		return EscrowState{}, errRateLimited(err.Error(), 1)
	case err != nil:
		g.log.Warn("escrow lookup failed", "escrow", addr, "err", err, "request_id", requestID(r.Context()))
		return EscrowState{}, &apiError{status: http.StatusServiceUnavailable, typ: "server_error", code: "escrow_unavailable",
			message: "The keeper cannot read escrows from the chain right now; try again shortly.", retryAfter: 2}
	}
	// The PDA derivation already binds the account to the key id; checking
	// the stored id too costs nothing and is constant-time.
	if !st.KeyHash.IsZero() && subtle.ConstantTimeCompare(st.KeyHash[:], id[:]) != 1 {
		return EscrowState{}, errBadKey
	}
	if st.RotatedTo != nil {
		return EscrowState{}, errRotatedKey
	}
	return st, nil
}

// escrowAddress derives (and caches) an API key's id and escrow PDA. The
// derivation (an ed25519 key from the key's SHA-256, then a PDA search)
// costs tens of microseconds, so the cache is keyed by the SHA-256 of the
// key: the key itself is never kept.
func (g *Gateway) escrowAddress(key string) (id, addr solana.PublicKey) {
	hash := sha256.Sum256([]byte(key))
	g.pdaMu.RLock()
	c, ok := g.pdaCache[hash]
	g.pdaMu.RUnlock()
	if ok {
		return c[0], c[1]
	}
	id = apikey.ID(key)
	addr = pda.Escrow(id)
	g.pdaMu.Lock()
	if len(g.pdaCache) >= 100_000 {
		clear(g.pdaCache)
	}
	g.pdaCache[hash] = [2]solana.PublicKey{id, addr}
	g.pdaMu.Unlock()
	return id, addr
}

// EscrowAddress is the escrow PDA of an API key.
func EscrowAddress(apiKey string) solana.PublicKey {
	return pda.Escrow(apikey.ID(apiKey))
}

func (g *Gateway) allow(escrow solana.PublicKey) bool {
	if g.cfg.RateLimit <= 0 {
		return true
	}
	now := time.Now()
	g.limMu.Lock()
	defer g.limMu.Unlock()
	e, ok := g.limiters[escrow]
	if !ok {
		if len(g.limiters) > 50_000 {
			for k, v := range g.limiters {
				if now.Sub(v.used) > time.Minute {
					delete(g.limiters, k)
				}
			}
		}
		e = &limiterEntry{lim: rate.NewLimiter(rate.Limit(g.cfg.RateLimit), g.cfg.RateBurst)}
		g.limiters[escrow] = e
	}
	e.used = now
	return e.lim.AllowN(now, 1)
}

// --- admission ---

// reserve admits a request whose worst-case cost is worst, holding it as
// in flight until release.
func (g *Gateway) reserve(st EscrowState, worst uint64) (release func(), ok bool) {
	g.admitMu.Lock()
	defer g.admitMu.Unlock()
	unsettled := g.cfg.Journal.UnsettledSpend(st.Address)
	held := g.reserved[st.Address]
	avail := st.Available()
	if unsettled > avail || held > avail-unsettled || worst > avail-unsettled-held {
		return nil, false
	}
	g.reserved[st.Address] = held + worst
	var once sync.Once
	return func() {
		once.Do(func() {
			g.admitMu.Lock()
			defer g.admitMu.Unlock()
			if v := g.reserved[st.Address] - worst; v == 0 {
				delete(g.reserved, st.Address)
			} else {
				g.reserved[st.Address] = v
			}
		})
	}, true
}

// --- generation endpoints ---

// run is one admitted request on its way through.
type run struct {
	id       receipts.RunID
	req      *genRequest
	escrow   EscrowState
	members  []member
	shares   []receipts.ModelShare // ascending model id, prices applied
	servedAt time.Time
	endpoint string
	kind     receipts.Kind
	// charged is the tokens of the recorded run (0 until record): what
	// the per-minute token budgets keep of its reservation.
	charged int64
}

func (g *Gateway) serveGen(ep workers.Endpoint, label string) http.HandlerFunc {
	kind := map[workers.Endpoint]receipts.Kind{workers.ChatCompletions: receipts.KindChat, workers.Completions: receipts.KindCompletion, workers.Embeddings: receipts.KindEmbedding}[ep]
	return func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		stream := false
		defer func() {
			code := w.code
			if !w.written {
				code = 499 // client went away before any response
			}
			g.metrics.Requests.WithLabelValues(label, strconv.Itoa(code)).Inc()
			g.metrics.Duration.WithLabelValues(label, strconv.FormatBool(stream)).Observe(time.Since(start).Seconds())
		}()
		if g.cfg.MaxInFlight > 0 {
			if n := g.inflight.Add(1); n > int64(g.cfg.MaxInFlight) {
				g.inflight.Add(-1)
				errRateLimited("The keeper is at capacity; retry shortly.", 1).write(w)
				return
			}
			defer g.inflight.Add(-1)
		}
		g.metrics.InFlight.Inc()
		defer g.metrics.InFlight.Dec()

		ru, worst, aerr := g.prepare(w, r, ep, label, kind)
		if aerr != nil {
			aerr.write(w)
			return
		}
		stream = ru.req.stream
		st, req, members := ru.escrow, ru.req, ru.members
		release, ok := g.reserve(st, worst)
		if !ok {
			errFunds(fmt.Sprintf("Insufficient escrow funds: this request may cost up to %d base units; available in this node's lane after this keeper's unsettled and in-flight runs: %d. Add to the lane (mt escrow allow) or lower max_tokens.",
				worst, g.availableFor(st))).write(w)
			return
		}
		defer release()
		if g.limits != nil {
			names := make([]string, len(members))
			for i, m := range members {
				names[i] = m.name
			}
			ticket, hit := g.limits.admit(st.Address, names, int64(worstLimitTokens(req, len(members), ep)))
			if hit != nil {
				g.metrics.RateLimited.WithLabelValues(hit.limit, hit.scope).Inc()
				errLimit(hit).write(w)
				return
			}
			defer func() { ticket.done(ru.charged) }()
		}
		if len(members) > 1 {
			g.runMixture(w, r, ru)
			return
		}
		g.runSingle(w, r, ru)
	}
}

// priceError is the answer to a request for a model the price book cannot
// quote: 404 for a model that is not (or no longer, or not yet) active on
// chain, 503 when the chain cannot be read to know.
func (g *Gateway) priceError(ctx context.Context, m member, err error) *apiError {
	if errors.Is(err, ErrNoModel) || errors.Is(err, ErrModelInactive) {
		g.log.Debug("model not servable", "model", m.name, "id", m.id, "err", err, "request_id", requestID(ctx))
		return errModelNotFound(m.name)
	}
	g.log.Warn("no price for model", "model", m.name, "id", m.id, "err", err, "request_id", requestID(ctx))
	return errPriceUnavailable(m.name)
}

// laneError refuses an escrow whose owner opened no lane to this node, or
// is revoking it: settlement by this node could take nothing from it.
func (g *Gateway) laneError(st EscrowState) *apiError {
	if !g.cfg.Domain.IsZero() {
		return g.domainLaneError(st)
	}
	node := "this keeper's node"
	if !g.cfg.Node.IsZero() {
		node = g.cfg.Node.String()
	}
	switch {
	case st.Lane == nil:
		return errFunds(fmt.Sprintf("This API key's escrow %s has no lane to this keeper's node %s, so the node cannot charge it. "+
			"The escrow's owner can open one: mt escrow allow %s %s <amount>", st.Address, node, st.Address, node))
	case st.Lane.RevokeRequestedAt != 0:
		return errFunds(fmt.Sprintf("This API key's escrow %s is revoking its lane to this keeper's node %s; no new requests are served against it. "+
			"The escrow's owner can reopen it: mt escrow allow %s %s <amount>", st.Address, node, st.Address, node))
	}
	return nil
}

// availableFor is what admission could still grant, for error messages.
func (g *Gateway) availableFor(st EscrowState) uint64 {
	g.admitMu.Lock()
	defer g.admitMu.Unlock()
	used := g.cfg.Journal.UnsettledSpend(st.Address) + g.reserved[st.Address]
	if a := st.Available(); a > used {
		return a - used
	}
	return 0
}

func sortShares(s []receipts.ModelShare) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].ModelID < s[j-1].ModelID; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// record signs and journals a run at its charged usage (chargedUsage of
// u); partial marks a stream its client left mid-way. For a completed run
// it must return before the last byte of the response is written; the
// response then shows the returned receipt's figures.
func (g *Gateway) record(ru *run, u workers.Usage, worker string, partial bool) (receipts.Signed, error) {
	u = g.chargedUsage(ru, u, worker)
	cost, err := Cost(ru.shares, u.PromptTokens, u.CompletionTokens)
	if err != nil {
		return receipts.Signed{}, err
	}
	charged := u.PromptTokens + u.CompletionTokens
	if len(worker) > receipts.MaxWorkerName {
		worker = worker[:receipts.MaxWorkerName]
	}
	done := g.cfg.Clock.Now()
	rc := receipts.Receipt{
		Version: receipts.NewVersion(partial), RunID: ru.id, Escrow: ru.escrow.Address, Models: ru.shares, Kind: ru.kind,
		InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, Cost: cost,
		ServedAtMs: ru.servedAt.UnixMilli(), CompletedAtMs: max(done.UnixMilli(), ru.servedAt.UnixMilli()),
		Estimated: u.Estimated, Worker: worker, Partial: partial,
	}
	signed, err := receipts.Sign(rc, g.cfg.Key)
	if err != nil {
		return receipts.Signed{}, err
	}
	// Once the response is complete (or the client has gone) the run
	// must be on disk; the client's context does not cancel the write.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.cfg.Journal.Record(ctx, signed); err != nil {
		g.metrics.RunFailures.WithLabelValues("journal").Inc()
		return receipts.Signed{}, err
	}
	ru.charged = int64(min(charged, math.MaxInt64))
	g.metrics.Runs.WithLabelValues(ru.endpoint, strconv.FormatBool(u.Estimated)).Inc()
	g.metrics.ChargedValue.Add(float64(cost))
	if partial {
		g.metrics.PartialRuns.Inc()
	}
	model := ru.members[0].name
	if len(ru.members) > 1 {
		model = "mixture"
	}
	g.metrics.Tokens.WithLabelValues(model, "input").Add(float64(u.PromptTokens))
	g.metrics.Tokens.WithLabelValues(model, "output").Add(float64(u.CompletionTokens))
	return signed, nil
}

// --- models and receipts ---

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// ModelID is the mt_treasury model id (an extension).
	ModelID uint64 `json:"model_id"`
	// Available: a healthy worker serves it now (an extension; always
	// true, as only such models are listed).
	Available bool `json:"available"`
}

// Servable reports whether a request for model name would be served now:
// it is configured, a worker serving it is healthy (circuit closed), and
// the price book quotes it at the chain's current time (active on chain,
// price known). GET /v1/models lists exactly these models, and GET
// /v1/models/{model} answers 404 for any other.
func (g *Gateway) Servable(ctx context.Context, name string) bool {
	id, ok := g.ids[name]
	if !ok || !g.pool.Available(name) {
		return false
	}
	_, err := g.cfg.Prices.Price(ctx, id, g.cfg.Clock.Now())
	return err == nil
}

func (g *Gateway) modelObject(name string) modelObject {
	return modelObject{ID: name, Object: "model", Created: 0, OwnedBy: "modelcommons", ModelID: g.ids[name], Available: true}
}

func (g *Gateway) serveModels(w http.ResponseWriter, r *http.Request) {
	list := struct {
		Object string        `json:"object"`
		Data   []modelObject `json:"data"`
	}{Object: "list", Data: []modelObject{}}
	for _, name := range g.pool.Models() {
		if g.Servable(r.Context(), name) {
			list.Data = append(list.Data, g.modelObject(name))
		}
	}
	writeJSON(w, http.StatusOK, list)
}

func (g *Gateway) serveModel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	if !g.Servable(r.Context(), name) {
		errModelNotFound(name).write(w)
		return
	}
	writeJSON(w, http.StatusOK, g.modelObject(name))
}

// ReceiptView is one receipt as GET /v1/receipts returns it.
type ReceiptView struct {
	RunID    string           `json:"run_id"`
	State    string           `json:"state"`
	BatchSeq uint64           `json:"batch_seq,omitempty"`
	Escrow   string           `json:"escrow"`
	Keeper   string           `json:"keeper"`
	Receipt  receipts.Receipt `json:"receipt"`
	// Encoded is the canonical Borsh receipt, Signature the keeper's
	// ed25519 signature over it (base64): verify these, not the JSON.
	Encoded   string `json:"encoded"`
	Signature string `json:"signature"`
}

// ReceiptPage is the body of GET /v1/receipts.
type ReceiptPage struct {
	Object  string        `json:"object"`
	Keeper  string        `json:"keeper"`
	Escrow  string        `json:"escrow"`
	Data    []ReceiptView `json:"data"`
	HasMore bool          `json:"has_more"`
}

// NewReceiptView renders a journal entry.
func NewReceiptView(e journal.Entry) ReceiptView {
	s := e.Signed
	return ReceiptView{
		RunID: s.Receipt.RunID.String(), State: e.State.String(), BatchSeq: e.BatchSeq,
		Escrow: solana.PublicKeyFromBytes(s.Receipt.Escrow[:]).String(), Keeper: solana.PublicKeyFromBytes(s.Receipt.Keeper[:]).String(),
		Receipt: s.Receipt, Encoded: base64.StdEncoding.EncodeToString(s.Encoded), Signature: base64.StdEncoding.EncodeToString(s.Signature[:]),
	}
}

func (g *Gateway) serveReceipts(w http.ResponseWriter, r *http.Request) {
	st, aerr := g.authenticate(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	after, limit, aerr := pageQuery(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	entries, err := g.cfg.Journal.Receipts(st.Address, after, limit+1)
	if err != nil {
		g.log.Error("list receipts", "err", err)
		errInternal("Could not read the journal.").write(w)
		return
	}
	page := ReceiptPage{Object: "list", Keeper: g.pub.String(), Escrow: st.Address.String(), Data: []ReceiptView{}}
	if len(entries) > limit {
		entries, page.HasMore = entries[:limit], true
	}
	for _, e := range entries {
		page.Data = append(page.Data, NewReceiptView(e))
	}
	writeJSON(w, http.StatusOK, page)
}

// serveReceipt answers GET /v1/receipts/{run_id}: the caller's receipt of
// one run, the id a response's X-Run-Id header named — how a client
// reconciles a stream it read without usage.
func (g *Gateway) serveReceipt(w http.ResponseWriter, r *http.Request) {
	st, aerr := g.authenticate(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	raw := r.PathValue("run_id")
	id, err := receipts.ParseRunID(raw)
	if err != nil {
		errInvalid("run_id", err.Error()).write(w)
		return
	}
	// The journal lists an escrow's receipts in run-id order after a
	// given id; the one just before this id finds it or proves it absent.
	entries, err := g.cfg.Journal.Receipts(st.Address, id.Prev(), 1)
	if err != nil {
		g.log.Error("look up receipt", "err", err, "request_id", requestID(r.Context()))
		errInternal("Could not read the journal.").write(w)
		return
	}
	if len(entries) == 0 || entries[0].Signed.Receipt.RunID != id {
		errReceiptNotFound(id.String()).write(w)
		return
	}
	writeJSON(w, http.StatusOK, NewReceiptView(entries[0]))
}

// serveReceiptProofs answers GET /v1/receipts/proofs: the caller's
// receipts that are in a batch, each with its Merkle proof, the batch root
// and the transaction that recorded the root (receipts not batched yet
// have none). Paged like GET /v1/receipts.
func (g *Gateway) serveReceiptProofs(w http.ResponseWriter, r *http.Request) {
	st, aerr := g.authenticate(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	if g.cfg.ReceiptProofs == nil {
		errNotFound.write(w)
		return
	}
	after, limit, aerr := pageQuery(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	proofs, err := g.cfg.ReceiptProofs(st.Address, after, limit)
	if err != nil {
		g.log.Error("receipt proofs", "err", err, "request_id", requestID(r.Context()))
		errInternal("Could not read the journal.").write(w)
		return
	}
	writeJSON(w, http.StatusOK, proofs)
}

// pageQuery parses ?after=<run id>&limit=<1..1000> (default 100).
func pageQuery(r *http.Request) (after receipts.RunID, limit int, aerr *apiError) {
	q := r.URL.Query()
	if a := q.Get("after"); a != "" {
		id, err := receipts.ParseRunID(a)
		if err != nil {
			return after, 0, errInvalid("after", err.Error())
		}
		after = id
	}
	limit = 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return after, 0, errInvalid("limit", "'limit' must be 1..1000.")
		}
		limit = n
	}
	return after, limit, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		errInternal("encoding failed").write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
