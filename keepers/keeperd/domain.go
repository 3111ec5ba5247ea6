package keeperd

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelcommons/modelcommons/clients/cluster"
	im "github.com/modelcommons/modelcommons/clients/inference_meter"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/settlement"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/keepers/chaincache"
	"github.com/modelcommons/modelcommons/keepers/chainclock"
	"github.com/modelcommons/modelcommons/keepers/frontdoor"
	"github.com/modelcommons/modelcommons/keepers/gateway"
	"github.com/modelcommons/modelcommons/keepers/keeperconfig"
)

// domainMember is a member keeper's domain, or nil for a keeper in none.
type domainMember struct {
	domain    solana.PublicKey
	frontDoor ed25519.PublicKey
}

// domainMemberOf parses a member keeper's [domain] section (nil outside a domain).
func domainMemberOf(c keeperconfig.DomainConfig) (*domainMember, error) {
	if c.FrontDoor == "" && c.Address == "" {
		return nil, nil
	}
	if c.FrontDoor == "" || c.Address == "" {
		return nil, errors.New("config: a domain member sets both [domain] address and front_door (the front door keeper's public key)")
	}
	d, err := solana.PublicKeyFromBase58(c.Address)
	if err != nil {
		return nil, fmt.Errorf("config: [domain] address %q: %w", c.Address, err)
	}
	fd, err := solana.PublicKeyFromBase58(c.FrontDoor)
	if err != nil {
		return nil, fmt.Errorf("config: [domain] front_door %q: %w", c.FrontDoor, err)
	}
	return &domainMember{domain: d, frontDoor: ed25519.PublicKey(fd[:])}, nil
}

// laneKey is whose lanes a keeper admits against: its domain's when it is
// a member, else its node's.
func (m *domainMember) laneKey(node solana.PublicKey) solana.PublicKey {
	if m == nil {
		return node
	}
	return m.domain
}

// domainKey is the member's domain (zero outside one).
func (m *domainMember) domainKey() solana.PublicKey {
	if m == nil {
		return solana.PublicKey{}
	}
	return m.domain
}

func (m *domainMember) frontDoorKey() ed25519.PublicKey {
	if m == nil {
		return nil
	}
	return m.frontDoor
}

// serial is the member's domain's serial (0 outside a domain): lanes left
// by an earlier domain at its address are not admitted against.
func (m *domainMember) serial(ctx context.Context, client *rpc.Client, commitment rpc.CommitmentType) (uint64, error) {
	if m == nil {
		return 0, nil
	}
	acc, err := client.GetAccountInfoWithOpts(ctx, m.domain, &rpc.GetAccountInfoOpts{Commitment: commitment})
	if err != nil || acc.Value == nil || !acc.Value.Owner.Equals(im.ProgramID) {
		return 0, fmt.Errorf("domain %s: no such domain account (mt domain show): %v", m.domain, err)
	}
	d, err := im.ParseAccount_Domain(acc.Value.Data.GetBinary())
	if err != nil {
		return 0, fmt.Errorf("domain %s: not a domain account: %w", m.domain, err)
	}
	return d.Serial, nil
}

// settleLane is the domain lane a member's settler settles against: the
// domain and where its fee goes (nil for a keeper in no domain).
func (m *domainMember) settleLane(ctx context.Context, client *rpc.Client, commitment rpc.CommitmentType, feeAccount string) (*settlement.DomainLane, error) {
	if m == nil {
		return nil, nil
	}
	if feeAccount != "" {
		a, err := solana.PublicKeyFromBase58(feeAccount)
		if err != nil {
			return nil, fmt.Errorf("config: [domain] fee_account %q: %w", feeAccount, err)
		}
		return &settlement.DomainLane{Domain: m.domain, OperatorAccount: a}, nil
	}
	res, err := client.GetMultipleAccountsWithOpts(ctx, []solana.PublicKey{m.domain, pda.Meter()}, &rpc.GetMultipleAccountsOpts{Commitment: commitment, Encoding: solana.EncodingBase64})
	if err != nil {
		return nil, fmt.Errorf("read domain %s: %w", m.domain, err)
	}
	if len(res.Value) != 2 || res.Value[0] == nil || res.Value[1] == nil {
		return nil, fmt.Errorf("domain %s or the meter does not exist", m.domain)
	}
	d, err := im.ParseAccount_Domain(res.Value[0].Data.GetBinary())
	if err != nil {
		return nil, fmt.Errorf("domain %s: %w", m.domain, err)
	}
	meter, err := im.ParseAccount_MeterConfig(res.Value[1].Data.GetBinary())
	if err != nil {
		return nil, fmt.Errorf("meter: %w", err)
	}
	return &settlement.DomainLane{Domain: m.domain, OperatorAccount: tokens.ATA(d.Operator, meter.NativeMint, meter.NativeTokenProgram)}, nil
}

// FrontDoor is a keeper running as its domain's front door.
type FrontDoor struct {
	cfg     keeperconfig.Config
	log     *slog.Logger
	fd      *frontdoor.FrontDoor
	runners []func(context.Context) error
	mu      sync.Mutex
	ln      net.Listener
}

// NewFrontDoor builds the front door of cfg.Domain.Address: admission over
// the escrows' lanes to the domain, members and lanes from the chain.
func NewFrontDoor(cfg keeperconfig.Config, log *slog.Logger) (*FrontDoor, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	switch {
	case cfg.Keypair == "":
		return nil, errors.New("config: keypair is required (the front door signs the passes its members check)")
	case len(cfg.Models) == 0:
		return nil, errors.New("config: at least one [[model]] is required (public name -> mt_treasury model id)")
	case cfg.RPCURL == "":
		return nil, errors.New("config: a front door needs rpc_url (members and lanes are on chain)")
	}
	domain, err := solana.PublicKeyFromBase58(cfg.Domain.Address)
	if err != nil {
		return nil, fmt.Errorf("--domain %q: want the domain account (mt domain show): %w", cfg.Domain.Address, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key, err := keeperconfig.LoadKey(cfg.Keypair)
	if err != nil {
		return nil, err
	}
	url, err := cluster.ResolveURL(cfg.RPCURL)
	if err != nil {
		return nil, err
	}
	commitment, err := cluster.ParseCommitment(cfg.Commitment)
	if err != nil {
		return nil, err
	}
	client := rpc.New(url)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	acc, err := client.GetAccountInfoWithOpts(ctx, domain, &rpc.GetAccountInfoOpts{Commitment: commitment})
	if err != nil || acc.Value == nil || !acc.Value.Owner.Equals(im.ProgramID) {
		return nil, fmt.Errorf("domain %s: no such domain account on %s (mt domain show): %v", domain, url, err)
	}
	dom, err := im.ParseAccount_Domain(acc.Value.Data.GetBinary())
	if err != nil {
		return nil, fmt.Errorf("domain %s: not a domain account: %w", domain, err)
	}
	clock := chainclock.New(chainclock.Config{RPC: client, Commitment: commitment, Logger: log.With("component", "chainclock")})
	if _, err := clock.Read(ctx); err != nil {
		return nil, fmt.Errorf("read the chain's clock from %s: %w", url, err)
	}
	var models []gateway.ModelConfig
	var ids []uint64
	for _, m := range cfg.Models {
		models = append(models, gateway.ModelConfig{Name: m.Name, ID: m.ID})
		ids = append(ids, m.ID)
	}
	// Escrows are read as the domain sees them: the lane is the domain's.
	cc := chaincache.Config{RPC: client, Commitment: commitment, Node: domain, DomainSerial: dom.Serial, Clock: clock, Logger: log.With("component", "chain")}
	escrows := chaincache.NewEscrows(cc)
	cc.Refresh = cfg.Chain.PriceRefresh.Duration
	prices := chaincache.NewPrices(cc, ids)
	if err := prices.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("read model prices from %s: %w", url, err)
	}
	g := cfg.Gateway
	adm, err := gateway.NewAdmitter(gateway.Config{Models: models, Escrows: escrows, Prices: prices, Clock: clock, Domain: domain,
		Logger: log.With("component", "admission"), MaxBodyBytes: g.MaxBodyBytes, DefaultMaxTokens: g.DefaultMaxTokens,
		MaxTokensLimit: g.MaxTokensLimit, MaxN: g.MaxN, PromptMarginPct: g.PromptMarginPct, RateLimit: g.RateLimit, RateBurst: g.RateBurst})
	if err != nil {
		return nil, err
	}
	router := frontdoor.NewRouter(frontdoor.RouterConfig{Source: frontdoor.ChainMembers{RPC: client, Domain: domain, Commitment: commitment},
		Refresh: cfg.Domain.MemberRefresh.Duration, Logger: log.With("component", "members")})
	if err := router.Refresh(ctx); err != nil {
		log.Warn("members not listed yet", "err", err)
	}
	ledger := frontdoor.NewLedger(frontdoor.LedgerConfig{Chain: frontdoor.ChainLanes{RPC: client, Domain: domain, Serial: dom.Serial, Commitment: commitment},
		Marks: router.Marks(), Nodes: router.Nodes, UnknownHold: cfg.Domain.UnknownHold.Duration,
		StartBarrier: cfg.Domain.StartBarrier == nil || *cfg.Domain.StartBarrier})
	fd, err := frontdoor.New(frontdoor.Config{Admitter: adm, Router: router, Ledger: ledger, Key: key, MaxResponseBytes: g.MaxResponseBytes,
		WriteTimeout: g.WriteTimeout.Duration, Registry: prometheus.NewRegistry(), Logger: log.With("component", "frontdoor")})
	if err != nil {
		return nil, err
	}
	laneEvery := cfg.Domain.LaneRefresh.Duration
	if laneEvery <= 0 {
		laneEvery = time.Second
	}
	f := &FrontDoor{cfg: cfg, log: log, fd: fd}
	f.runners = append(f.runners, escrows.Run, prices.Run, clock.Run, router.Run, func(ctx context.Context) error {
		return ledger.Run(ctx, laneEvery, func(err error) { log.Warn("domain lane refresh failed", "err", err) })
	})
	log.Info("front door ready", "domain", domain, "members", len(router.Nodes()), "healthy", router.Healthy(),
		"pass_key", solana.PublicKeyFromBytes(key.Public().(ed25519.PublicKey)))
	return f, nil
}

// Listen binds the API listener (Run does it if not done).
func (f *FrontDoor) Listen() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln == nil {
		ln, err := net.Listen("tcp", f.cfg.Listen)
		if err != nil {
			return "", fmt.Errorf("listen %s: %w", f.cfg.Listen, err)
		}
		f.ln = ln
	}
	return f.ln.Addr().String(), nil
}

// Run serves until ctx ends.
func (f *FrontDoor) Run(ctx context.Context) error {
	addr, err := f.Listen()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range f.runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = r(ctx)
		}()
	}
	srv := &http.Server{Handler: f.fd.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() {
		if err := srv.Serve(f.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	f.log.Info("front door serving", "api", addr, "domain", f.cfg.Domain.Address)
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	grace := f.cfg.Gateway.ShutdownGrace.Duration
	if grace <= 0 {
		grace = 30 * time.Second
	}
	sctx, scancel := context.WithTimeout(context.Background(), grace)
	defer scancel()
	_ = srv.Shutdown(sctx)
	cancel()
	wg.Wait()
	return runErr
}
