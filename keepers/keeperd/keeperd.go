// Package keeperd wires the keeper daemon: the journal, the worker pool,
// the chain (or offline) escrow and price sources, the chain's clock
// (keepers/chainclock, one estimate shared by the gateway, the settler and
// the cranks) and the gateway, behind an API listener and an operator
// listener, run until the context ends. On a chain, New fails unless the
// chain's clock and the models can be read.
//
// Shutdown is graceful (listeners stop accepting, in-flight requests get
// Config.Gateway.ShutdownGrace, then the journal closes), but nothing relies
// on it: every receipt is durable before its response ends, so a SIGKILL
// loses no served run.
package keeperd

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/modelcommons/modelcommons/clients/cluster"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/keepers/chaincache"
	"github.com/modelcommons/modelcommons/keepers/chainclock"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/keeperapi"
	"github.com/modelcommons/modelcommons/keepers/keeperconfig"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/settler"
	"github.com/modelcommons/modelcommons/keepers/workers"
)

// Daemon is a configured keeper.
type Daemon struct {
	cfg     keeperconfig.Config
	log     *slog.Logger
	key     ed25519.PrivateKey
	journal *journal.Journal
	pool    *workers.Pool
	gw      *gateway.Gateway
	reg     *prometheus.Registry
	runners []func(context.Context) error
	started time.Time

	apiLn, adminLn net.Listener
	mu             sync.Mutex
	settle         settleParts // settle.go
	// clock is the chain's clock shared by the gateway, the settler and the
	// cranks (nil offline).
	clock *chainclock.Clock
}

// New opens the journal and builds every part; Run serves.
func New(cfg keeperconfig.Config, log *slog.Logger) (*Daemon, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key, err := keeperconfig.LoadKey(cfg.Keypair)
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: log, key: key, reg: prometheus.NewRegistry(), started: time.Now()}
	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The settlement lag is the settler's series; it is shown (as 0) even
	// when this keeper does not settle.
	d.settle.lag = settler.RegisterLag(d.reg)

	var wcs []workers.WorkerConfig
	for _, w := range cfg.Workers {
		kind, _ := workers.ParseKind(w.Kind)
		wc := workers.WorkerConfig{Name: w.Name, URL: w.URL, Kind: kind, Models: w.Models, MaxOutstanding: w.MaxOutstanding}
		if w.APIKeyEnv != "" {
			wc.APIKey = os.Getenv(w.APIKeyEnv)
		}
		wcs = append(wcs, wc)
	}
	p := cfg.Pool
	d.pool, err = workers.New(workers.Config{
		Workers: wcs, HealthInterval: p.HealthInterval.Duration, HealthTimeout: p.HealthTimeout.Duration,
		UnhealthyAfter: p.UnhealthyAfter, BreakerThreshold: p.BreakerThreshold, BreakerCooldown: p.BreakerCooldown.Duration,
		HeaderTimeout: p.HeaderTimeout.Duration, Logger: log.With("component", "workers"),
	})
	if err != nil {
		return nil, err
	}
	d.runners = append(d.runners, d.pool.Run)

	var models []gateway.ModelConfig
	var ids []uint64
	for _, m := range cfg.Models {
		models = append(models, gateway.ModelConfig{Name: m.Name, ID: m.ID})
		ids = append(ids, m.ID)
	}

	// The node this keeper settles for: admission reads each escrow's lane
	// for it.
	var node solana.PublicKey
	if cfg.Settle.Node != "" {
		if node, err = solana.PublicKeyFromBase58(cfg.Settle.Node); err != nil {
			return nil, fmt.Errorf("config: settle.node %q: %w", cfg.Settle.Node, err)
		}
	}
	// A domain member admits against the escrows' lanes to its domain.
	member, err := domainMemberOf(cfg.Domain)
	if err != nil {
		return nil, err
	}
	d.settle.member = member
	var escrows gateway.EscrowSource
	var prices gateway.PriceBook
	var clock gateway.Clock = gateway.WallClock{}
	ready := func() bool { return true }
	if cfg.Offline != nil {
		mem := gateway.NewMemoryEscrows()
		for _, e := range cfg.Offline.Escrows {
			id := solana.MustPublicKeyFromBase58(e.KeyID) // checked by Config.Validate
			// Offline there is no node: the configured balance is the lane.
			mem.Put(gateway.EscrowState{Address: pda.Escrow(id), KeyHash: id, Lane: &gateway.Lane{Balance: e.Balance}, AllowedModels: e.AllowedModels})
		}
		sp := gateway.StaticPrices{}
		for _, m := range cfg.Models {
			sp[m.ID] = gateway.Price{InputPer1k: m.InputPer1k, OutputPer1k: m.OutputPer1k}
		}
		escrows, prices = mem, sp
		log.Warn("running offline: escrows and prices come from the config file, nothing settles")
	} else {
		url, err := cluster.ResolveURL(cfg.RPCURL)
		if err != nil {
			return nil, err
		}
		commitment, err := cluster.ParseCommitment(cfg.Commitment)
		if err != nil {
			return nil, err
		}
		client := rpc.New(url)
		d.clock = chainclock.New(chainclock.Config{RPC: client, Commitment: commitment, Refresh: cfg.Chain.ClockRefresh.Duration,
			Logger: log.With("component", "chainclock")})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := d.clock.Read(ctx); err != nil {
			return nil, fmt.Errorf("read the chain's clock from %s: %w", url, err)
		}
		if node.IsZero() {
			log.Warn("no [settle] node: escrow lanes are read for no node, so every request is refused (402); set [settle] node")
		}
		serial, err := member.serial(ctx, client, commitment)
		if err != nil {
			return nil, err
		}
		cc := chaincache.Config{RPC: client, Commitment: commitment, Node: member.laneKey(node), DomainSerial: serial, Clock: d.clock, Logger: log.With("component", "chain")}
		ce := chaincache.NewEscrows(cc)
		cc.Refresh = cfg.Chain.PriceRefresh.Duration
		cp := chaincache.NewPrices(cc, ids)
		if err := cp.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("read model prices from %s: %w", url, err)
		}
		chaincache.CheckPriceRefresh(ctx, client, commitment, cfg.Chain.PriceRefresh.Duration, log)
		for _, m := range cfg.Models {
			if _, err := cp.Price(ctx, m.ID, d.clock.Now()); err != nil {
				log.Warn("model not servable yet", "model", m.Name, "id", m.ID, "err", err)
			}
		}
		escrows, prices, clock = ce, cp, d.clock
		d.settle.rpc, d.settle.refresh = client, ce.RefreshEscrows
		ready = func() bool { return ce.Healthy() && cp.Healthy() }
		d.runners = append(d.runners, ce.Run, cp.Run, d.clock.Run)
		if err := d.clock.RegisterMetrics(d.reg); err != nil {
			return nil, err
		}
	}

	d.journal, err = journal.Open(journal.Config{
		Path: cluster.ExpandHome(cfg.Journal.Path), Retention: cfg.Journal.Retention.Duration,
		CompactMinBytes: cfg.Journal.CompactMinBytes, Logger: log.With("component", "journal"),
	})
	if err != nil {
		return nil, err
	}
	d.runners = append(d.runners, d.journal.Run)
	if err := d.journal.RegisterMetrics(d.reg); err != nil {
		d.journal.Close()
		return nil, err
	}

	limits, err := cfg.GatewayLimits()
	if err != nil {
		d.journal.Close()
		return nil, err
	}
	g := cfg.Gateway
	d.gw, err = gateway.New(gateway.Config{
		Models: models, Pool: d.pool, Escrows: escrows, Prices: prices, Journal: d.journal, Key: key, Node: node,
		Registry: d.reg, Unsettled: d.journal.UnsettledTotal, Ready: ready, HideMetrics: cfg.AdminListen != "",
		Logger:       log.With("component", "gateway"),
		MaxBodyBytes: g.MaxBodyBytes, MaxResponseBytes: g.MaxResponseBytes, DefaultMaxTokens: g.DefaultMaxTokens,
		MaxTokensLimit: g.MaxTokensLimit, MaxN: g.MaxN, PromptMarginPct: g.PromptMarginPct, MaxAttempts: g.MaxAttempts,
		RateLimit: g.RateLimit, RateBurst: g.RateBurst, MaxInFlight: g.MaxInFlight, WriteTimeout: g.WriteTimeout.Duration,
		UpstreamIdleTimeout: g.UpstreamIdle.Duration, Clock: clock, Limits: limits, FrontDoor: member.frontDoorKey(), Domain: member.domainKey(),
		ReceiptProofs: func(escrow solana.PublicKey, after receipts.RunID, limit int) (any, error) {
			return keeperapi.ReceiptProofs(d.journal, escrow, after, limit)
		},
	})
	if err != nil {
		d.journal.Close()
		return nil, err
	}
	if err := d.startSettlement(); err != nil {
		d.journal.Close()
		return nil, err
	}
	return d, nil
}

// Listen binds the listeners (Run does it if not done); it lets callers
// learn the addresses when configured with port 0.
func (d *Daemon) Listen() (api, admin string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.apiLn == nil {
		if d.apiLn, err = net.Listen("tcp", d.cfg.Listen); err != nil {
			return "", "", fmt.Errorf("listen %s: %w", d.cfg.Listen, err)
		}
	}
	if d.cfg.AdminListen != "" && d.adminLn == nil {
		if d.adminLn, err = net.Listen("tcp", d.cfg.AdminListen); err != nil {
			return "", "", fmt.Errorf("listen %s: %w", d.cfg.AdminListen, err)
		}
	}
	api = d.apiLn.Addr().String()
	if d.adminLn != nil {
		admin = d.adminLn.Addr().String()
	}
	return api, admin, nil
}

// Run serves until ctx ends, then shuts down and closes the journal.
func (d *Daemon) Run(ctx context.Context) error {
	api, admin, err := d.Listen()
	if err != nil {
		d.journal.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range d.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = r(ctx)
		}()
	}
	// ReadTimeout bounds a client dribbling its request body; responses
	// are bounded per write by the gateway (Config.Gateway.WriteTimeout).
	servers := []*http.Server{{Handler: d.gw.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}}
	lns := []net.Listener{d.apiLn}
	if d.adminLn != nil {
		servers = append(servers, &http.Server{Handler: d.AdminHandler(), ReadHeaderTimeout: 10 * time.Second})
		lns = append(lns, d.adminLn)
	}
	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() {
			if err := s.Serve(lns[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	d.log.Info("keeper serving", "api", api, "admin", admin, "keeper_key", d.gw.KeeperKey(), "journal", d.journal.Path())
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	grace := d.cfg.Gateway.ShutdownGrace.Duration
	if grace <= 0 {
		grace = 30 * time.Second
	}
	sctx, scancel := context.WithTimeout(context.Background(), grace)
	defer scancel()
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	cancel()
	wg.Wait()
	if err := d.journal.Close(); err != nil && runErr == nil {
		runErr = err
	}
	d.log.Info("keeper stopped")
	return runErr
}

// Status reports the running keeper.
func (d *Daemon) Status() (keeperapi.Status, error) {
	s, err := keeperapi.JournalStatus(d.journal)
	s.KeeperKey = d.gw.KeeperKey().String()
	s.Uptime = time.Since(d.started).Round(time.Second).String()
	s.Ready = d.gw.Ready()
	s.Workers = d.pool.Snapshot()
	s.Settlement = d.settlementStatus()
	if d.clock != nil {
		cs := d.clock.Status()
		s.ChainClock = &cs
	}
	return s, err
}

// AdminHandler serves /metrics, /status, /receipts?escrow=<address>,
// /journal/backup and the health endpoints for the operator.
func (d *Daemon) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.gw.MetricsHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		s, err := d.Status()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, s)
	})
	mux.HandleFunc("GET /receipts", func(w http.ResponseWriter, r *http.Request) {
		escrow, after, limit, err := keeperapi.ParseReceiptsQuery(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		page, err := keeperapi.ReceiptsPage(d.journal, d.gw.KeeperKey(), escrow, after, limit)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, page)
	})
	// A consistent copy of the journal while the keeper runs (keeper journal backup).
	mux.Handle("GET "+journal.BackupPath, d.journal.BackupHandler())
	d.settlementRoutes(mux)
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
