package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is the inference server software a worker runs.
type Kind string

const (
	KindVLLM     Kind = "vllm"
	KindLlamaCpp Kind = "llamacpp"
	KindOllama   Kind = "ollama"
	KindOpenAI   Kind = "openai"
)

// healthPath is where each kind answers a liveness probe with 2xx.
func (k Kind) healthPath() string {
	switch k {
	case KindVLLM, KindLlamaCpp:
		return "/health" // llama.cpp answers 503 while loading the model
	case KindOllama:
		return "/api/version"
	default:
		return "/v1/models"
	}
}

// loading reports whether a failed health probe is the server saying it is
// still loading its model (llama.cpp's /health: 503 with an OpenAI-style
// error body, recorded in testdata/llamacpp/captured/health_loading.json),
// with the server's message. That answer is no flaky probe: a server
// restarted between two probes answers it, and gets no traffic until it
// answers 200, however many probes UnhealthyAfter would otherwise wait.
func (k Kind) loading(status int, body []byte) (string, bool) {
	if k != KindLlamaCpp || status != http.StatusServiceUnavailable {
		return "", false
	}
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		return "server not ready", true
	}
	return e.Error.Message, true
}

// ParseKind validates a configured kind.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(s)); k {
	case KindVLLM, KindLlamaCpp, KindOllama, KindOpenAI:
		return k, nil
	case "llama.cpp", "llama-cpp":
		return KindLlamaCpp, nil
	}
	return "", fmt.Errorf("unknown worker kind %q (want vllm, llamacpp, ollama or openai)", s)
}

// WorkerConfig describes one worker.
type WorkerConfig struct {
	Name string
	// URL is the server's base URL, without /v1.
	URL  string
	Kind Kind
	// Models the worker serves, as public names; "public=upstream" when the
	// worker knows the model under another name (e.g. "tiny=llama3.2:1b").
	Models []string
	// APIKey, if set, is sent to the worker as a bearer token.
	APIKey string
	// MaxOutstanding caps concurrent requests (0: no cap).
	MaxOutstanding int
}

// Config configures a Pool.
type Config struct {
	Workers []WorkerConfig
	// HealthInterval between probes (default 5s); HealthTimeout per probe
	// (default 2s).
	HealthInterval, HealthTimeout time.Duration
	// UnhealthyAfter consecutive failed probes mark a worker down (default 2).
	UnhealthyAfter int
	// BreakerThreshold consecutive request failures open the circuit
	// (default 5); it stays open for BreakerCooldown (default 10s, doubled
	// on each failed trial up to 8x).
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// HeaderTimeout bounds the wait for a worker's response headers
	// (default 120s): time to first token of a queued request.
	HeaderTimeout time.Duration
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
	Logger    *slog.Logger
}

// Sentinel errors.
var (
	ErrNoWorker     = errors.New("no healthy worker serves this model")
	ErrUnknownModel = errors.New("no worker is configured for this model")
)

// Pool routes requests to workers.
type Pool struct {
	cfg     Config
	log     *slog.Logger
	client  *http.Client
	probe   *http.Client
	workers []*Worker
	byModel map[string][]*Worker
	checked atomic.Bool
}

// Worker is one configured worker and its live state.
type Worker struct {
	cfg      WorkerConfig
	base     *url.URL
	upstream map[string]string // public model name -> name the worker knows

	outstanding atomic.Int64
	healthy     atomic.Bool

	mu            sync.Mutex
	probeFailures int
	breaker       breaker
	lastErr       string
}

// Name is the worker's configured name.
func (w *Worker) Name() string { return w.cfg.Name }

// Kind is the worker's server kind.
func (w *Worker) Kind() Kind { return w.cfg.Kind }

// UpstreamModel is the name the worker knows model by.
func (w *Worker) UpstreamModel(model string) string { return w.upstream[model] }

// New builds a pool; call Run to start health checks (until the first
// round completes, no worker is healthy).
func New(cfg Config) (*Pool, error) {
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 5 * time.Second
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 2 * time.Second
	}
	if cfg.UnhealthyAfter <= 0 {
		cfg.UnhealthyAfter = 2
	}
	if cfg.BreakerThreshold <= 0 {
		cfg.BreakerThreshold = 5
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 10 * time.Second
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = 120 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tr := cfg.Transport
	if tr == nil {
		tr = &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   512,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: cfg.HeaderTimeout,
			// Bodies are relayed as produced; never ask workers to compress.
			DisableCompression: true,
		}
	}
	p := &Pool{
		cfg:     cfg,
		log:     cfg.Logger,
		client:  &http.Client{Transport: tr, CheckRedirect: noRedirects},
		probe:   &http.Client{Transport: tr, Timeout: cfg.HealthTimeout, CheckRedirect: noRedirects},
		byModel: map[string][]*Worker{},
	}
	names := map[string]bool{}
	for _, wc := range cfg.Workers {
		if wc.Name == "" || names[wc.Name] {
			return nil, fmt.Errorf("worker %q: names must be non-empty and unique", wc.Name)
		}
		names[wc.Name] = true
		if _, err := ParseKind(string(wc.Kind)); err != nil {
			return nil, fmt.Errorf("worker %s: %w", wc.Name, err)
		}
		u, err := url.Parse(strings.TrimRight(wc.URL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("worker %s: bad URL %q", wc.Name, wc.URL)
		}
		u.Path = strings.TrimSuffix(u.Path, "/v1")
		if len(wc.Models) == 0 {
			return nil, fmt.Errorf("worker %s: no models", wc.Name)
		}
		w := &Worker{cfg: wc, base: u, upstream: map[string]string{}}
		for _, m := range wc.Models {
			public, up, found := strings.Cut(m, "=")
			public, up = strings.TrimSpace(public), strings.TrimSpace(up)
			if !found {
				up = public
			}
			if public == "" || up == "" {
				return nil, fmt.Errorf("worker %s: bad model entry %q", wc.Name, m)
			}
			w.upstream[public] = up
			p.byModel[public] = append(p.byModel[public], w)
		}
		p.workers = append(p.workers, w)
	}
	return p, nil
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Models lists every public model name some worker is configured for.
func (p *Pool) Models() []string {
	out := make([]string, 0, len(p.byModel))
	for m := range p.byModel {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

// Serves reports whether any worker is configured for model.
func (p *Pool) Serves(model string) bool { return len(p.byModel[model]) > 0 }

// Available reports whether some worker for model is healthy with a closed
// (or trial-ready) circuit.
func (p *Pool) Available(model string) bool {
	now := time.Now()
	for _, w := range p.byModel[model] {
		if w.healthy.Load() && w.breakerReady(now) {
			return true
		}
	}
	return false
}

// Ready reports whether the first health round completed and at least one
// worker is healthy.
func (p *Pool) Ready() bool {
	if !p.checked.Load() {
		return false
	}
	for _, w := range p.workers {
		if w.healthy.Load() {
			return true
		}
	}
	return false
}

// Lease is one request's hold on a worker. Release it exactly once.
type Lease struct {
	p        *Pool
	w        *Worker
	trial    bool
	released atomic.Bool
}

// Worker is the leased worker.
func (l *Lease) Worker() *Worker { return l.w }

// Acquire picks the healthy worker for model with the fewest outstanding
// requests, skipping the workers in exclude (already tried). Ties are
// broken at random.
func (p *Pool) Acquire(model string, exclude []*Worker) (*Lease, error) {
	cands := p.byModel[model]
	if len(cands) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrUnknownModel, model)
	}
	now := time.Now()
	var best []*Worker
	bestN := int64(-1)
	for _, w := range cands {
		if slices.Contains(exclude, w) || !w.healthy.Load() || !w.breakerReady(now) {
			continue
		}
		n := w.outstanding.Load()
		if w.cfg.MaxOutstanding > 0 && n >= int64(w.cfg.MaxOutstanding) {
			continue
		}
		switch {
		case bestN < 0 || n < bestN:
			best, bestN = append(best[:0], w), n
		case n == bestN:
			best = append(best, w)
		}
	}
	for len(best) > 0 {
		i := 0
		if len(best) > 1 {
			i = rand.IntN(len(best))
		}
		w := best[i]
		trial, ok := w.breakerAcquire(time.Now(), p.cfg.BreakerCooldown)
		if ok {
			w.outstanding.Add(1)
			return &Lease{p: p, w: w, trial: trial}, nil
		}
		best = slices.Delete(best, i, i+1)
	}
	return nil, fmt.Errorf("%w: %s", ErrNoWorker, model)
}

// Do sends one request to the leased worker: method POST to ep's path with
// body, the model renamed to the worker's name for it by the caller.
func (l *Lease) Do(ctx context.Context, ep Endpoint, body io.Reader, stream bool) (*http.Response, error) {
	u := *l.w.base
	u.Path += ep.Path()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	// llama.cpp's server closes a connection after a stream although it
	// announced keep-alive; a request written to it before the transport
	// noticed gets no answer. With this key (nil: not sent) net/http sends
	// such a request again on a new connection — only when the reused
	// connection died before any response byte, so nothing was relayed
	// and nothing charged (body: the caller's bytes or strings reader,
	// which NewRequest makes rewindable).
	req.Header["X-Idempotency-Key"] = nil
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if l.w.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+l.w.cfg.APIKey)
	}
	return l.p.client.Do(req)
}

// Outcome of a leased request, for the circuit breaker.
type Outcome int

const (
	// Success: the worker answered properly.
	Success Outcome = iota
	// WorkerFault: connection error, 5xx, malformed or truncated output.
	WorkerFault
	// Neutral: the request ended for reasons not the worker's (client went
	// away, the worker rejected a bad request with 4xx).
	Neutral
)

// Release returns the lease and records its outcome.
func (l *Lease) Release(o Outcome) {
	if !l.released.CompareAndSwap(false, true) {
		return
	}
	l.w.outstanding.Add(-1)
	l.w.breakerRecord(o, l.trial, time.Now(), l.p.cfg.BreakerThreshold, l.p.cfg.BreakerCooldown)
	if o == WorkerFault {
		l.p.log.Debug("worker fault", "worker", l.w.cfg.Name)
	}
}

// Run health-checks every worker until ctx ends. The first round runs
// immediately.
func (p *Pool) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.HealthInterval)
	defer t.Stop()
	for {
		p.CheckNow(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// CheckNow probes every worker once, concurrently.
func (p *Pool) CheckNow(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.check(ctx, w)
		}()
	}
	wg.Wait()
	p.checked.Store(true)
}

func (p *Pool) check(ctx context.Context, w *Worker) {
	u := *w.base
	u.Path += w.cfg.Kind.healthPath()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.HealthTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if w.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+w.cfg.APIKey)
	}
	var probeErr error
	notReady := false
	resp, err := p.probe.Do(req)
	if err != nil {
		probeErr = err
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			probeErr = fmt.Errorf("health probe: HTTP %d", resp.StatusCode)
			if msg, ok := w.cfg.Kind.loading(resp.StatusCode, body); ok {
				probeErr, notReady = fmt.Errorf("health probe: HTTP %d: %s", resp.StatusCode, msg), true
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	was := w.healthy.Load()
	if probeErr == nil {
		w.probeFailures = 0
		w.lastErr = ""
		w.healthy.Store(true)
		if !was {
			p.log.Info("worker up", "worker", w.cfg.Name)
		}
		return
	}
	w.probeFailures++
	w.lastErr = probeErr.Error()
	if w.probeFailures >= p.cfg.UnhealthyAfter || !p.checked.Load() || notReady {
		w.healthy.Store(false)
		if was {
			p.log.Warn("worker down", "worker", w.cfg.Name, "err", probeErr)
		}
	}
}

// Status is a snapshot of one worker for status pages and metrics.
type Status struct {
	Name        string   `json:"name"`
	URL         string   `json:"url"`
	Kind        Kind     `json:"kind"`
	Models      []string `json:"models"`
	Healthy     bool     `json:"healthy"`
	Circuit     string   `json:"circuit"`
	Outstanding int64    `json:"outstanding"`
	LastError   string   `json:"last_error,omitempty"`
}

// Snapshot returns every worker's status, in configuration order.
func (p *Pool) Snapshot() []Status {
	out := make([]Status, 0, len(p.workers))
	now := time.Now()
	for _, w := range p.workers {
		w.mu.Lock()
		s := Status{
			Name: w.cfg.Name, URL: w.base.Redacted(), Kind: w.cfg.Kind, Models: slices.Sorted(mapKeys(w.upstream)),
			Healthy: w.healthy.Load(), Circuit: w.breaker.state(now).String(), Outstanding: w.outstanding.Load(), LastError: w.lastErr,
		}
		w.mu.Unlock()
		out = append(out, s)
	}
	return out
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
