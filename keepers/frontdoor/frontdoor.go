package frontdoor

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/modelcommons/modelcommons/keepers/domainpass"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/workers"
)

// MemberHeader names the node that served a request (the front door adds
// it to the member's answer).
const MemberHeader = "X-Domain-Member"

// Config configures a FrontDoor.
type Config struct {
	// Admitter authenticates and prices requests (gateway.NewAdmitter over
	// escrow sources that read each escrow's lane to the domain).
	Admitter *gateway.Admitter
	Router   *Router
	Ledger   *Ledger
	// Key signs the passes members check (their [domain] front_door).
	Key ed25519.PrivateKey
	// Client talks to members (default: one without a total timeout, as
	// streams are long; dial and header timeouts bound a dead member).
	Client *http.Client
	// MaxAttempts members tried per request (default 3).
	MaxAttempts int
	// MaxResponseBytes bounds a non-streaming answer (default 16 MiB).
	MaxResponseBytes int64
	// WriteTimeout bounds each write to the client (default 30s).
	WriteTimeout time.Duration
	Registry     *prometheus.Registry
	Logger       *slog.Logger
}

// FrontDoor serves a domain's OpenAI-compatible API by routing to members.
type FrontDoor struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	handler http.Handler
}

// New builds a front door.
func New(cfg Config) (*FrontDoor, error) {
	if cfg.Admitter == nil || cfg.Router == nil || cfg.Ledger == nil {
		return nil, errors.New("frontdoor: admitter, router and ledger are required")
	}
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("frontdoor: signing key missing")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost:   256,
			ResponseHeaderTimeout: 120 * time.Second,
			DisableCompression:    true,
		}}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 16 << 20
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	f := &FrontDoor{cfg: cfg, log: cfg.Logger, metrics: newMetrics(cfg.Registry, cfg.Router)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", f.serveGen(workers.ChatCompletions, "/v1/chat/completions"))
	mux.HandleFunc("POST /v1/completions", f.serveGen(workers.Completions, "/v1/completions"))
	mux.HandleFunc("POST /v1/embeddings", f.serveGen(workers.Embeddings, "/v1/embeddings"))
	mux.HandleFunc("GET /v1/models", f.serveModels)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", f.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
	f.handler = mux
	return f, nil
}

// Handler is the front door's HTTP handler.
func (f *FrontDoor) Handler() http.Handler { return f.handler }

func (f *FrontDoor) serveReady(w http.ResponseWriter, _ *http.Request) {
	if f.cfg.Router.Healthy() == 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "no healthy member\n")
		return
	}
	if !f.cfg.Ledger.Open() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "reconciling with the members' settlement after the start\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

func (f *FrontDoor) serveModels(w http.ResponseWriter, _ *http.Request) {
	var b strings.Builder
	b.WriteString(`{"object":"list","data":[`)
	for i, m := range f.cfg.Admitter.Models() {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%q,"object":"model","created":0,"owned_by":"modelcommons"}`, m)
	}
	b.WriteString("]}")
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, b.String())
}

// outcome of one attempt on a member.
type outcome int

const (
	tryNext  outcome = iota // nothing reached the client and nothing was charged
	answered                // the client got the member's answer (or its error)
)

func (f *FrontDoor) serveGen(ep workers.Endpoint, path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		code := 0
		defer func() { f.metrics.requests.WithLabelValues(strconv.Itoa(code)).Inc() }()
		adm, ref := f.cfg.Admitter.Admit(w, r, ep)
		if ref != nil {
			code = ref.Status()
			ref.Write(w)
			return
		}
		t, err := f.cfg.Ledger.Reserve(r.Context(), adm.Escrow.Address, adm.Worst)
		if err != nil {
			ref = gateway.Funds(err.Error() + ". Add to the escrow's lane to the domain (mt escrow allow <escrow> --domain <domain> <amount>) or lower max_tokens.")
			switch {
			case errors.Is(err, ErrNoRoom):
			case errors.Is(err, ErrReconciling):
				ref = gateway.Unavailable("The domain's front door has just started and is reconciling with its members' settlement; retry shortly.")
			default:
				f.log.Warn("domain lane unreadable", "escrow", adm.Escrow.Address, "err", err)
				ref = gateway.Unavailable("The front door cannot read the domain's lane from the chain right now; try again shortly.")
			}
			code = ref.Status()
			ref.Write(w)
			return
		}
		// Whatever path ends the request, a reservation nobody converted is
		// freed: that path charged nothing.
		defer t.Free()
		tried := map[solana.PublicKey]bool{}
		for attempt := 0; attempt < f.cfg.MaxAttempts; attempt++ {
			m := f.cfg.Router.pick(tried)
			if m == nil {
				break
			}
			tried[m.Node] = true
			if attempt > 0 {
				f.metrics.failovers.Inc()
			}
			c, out := f.attempt(w, r, path, adm, m, t)
			if out == answered {
				code = c
				return
			}
		}
		ref = gateway.Unavailable("No member of this domain could serve the request right now; try again shortly.")
		if len(tried) > 0 {
			ref = gateway.Upstream("The domain's members failed to answer; this request is not charged. Retry it.")
		}
		code = ref.Status()
		ref.Write(w)
	}
}

// attempt sends the request to member m and relays its answer.
func (f *FrontDoor) attempt(w http.ResponseWriter, r *http.Request, path string, adm *gateway.Admission, m *route, t *Ticket) (int, outcome) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL+path, bytes.NewReader(adm.Body))
	if err != nil {
		m.done(true)
		return 0, tryNext
	}
	for _, h := range []string{"Authorization", "Content-Type", "Accept", "OpenAI-Organization", "OpenAI-Project"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set(domainpass.Header, domainpass.Sign(f.cfg.Key, adm.Escrow.Address, adm.Body, time.Now()))
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		if r.Context().Err() != nil {
			m.done(false)
			return 499, answered
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			f.log.Warn("member unreachable; failing over", "node", m.Node, "err", err)
			m.done(true)
			return 0, tryNext
		}
		m.done(true)
		if adm.Stream {
			// A member records a stream only once all of it is written, so
			// one lost before its first byte is almost surely unrecorded:
			// fail over, but hold this member's possible run against the
			// lane until its mark settles.
			f.log.Warn("member connection lost before its first byte; failing over", "node", m.Node, "err", err)
			f.unknown(adm, m)
			return 0, tryNext
		}
		// A member records a complete answer before sending it: this one
		// may be recorded, and serving it again would charge it twice.
		f.log.Warn("member connection lost before its answer; not retried", "node", m.Node, "err", err)
		f.metrics.unknown.Inc()
		t.Unknown(m.Node)
		ref := gateway.Upstream("The domain member failed before answering and may have recorded the run; it is not retried elsewhere so it cannot be charged twice. Check your receipts, then retry.")
		ref.Write(w)
		return ref.Status(), answered
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		// A member's 5xx before its answer means it recorded nothing. A
		// busy member (503: no free worker) stays in rotation; a failing
		// one waits for its next good probe.
		failed := resp.StatusCode != http.StatusServiceUnavailable
		if failed {
			f.log.Warn("member error; failing over", "node", m.Node, "status", resp.StatusCode)
		}
		m.done(failed)
		return 0, tryNext
	}
	if resp.StatusCode != http.StatusOK {
		// The member refused the request itself (bad request, model not
		// allowed, its own view of the lane): another member would too.
		m.done(false)
		copyHeaders(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, answered
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return f.relayStream(w, r, resp, adm, m, t)
	}
	return f.relayBody(w, resp, m, t)
}

// relayStream relays a member's event stream byte for byte. Until the
// first bytes arrive a failure moves on to another member; after that the
// client gets an error event and the run is charged as the member's
// receipt says (its trailers), or held as unknown if they never came.
func (f *FrontDoor) relayStream(w http.ResponseWriter, r *http.Request, resp *http.Response, adm *gateway.Admission, m *route, t *Ticket) (int, outcome) {
	br := bufio.NewReaderSize(resp.Body, 32<<10)
	if _, err := br.Peek(1); err != nil {
		if r.Context().Err() != nil {
			m.done(false)
			return 499, answered
		}
		f.log.Warn("member stream failed before its first byte; failing over", "node", m.Node, "err", err)
		m.done(true)
		if !errors.Is(err, io.EOF) {
			f.unknown(adm, m)
		}
		return 0, tryNext
	}
	copyHeaders(w.Header(), resp.Header)
	w.Header().Set(MemberHeader, m.Node.String())
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	var tail []byte // the stream's last bytes: did it end with [DONE]?
	for {
		n, err := br.Read(buf)
		if n > 0 {
			tail = append(tail, buf[:n]...)
			if len(tail) > 64 {
				tail = tail[len(tail)-64:]
			}
			_ = rc.SetWriteDeadline(time.Now().Add(f.cfg.WriteTimeout))
			if _, werr := w.Write(buf[:n]); werr != nil {
				// The client left: the member may yet record the run.
				m.done(false)
				f.metrics.unknown.Inc()
				t.Unknown(m.Node)
				return 499, answered
			}
			if br.Buffered() == 0 {
				_ = rc.Flush()
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.log.Warn("member stream broke after its first byte", "node", m.Node, "err", err)
			m.done(true)
			f.metrics.unknown.Inc()
			t.Unknown(m.Node)
			_, _ = w.Write(gateway.SSEError(gateway.Upstream("The domain member failed while streaming. Retry the request; you are charged only if the member recorded the run (see its receipts).")))
			_ = rc.Flush()
			return http.StatusOK, answered
		}
	}
	m.done(false)
	// A member ends a stream it did not record with an error event and no
	// [DONE]; one that did carries trailers.
	f.settle(resp.Trailer, m, t, bytes.Contains(tail, []byte("data: [DONE]")))
	return http.StatusOK, answered
}

// relayBody relays a complete answer. The member recorded the run before
// sending its headers, so a body that breaks off is not retried elsewhere
// (that would charge the user twice).
func (f *FrontDoor) relayBody(w http.ResponseWriter, resp *http.Response, m *route, t *Ticket) (int, outcome) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxResponseBytes+1))
	f.settle(resp.Header, m, t, true)
	if err != nil || int64(len(b)) > f.cfg.MaxResponseBytes {
		m.done(true)
		ref := gateway.Upstream("The domain member's answer broke off after it recorded the run; see your receipts (run " + resp.Header.Get("X-Run-Id") + ").")
		ref.Write(w)
		return ref.Status(), answered
	}
	m.done(false)
	copyHeaders(w.Header(), resp.Header)
	w.Header().Set(MemberHeader, m.Node.String())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return http.StatusOK, answered
}

// settle converts the ticket from the member's run number and cost: both
// present, the receipt's cost is owed until the node settles that number;
// otherwise, for an answer that completed, unknown (the worst case stays
// held); for one the member ended without completing, nothing was
// recorded.
func (f *FrontDoor) settle(h http.Header, m *route, t *Ticket, completed bool) {
	seqS, costS := h.Get(gateway.RunSeqHeader), h.Get(gateway.RunCostHeader)
	if seqS == "" && costS == "" && !completed {
		t.Free()
		return
	}
	seq, err1 := strconv.ParseUint(seqS, 10, 64)
	cost, err2 := strconv.ParseUint(costS, 10, 64)
	if err1 != nil || err2 != nil || seq == 0 {
		f.log.Warn("member answer without a usable run number; its worst case stays reserved", "node", m.Node, "seq", seqS, "cost", costS)
		f.metrics.unknown.Inc()
		t.Unknown(m.Node)
		return
	}
	f.metrics.charged.Add(float64(cost))
	t.Charged(m.Node, seq, cost)
}

// copyHeaders copies a member's answer headers the client should see.
func copyHeaders(dst, src http.Header) {
	for _, h := range []string{"Content-Type", "Cache-Control", "X-Accel-Buffering", "X-Run-Id", "X-Request-Id", "Retry-After"} {
		if v := src.Get(h); v != "" {
			dst.Set(h, v)
		}
	}
}

// unknown holds a run member m may have recorded for a request that then
// went to another member.
func (f *FrontDoor) unknown(adm *gateway.Admission, m *route) {
	f.metrics.unknown.Inc()
	f.cfg.Ledger.Hold(adm.Escrow.Address, m.Node, adm.Worst)
}
