package actions

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/accounts"
	"github.com/modelcommons/modelcommons/clients/allowlist"
)

// Config of a Server. Zero values pick the defaults noted.
type Config struct {
	RPC *rpc.Client
	// Commitment of every read and simulation (default confirmed).
	Commitment rpc.CommitmentType
	// BaseURL is the origin wallets reach this server at
	// (scheme://host[:port], e.g. https://actions.example.org); every link
	// and icon URL is absolute under it. Required.
	BaseURL string
	// IconURL replaces the generated per-model icons (an absolute URL of an SVG, PNG or WebP image).
	IconURL string
	// ChainID is the cluster's CAIP-2 id for X-Blockchain-Ids (default:
	// "solana:" + the first 32 characters of the cluster's genesis hash).
	ChainID string
	// ComputeUnitPrice fixes the priority fee in micro-lamports per compute
	// unit; nil picks FeePercentile of recent fees on the written accounts.
	ComputeUnitPrice *uint64
	// FeePercentile of recent prioritization fees (default 75).
	FeePercentile int
	// MaxComputeUnitPrice caps the automatic price (default 1 000 000 micro-lamports).
	MaxComputeUnitPrice uint64
	// NativeSymbol names the native token in messages (default: the mint's
	// on-mint metadata symbol, else "native tokens").
	NativeSymbol string
	// Allowlists are the published allowlists of restricted crowdfunds, by
	// model id, so that contributions can carry their Merkle proof.
	Allowlists map[uint64][]solana.PublicKey
	// MaxBodyBytes bounds request bodies (default 16 KiB).
	MaxBodyBytes int64
	// RequestTimeout bounds the chain reads of one request (default 20 s).
	RequestTimeout time.Duration
	// MaxInFlight bounds the requests served at once; more get a 503 (default 64).
	MaxInFlight int
	// ReviewSecret derives the commit–reveal salts of bounty reviews made
	// through this server (at least MinReviewSecret bytes); without it the
	// review actions are refused. Keep it: reveals need the same secret.
	ReviewSecret []byte
	Logger       *slog.Logger
}

// Server answers Solana Actions requests. Safe for concurrent use.
type Server struct {
	cfg        Config
	base       string
	chainID    string
	reader     accounts.Reader
	allowlists map[uint64]*allowlist.Tree
	handler    http.Handler
	inFlight   chan struct{}

	mu      sync.Mutex
	natives map[solana.PublicKey]token
}

// New checks cfg and, unless cfg.ChainID is set, reads the cluster's genesis hash.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.RPC == nil {
		return nil, errors.New("actions: no RPC client")
	}
	if cfg.Commitment == "" {
		cfg.Commitment = rpc.CommitmentConfirmed
	}
	if cfg.FeePercentile == 0 {
		cfg.FeePercentile = 75
	}
	if cfg.FeePercentile < 1 || cfg.FeePercentile > 100 {
		return nil, fmt.Errorf("actions: fee percentile %d is not between 1 and 100", cfg.FeePercentile)
	}
	if cfg.MaxComputeUnitPrice == 0 {
		cfg.MaxComputeUnitPrice = 1_000_000
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 16 << 10
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 20 * time.Second
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	base, err := origin(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if n := len(cfg.ReviewSecret); n > 0 && n < MinReviewSecret {
		return nil, fmt.Errorf("actions: the review secret is %d bytes; at least %d", n, MinReviewSecret)
	}
	if cfg.IconURL != "" {
		u, err := url.Parse(cfg.IconURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("actions: icon URL %q is not an absolute http(s) URL", cfg.IconURL)
		}
	}
	s := &Server{
		cfg:        cfg,
		base:       base,
		chainID:    cfg.ChainID,
		reader:     accounts.Reader{RPC: cfg.RPC, Commitment: cfg.Commitment},
		allowlists: map[uint64]*allowlist.Tree{},
		natives:    map[solana.PublicKey]token{},
		inFlight:   make(chan struct{}, cfg.MaxInFlight),
	}
	for id, wallets := range cfg.Allowlists {
		tree, err := allowlist.New(wallets)
		if err != nil {
			return nil, fmt.Errorf("actions: allowlist of model %d: %w", id, err)
		}
		s.allowlists[id] = tree
	}
	if s.chainID == "" {
		hash, err := cfg.RPC.GetGenesisHash(ctx)
		if err != nil {
			return nil, fmt.Errorf("actions: read the cluster's genesis hash: %w", err)
		}
		s.chainID = ChainID(hash)
	}
	s.handler = s.routes()
	return s, nil
}

// ChainID is the CAIP-2 id of the Solana cluster with the given genesis hash.
func ChainID(genesis solana.Hash) string {
	h := genesis.String()
	if len(h) > 32 {
		h = h[:32]
	}
	return "solana:" + h
}

// origin checks that base is scheme://host[:port] and returns it without a trailing slash.
func origin(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("actions: base URL %q is not an absolute http(s) URL", base)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("actions: base URL %q must be an origin (scheme://host[:port]): actions.json has to be served at its root", base)
	}
	return u.Scheme + "://" + u.Host, nil
}

// BaseURL is the origin links point to.
func (s *Server) BaseURL() string { return s.base }

// Handler serves the Actions API.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	return err
}

// url is the absolute URL of a path on this server.
func (s *Server) url(path string) string { return s.base + path }

const apiPrefix = "/api/actions"

// rules is /actions.json: blink URLs under /models/ map to the API, and
// the API maps to itself so that its own URLs work as blinks.
func rules() ActionsJSON {
	return ActionsJSON{Rules: []Rule{
		{PathPattern: "/models/**", APIPath: apiPrefix + "/models/**"},
		{PathPattern: apiPrefix + "/**", APIPath: apiPrefix + "/**"},
	}}
}

// endpoint is one action URL.
type endpoint struct {
	// get describes the action (GET).
	get func(ctx context.Context, c *call) (*Action, error)
	// post builds the transaction for the wallet (POST); nil for a GET-only URL.
	post func(ctx context.Context, c *call) (*plan, error)
	// done describes the outcome once the transaction confirmed (POST …/next).
	done func(ctx context.Context, c *call) (*Action, error)
}

// call is one request to an endpoint.
type call struct {
	r      *http.Request
	model  *modelState
	wallet solana.PublicKey
	params map[string]string
}

// param is a parameter from the URL (filled-in href template) or the POST body's data.
func (c *call) param(name string) (string, bool) {
	if v, ok := c.params[name]; ok {
		return v, true
	}
	return "", false
}

// amount reads the "amount" parameter as an amount of t.
func (c *call) amount(t token) (uint64, error) {
	text, _ := c.param("amount")
	return t.Parse("amount", text)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/actions.json", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.fail(w, r, methodNotAllowed(http.MethodGet))
			return
		}
		s.writeJSON(w, r, http.StatusOK, rules())
	})
	mux.HandleFunc("/icons/models/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.fail(w, r, methodNotAllowed(http.MethodGet))
			return
		}
		s.modelIcon(w, r)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
	models := apiPrefix + "/models/{id}"
	s.register(mux, models, endpoint{get: s.overview})
	for name, ep := range s.modelEndpoints() {
		s.register(mux, models+"/"+name, ep)
	}
	s.register(mux, models+"/proposals/{index}", endpoint{get: s.proposalGet})
	s.register(mux, models+"/proposals/{index}/{choice}", endpoint{get: s.proposalGet, post: s.votePost, done: s.voteDone})
	for name, ep := range s.bountyEndpoints() {
		s.register(mux, models+"/bounties/{n}"+name, ep)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, notFound("There is no action at %s.", r.URL.Path))
	})
	return s.middleware(mux)
}

// modelEndpoints are the actions on one model, by path under the model.
func (s *Server) modelEndpoints() map[string]endpoint {
	eps := map[string]endpoint{}
	for _, group := range []map[string]endpoint{s.crowdfundEndpoints(), s.governanceEndpoints(), s.rewardsEndpoints(), s.marketEndpoints()} {
		for name, ep := range group {
			eps[name] = ep
		}
	}
	return eps
}

func (s *Server) register(mux *http.ServeMux, path string, ep endpoint) {
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.serve(w, r, func(ctx context.Context) (any, error) { return s.serveGet(ctx, r, ep) })
		case http.MethodPost:
			if ep.post == nil {
				s.fail(w, r, methodNotAllowed(http.MethodGet))
				return
			}
			s.serve(w, r, func(ctx context.Context) (any, error) { return s.servePost(ctx, w, r, ep) })
		default:
			allowed := http.MethodGet
			if ep.post != nil {
				allowed += ", " + http.MethodPost
			}
			s.fail(w, r, methodNotAllowed(allowed))
		}
	})
	if ep.done != nil {
		mux.HandleFunc(path+"/next", func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				s.fail(w, r, methodNotAllowed(http.MethodPost))
				return
			}
			s.serve(w, r, func(ctx context.Context) (any, error) { return s.serveNext(ctx, w, r, ep) })
		})
	}
}

func methodNotAllowed(allowed string) *Error {
	return &Error{Status: http.StatusMethodNotAllowed, Message: "This action answers " + allowed + " only.", allow: allowed}
}

// serve answers a request with what handle returns, as JSON, or with its
// error; handle runs within the request timeout.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, handle func(context.Context) (any, error)) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	v, err := handle(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, v)
}

// newCall is a request about the model in the request's path.
func (s *Server) newCall(ctx context.Context, r *http.Request, wallet solana.PublicKey, params map[string]string) (*call, error) {
	m, err := s.loadModel(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return &call{r: r, wallet: wallet, params: params, model: m}, nil
}

// readWallet reads a POST's body into body and parses the wallet address
// it names in account.
func (s *Server) readWallet(w http.ResponseWriter, r *http.Request, body any, account *string) (solana.PublicKey, error) {
	if err := s.readBody(w, r, body); err != nil {
		return solana.PublicKey{}, err
	}
	return parseWallet(*account)
}

func (s *Server) serveGet(ctx context.Context, r *http.Request, ep endpoint) (any, error) {
	c, err := s.newCall(ctx, r, solana.PublicKey{}, queryParams(r))
	if err != nil {
		return nil, err
	}
	a, err := ep.get(ctx, c)
	if err != nil {
		return nil, err
	}
	a.Type = typeAction
	return a, nil
}

func (s *Server) servePost(ctx context.Context, w http.ResponseWriter, r *http.Request, ep endpoint) (any, error) {
	var body PostRequest
	wallet, err := s.readWallet(w, r, &body, &body.Account)
	if err != nil {
		return nil, err
	}
	params := queryParams(r)
	for k, v := range body.Data {
		if _, set := params[k]; set {
			continue // the URL's value wins
		}
		switch x := v.(type) {
		case string:
			params[k] = x
		case json.Number:
			params[k] = x.String()
		case bool:
			params[k] = fmt.Sprint(x)
		default:
			return nil, badRequest("The value of %q must be a single value.", k)
		}
	}
	c, err := s.newCall(ctx, r, wallet, params)
	if err != nil {
		return nil, err
	}
	p, err := ep.post(ctx, c)
	if err != nil {
		return nil, err
	}
	tx, err := s.build(ctx, wallet, *p)
	if err != nil {
		return nil, err
	}
	resp := TransactionResponse{Type: linkTransaction, Transaction: tx.Base64, Message: p.Message}
	if ep.done != nil {
		resp.Links = &NextLinks{Next: NextActionLink{Type: "post", Href: s.url(r.URL.Path + "/next")}}
	}
	s.cfg.Logger.Info("action transaction built", "path", r.URL.Path, "wallet", wallet,
		"units", tx.UnitsConsumed, "unit_limit", tx.ComputeUnitLimit, "unit_price", tx.ComputeUnitPrice)
	return resp, nil
}

// serveNext is the action-chaining callback: once the wallet's transaction
// confirmed, the client shows what changed as a "completed" action.
func (s *Server) serveNext(ctx context.Context, w http.ResponseWriter, r *http.Request, ep endpoint) (any, error) {
	var body NextActionPostRequest
	wallet, err := s.readWallet(w, r, &body, &body.Account)
	if err != nil {
		return nil, err
	}
	if body.Signature != "" {
		sig, err := solana.SignatureFromBase58(body.Signature)
		if err != nil {
			return nil, badRequest("%q is not a transaction signature.", body.Signature)
		}
		if err := s.awaitLanded(ctx, sig); err != nil {
			return nil, err
		}
	}
	c, err := s.newCall(ctx, r, wallet, queryParams(r))
	if err != nil {
		return nil, err
	}
	a, err := ep.done(ctx, c)
	if err != nil {
		return nil, err
	}
	a.Type, a.Links = typeCompleted, nil
	return a, nil
}

// awaitLanded waits (briefly) until sig is visible at the configured
// commitment; a transaction that failed on chain is a 409.
func (s *Server) awaitLanded(ctx context.Context, sig solana.Signature) error {
	for {
		res, err := s.cfg.RPC.GetSignatureStatuses(ctx, true, sig)
		if err == nil && len(res.Value) == 1 && res.Value[0] != nil {
			st := res.Value[0]
			if st.Err != nil {
				return conflict("The transaction %s failed on chain; nothing changed but its fee.", sig)
			}
			if reached(st.ConfirmationStatus, s.cfg.Commitment) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return conflict("The transaction %s has not landed yet; check it again in a moment.", sig)
		case <-time.After(400 * time.Millisecond):
		}
	}
}

func reached(got rpc.ConfirmationStatusType, want rpc.CommitmentType) bool {
	rank := map[string]int{"processed": 0, "confirmed": 1, "finalized": 2}
	return rank[string(got)] >= rank[string(want)]
}

// readBody decodes a bounded JSON body.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, into any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("The request body is larger than %d bytes.", s.cfg.MaxBodyBytes)}
	}
	if err != nil {
		return badRequest("The request body could not be read.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return badRequest(`The request body must be JSON like {"account": "<your wallet address>"}.`)
	}
	return nil
}

// parseWallet checks the POST body's account: a base58 ed25519 public key
// (a wallet, which can sign; not a program-derived address).
func parseWallet(s string) (solana.PublicKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return solana.PublicKey{}, badRequest(`The request has no "account": send the wallet address that will sign.`)
	}
	k, err := solana.PublicKeyFromBase58(s)
	if err != nil {
		return solana.PublicKey{}, badRequest("The account %q is not a Solana address.", s)
	}
	if !k.IsOnCurve() {
		return solana.PublicKey{}, badRequest("The account %s is not a wallet address (it cannot sign).", k)
	}
	return k, nil
}

func queryParams(r *http.Request) map[string]string {
	out := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

// middleware adds the Actions headers to every response, answers CORS
// preflights, and logs.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set(headerAllowOrigin, "*")
		h.Set(headerAllowMethods, allowMethods)
		h.Set(headerAllowHeaders, allowHeaders)
		h.Set(headerExposeHeaders, exposeHeaders)
		h.Set(headerActionVersion, SpecVersion)
		h.Set(headerBlockchainIDs, s.chainID)
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		select {
		case s.inFlight <- struct{}{}:
			defer func() { <-s.inFlight }()
		default:
			h.Set("Retry-After", "1")
			s.fail(w, r, errorf(http.StatusServiceUnavailable, "The action server is busy; try again in a moment."))
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				s.cfg.Logger.Error("action handler panicked", "path", r.URL.Path, "panic", v)
				if !rec.wrote {
					s.fail(rec, r, fmt.Errorf("panic: %v", v))
				}
			}
			s.cfg.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status, s.wrote = code, true
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// fail answers with the spec's error shape.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	if e.Status >= 500 {
		s.cfg.Logger.Warn("action failed", "path", r.URL.Path, "status", e.Status, "err", errors.Unwrap(e))
	}
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	s.writeJSON(w, r, e.Status, ActionError{Message: e.Message})
}

// writeJSON writes v, gzip-compressed when the client accepts it.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.cfg.Logger.Error("encode response", "err", err)
		status, body = http.StatusInternalServerError, []byte(`{"message":"The action server could not encode its answer."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) && len(body) > 512 {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
