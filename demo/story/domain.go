package story

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/tokens"
	"github.com/modelcommons/modelcommons/demo/driver"
	"github.com/modelcommons/modelcommons/demo/moneytrail"
)

// DomainStep is the domain step: who runs what, the queries through the
// front door, and the money trail of the member's batches.
type DomainStep struct {
	Domain         string            `json:"domain"`
	Operator       string            `json:"operator"`
	FeeBps         uint16            `json:"fee_bps"`
	Member         string            `json:"member_node"`
	FrontDoor      string            `json:"front_door"`
	Escrow         string            `json:"escrow"`
	Requests       []driver.Result   `json:"requests"`
	Trail          *moneytrail.Trail `json:"settlement"`
	ReceiptsProven int               `json:"receipts_proven"`
}

// domainView is the part of `mt domain` output the story reads.
type domainView struct {
	Address string `json:"address"`
	Name    string `json:"name"`
	FeeBps  uint16 `json:"fee_bps"`
	Members uint32 `json:"members"`
}

const (
	domainName   = "demo-domain"
	domainFeeBps = "2000"
)

// models are the keeper's [[model]] table: the two demo models.
func (t *teller) models() []driver.KeeperModel {
	return []driver.KeeperModel{{Name: chatName, ID: t.chat.ID}, {Name: codeName, ID: t.code.ID}}
}

// domain tells the domain step: an operator creates a domain; a second
// node operator registers a node, asks to join and is admitted; its keeper
// runs as a member (serving only requests the front door signed) over the
// demo's GPU workers, and a front door keeper (`keeper run --domain`) routes
// to it. The user opens an escrow with a lane to the domain, sends queries
// through the front door with the official OpenAI client, the member
// settles against the domain lane, and the money trail checks the domain
// operator's fee with the protocol's, the node operator's and the models'
// shares to the base unit.
func (t *teller) domain() error {
	wallets := filepath.Join(t.dir, "wallets")
	var dop, member, memberKey, frontKey driver.Wallet
	var err error
	for _, w := range []struct {
		p    *driver.Wallet
		name string
	}{{&dop, "domain-operator"}, {&member, "member"}, {&memberKey, "member-keeper"}, {&frontKey, "front-door"}} {
		if *w.p, err = driver.NewWallet(wallets, w.name); err != nil {
			return fmt.Errorf("wallet %s: %w", w.name, err)
		}
		if err := t.chain.Airdrop(t.ctx, w.p.PublicKey(), solana.LAMPORTS_PER_SOL); err != nil {
			return err
		}
	}
	for _, w := range []driver.Wallet{dop, member} {
		if err := t.mtQuiet(nil, &t.admin, "protocol", "mint-native", w.Pub(), "200"); err != nil {
			return err
		}
	}
	t.n.ok("4 more wallets: domain-operator and member (200 native each), member-keeper (hot key), front-door (signs the passes members check)")

	var d domainView
	if err := t.mtRun(&d, &dop, "domain", "create", domainName, "--bond", "100", "--fee-bps", domainFeeBps, "--min-stake", "100", "--notice", "2h"); err != nil {
		return err
	}
	ref := dop.Pub() + "/" + domainName
	t.n.ok("domain %q at %s: bond 100 native, fee %d bps of its members' operator cut", d.Name, d.Address, d.FeeBps)
	addr, err := freePort()
	if err != nil {
		return err
	}
	var node nodeView
	if err := t.mtRun(&node, &member, "node", "register", "--keeper", memberKey.Pub(), "--endpoint", "http://"+addr+"/v1", "--stake", "100"); err != nil {
		return err
	}
	if err := t.mtRun(nil, &member, "domain", "join", ref); err != nil {
		return err
	}
	if err := t.mtRun(&d, &dop, "domain", "admit", domainName, member.Pub()); err != nil {
		return err
	}
	t.check("member admitted", d.Members == 1, "domain %q has %d admitted member(s): node %s", d.Name, d.Members, node.Address)
	step := &DomainStep{Domain: d.Address, Operator: dop.Pub(), FeeBps: d.FeeBps, Member: node.Address}
	t.sum.Domain = step

	mk, err := driver.StartKeeper(t.ctx, t.cfg.Bins, t.procs, driver.KeeperConfig{
		Name: "member-keeper", Dir: filepath.Join(t.dir, "member-keeper"), RPCURL: t.chain.URL, Keypair: memberKey.Path,
		Models: t.models(), Workers: t.workers, Listen: addr,
		Extra: fmt.Sprintf("[settle]\nnode = %q\ninterval = \"1s\"\n\n[domain]\naddress = %q\nfront_door = %q\n", node.Address, d.Address, frontKey.Pub()),
	})
	if err != nil {
		return err
	}
	t.n.command("keeper", []string{"run", "--config", mk.ConfigPath, "# [domain] address, front_door: serves only requests the front door signed"})
	t.n.ok("member keeper at %s/v1 over the demo's two GPU workers, settling against the domain's lanes", mk.API)
	fd, err := driver.StartFrontDoor(t.ctx, t.cfg.Bins, t.procs, driver.FrontDoorConfig{
		Dir: filepath.Join(t.dir, "frontdoor"), RPCURL: t.chain.URL, Keypair: frontKey.Path, Models: t.models(), Domain: d.Address,
	})
	if err != nil {
		return err
	}
	step.FrontDoor = fd.API
	t.n.command("keeper", []string{"run", "--config", fd.ConfigPath, "--domain", d.Address})
	t.n.ok("front door at %s/v1: authenticates against the escrow's lane to the domain, routes to admitted members; log %s", fd.API, fd.LogPath())

	keyFile := filepath.Join(wallets, "domain-user.key")
	_ = os.Remove(keyFile)
	var e escrowView
	if err := t.mtRun(&e, &t.user, "escrow", "open", "--deposit", "2", "--key-out", keyFile); err != nil {
		return err
	}
	key := e.APIKey
	if err := t.mtRun(&e, &t.user, "escrow", "allow", e.Address, "--domain", ref, "all"); err != nil {
		return err
	}
	step.Escrow = e.Address
	t.check("escrow lane to the domain", e.lane(d.Address) != nil && e.lane(d.Address).Balance.BaseUnits == 2_000_000,
		"escrow %s: 2 native in a lane to domain %s (any admitted member may settle against it)", e.Address, d.Address)

	accounts := t.accounts()
	memberOp := member.PublicKey()
	accounts.Node = pda.Node(memberOp)
	accounts.OperatorAccount = tokens.ATA(memberOp, solana.MustPublicKeyFromBase58(t.protocol.NativeMint), solana.TokenProgramID)
	accounts.Escrows = []solana.PublicKey{solana.MustPublicKeyFromBase58(e.Address)}
	domainKey := solana.MustPublicKeyFromBase58(d.Address)
	accounts.Domain = &moneytrail.DomainAccounts{Domain: domainKey,
		FeeAccount: tokens.ATA(dop.PublicKey(), solana.MustPublicKeyFromBase58(t.protocol.NativeMint), solana.TokenProgramID)}
	before, err := moneytrail.Take(t.ctx, t.chain.RPC, accounts)
	if err != nil {
		return err
	}
	reqs := []driver.Request{
		{Name: "domain chat", Model: chatName, MaxTokens: 32, Prompt: "Who runs this domain?"},
		{Name: "domain chat, streamed", Model: chatName, Stream: true, MaxTokens: 32, Prompt: "And who gets paid?"},
		{Name: "domain code", Model: codeName, MaxTokens: 24, Prompt: "A loop in Go."},
	}
	res, err := t.readyFrontDoor(fd, key, reqs)
	if err != nil {
		return err
	}
	step.Requests = res
	served := 0
	for _, r := range res {
		if r.OK {
			served++
		}
	}
	t.check("paid queries through the front door", served == len(res), "%d of %d answered by the member", served, len(res))
	if served == 0 {
		return errors.New("no request was answered through the front door")
	}
	rs, err := t.waitSettledAt(mk, key, served, 60*time.Second)
	if err != nil {
		return err
	}
	step.ReceiptsProven = t.proven
	t.check("every domain receipt settled and proven", matchRuns(res, rs) == served && t.proven == len(rs), "%d receipts from the member, %d proven on chain", len(rs), t.proven)
	trail, err := moneytrail.Audit(t.ctx, t.chain.RPC, accounts, before, rs)
	if err != nil {
		return err
	}
	step.Trail = trail
	t.printTrail(trail)
	if !trail.OK() {
		return fmt.Errorf("the domain's money trail does not add up: %v", trail.Failed())
	}
	return nil
}

// readyFrontDoor sends reqs through the front door once it is ready: it
// lists members from chain every 500 ms and is ready (GET /readyz) once one
// is healthy.
func (t *teller) readyFrontDoor(fd *driver.FrontDoor, key string, reqs []driver.Request) ([]driver.Result, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		req, err := http.NewRequestWithContext(t.ctx, http.MethodGet, fd.API+"/readyz", nil)
		if err != nil {
			return nil, err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the front door has no healthy member after 15s; log %s", fd.LogPath())
		}
		if err := sleep(t.ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	res, err := t.openai(fd.API, key, reqs)
	// A 503 means no member could take the request (all busy, or a worker
	// probe failed on this loaded host) and nothing was recorded: a client
	// retries it, as the OpenAI client does by default.
	for attempt := 0; attempt < 2 && err == nil; attempt++ {
		var again []driver.Request
		var at []int
		for i, r := range res {
			if !r.OK && r.Status == http.StatusServiceUnavailable {
				again, at = append(again, reqs[i]), append(at, i)
			}
		}
		if len(again) == 0 {
			break
		}
		t.n.say("%d request(s) answered 503 (nothing recorded); retrying", len(again))
		if err := sleep(t.ctx, time.Second); err != nil {
			return nil, err
		}
		var retried []driver.Result
		if retried, err = t.openai(fd.API, key, again); err == nil {
			for j, i := range at {
				res[i] = retried[j]
			}
		}
	}
	if err != nil {
		return nil, err
	}
	t.tell(res)
	return res, nil
}
