// Package cranks runs mt_treasury's permissionless upkeep from a keeper:
// it finalises raises (finalize_raise) and proposals (finalize_proposal)
// once they come due, decides bounty submissions whose reveal window is
// over (finalize_submission) and then settles their bounty (settle_bounty)
// and, if enabled, checkpoints voter records whose
// warm-up is over (checkpoint_voter) so their MT earns from the next
// revenue deposit.
//
// Work is discovered with getProgramAccounts: models by their account
// discriminator and stage byte (Funding), proposals and voter records by
// discriminator (their state fields sit behind variable-length data), then
// decoded and judged due against the chain's clock with the program's own
// rules. The clock is the Clock sysvar read afresh for each scan and each
// re-read (Config.Clock: the keeper's shared chain clock, which these reads
// also keep current), never the host's wall clock. Each due item waits a random delay up to Config.Jitter and is
// read again before it is cranked, so several keepers watching the same
// models rarely pay for the same crank: the first one's transaction makes
// the item not due for the others, and a late duplicate is refused in
// preflight (no fee) rather than landing.
//
// Guaranteed: a crank is only sent for an item the chain showed due a
// moment before; failures are counted and retried next round. Not
// guaranteed: that exactly one keeper pays (two may race within a slot),
// or that an item is cranked promptly while the RPC endpoint is down.
package cranks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/txsend"
	"github.com/modelcommons/modelcommons/keepers/chainclock"
)

// Kinds of crank (a metric label).
const (
	KindRaise      = "finalize_raise"
	KindProposal   = "finalize_proposal"
	KindCheckpoint = "checkpoint_voter"
	KindSubmission = "finalize_submission"
	KindBounty     = "settle_bounty"
)

// modelStageOffset is where Model.stage sits: discriminator, id, creator, mt_mint.
const modelStageOffset = 8 + 8 + 32 + 32

// Config configures a Cranker. Zero values pick the defaults noted.
type Config struct {
	RPC *rpc.Client
	// Commitment for reads (default confirmed).
	Commitment rpc.CommitmentType
	// Payer signs and pays for the cranks (the keeper hot key).
	Payer solana.PrivateKey
	// Interval between scans (default 30s).
	Interval time.Duration
	// Jitter is the most a due item waits before it is re-read and
	// cranked (default 20s; 0 is allowed only through NoJitter).
	Jitter   time.Duration
	NoJitter bool
	// Raises, Proposals and Bounties enable those cranks (all default on
	// unless any crank is set); CheckpointVoters enables voter checkpoints
	// (off by default: it pays a fee per voter for the voters' benefit).
	Raises, Proposals, Bounties, CheckpointVoters bool
	// Models, if set, limits voter checkpoints to these models (e.g. the
	// ones this keeper serves, whose revenue it deposits).
	Models []solana.PublicKey
	// MaxPerRound bounds the cranks sent per scan (default 20).
	MaxPerRound int
	// PriorityMicroLamports is the compute-unit price (default none).
	PriorityMicroLamports uint64
	// Clock reads the chain's clock for the due checks: the keeper's shared
	// keepers/chainclock.Clock (each read also updates its estimate).
	// Default: a clock of the cranker's own over RPC.
	Clock    ChainClock
	Registry prometheus.Registerer
	Logger   *slog.Logger
}

// ChainClock reads the chain's Clock sysvar now (keepers/chainclock.Clock).
type ChainClock interface {
	Read(ctx context.Context) (unix int64, err error)
}

// Cranker runs the cranks.
type Cranker struct {
	cfg    Config
	log    *slog.Logger
	rpc    *rpc.Client
	payer  solana.PublicKey
	sender *txsend.Sender
	done   *prometheus.CounterVec
	rng    *rand.Rand
}

// New returns a Cranker for cfg.
func New(cfg Config) (*Cranker, error) {
	if cfg.RPC == nil || len(cfg.Payer) != 64 {
		return nil, errors.New("cranks: RPC and Payer are required")
	}
	if cfg.Commitment == "" {
		cfg.Commitment = rpc.CommitmentConfirmed
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.Jitter <= 0 && !cfg.NoJitter {
		cfg.Jitter = 20 * time.Second
	}
	if cfg.NoJitter {
		cfg.Jitter = 0
	}
	if !cfg.Raises && !cfg.Proposals && !cfg.Bounties && !cfg.CheckpointVoters {
		cfg.Raises, cfg.Proposals, cfg.Bounties = true, true, true
	}
	if cfg.MaxPerRound <= 0 {
		cfg.MaxPerRound = 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = chainclock.New(chainclock.Config{RPC: cfg.RPC, Commitment: cfg.Commitment})
	}
	c := &Cranker{
		cfg: cfg, log: cfg.Logger, rpc: cfg.RPC, payer: cfg.Payer.PublicKey(),
		sender: txsend.New(txsend.Config{RPC: cfg.RPC, Commitment: cfg.Commitment, PriorityMicroLamports: cfg.PriorityMicroLamports,
			Errors: txsend.Tables{mt.ProgramID: mt.Errors}, Logger: cfg.Logger}),
		done: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keeper_cranks_total", Help: "Cranks by kind and outcome: sent (landed), taken (another caller did it first), failed.",
		}, []string{"kind", "outcome"}),
		rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(c.done)
	}
	return c, nil
}

// Run scans and cranks until ctx ends.
func (c *Cranker) Run(ctx context.Context) error {
	for {
		res, err := c.Round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			c.log.Warn("crank round failed; retrying next interval", "err", err)
		} else if res.Sent+res.Taken+res.Failed > 0 {
			c.log.Info("crank round", "due", res.Due, "sent", res.Sent, "taken", res.Taken, "failed", res.Failed)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(c.cfg.Interval):
		}
	}
}

// Result counts one round.
type Result struct {
	// Due items found; Sent cranks that landed; Taken items another caller
	// cranked first; Failed cranks that failed otherwise.
	Due, Sent, Taken, Failed int
	// Signatures of the cranks sent, by kind.
	Signatures map[string][]solana.Signature
}

// item is one due crank.
type item struct {
	kind    string
	address solana.PublicKey
	// still re-reads the account and reports whether it is still due.
	still func(ctx context.Context) (bool, error)
	build func() (solana.Instruction, error)
	delay time.Duration
}

// Round scans once and cranks what is due (after each item's jitter).
func (c *Cranker) Round(ctx context.Context) (Result, error) {
	res := Result{Signatures: map[string][]solana.Signature{}}
	now, err := c.clock(ctx)
	if err != nil {
		return res, err
	}
	var items []item
	if c.cfg.Raises {
		due, err := c.dueRaises(ctx, now)
		if err != nil {
			return res, err
		}
		items = append(items, due...)
	}
	if c.cfg.Proposals {
		due, err := c.dueProposals(ctx, now)
		if err != nil {
			return res, err
		}
		items = append(items, due...)
	}
	if c.cfg.Bounties {
		// Submissions first: without jitter a bounty whose last submission
		// is finalised in this round settles in the same round.
		due, err := c.dueBounties(ctx, now)
		if err != nil {
			return res, err
		}
		items = append(items, due...)
	}
	if c.cfg.CheckpointVoters {
		due, err := c.dueVoters(ctx, now)
		if err != nil {
			return res, err
		}
		items = append(items, due...)
	}
	res.Due = len(items)
	if len(items) > c.cfg.MaxPerRound {
		items = items[:c.cfg.MaxPerRound]
	}
	for i := range items {
		if c.cfg.Jitter > 0 {
			items[i].delay = time.Duration(c.rng.Int64N(int64(c.cfg.Jitter)))
		}
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].delay < items[b].delay })
	start := time.Now()
	for _, it := range items {
		if wait := it.delay - time.Since(start); wait > 0 {
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(wait):
			}
		}
		outcome, sig, err := c.crank(ctx, it)
		c.done.WithLabelValues(it.kind, outcome).Inc()
		switch outcome {
		case "sent":
			res.Sent++
			res.Signatures[it.kind] = append(res.Signatures[it.kind], sig)
			c.log.Info("cranked", "kind", it.kind, "account", it.address, "signature", sig)
		case "taken":
			res.Taken++
		default:
			res.Failed++
			c.log.Warn("crank failed", "kind", it.kind, "account", it.address, "err", err)
		}
	}
	return res, nil
}

// crank re-reads the item and, if it is still due, sends its instruction.
func (c *Cranker) crank(ctx context.Context, it item) (outcome string, sig solana.Signature, err error) {
	due, err := it.still(ctx)
	if err != nil {
		return "failed", sig, err
	}
	if !due {
		return "taken", sig, nil
	}
	ix, err := it.build()
	if err != nil {
		return "failed", sig, err
	}
	sig, err = c.sender.Send(ctx, txsend.Tx{Instructions: []solana.Instruction{ix}, Payer: c.payer, Signers: []solana.PrivateKey{c.cfg.Payer}})
	switch {
	case err == nil:
		return "sent", sig, nil
	case errors.Is(err, mt.ErrNotFunding), errors.Is(err, mt.ErrProposalNotVoting),
		errors.Is(err, mt.ErrSubmissionAlreadyFinalized), errors.Is(err, mt.ErrBountyAlreadySettled):
		return "taken", sig, nil // another caller got there first
	}
	return "failed", sig, err
}

// clock reads the chain's unix time now (a fresh read of the sysvar, not
// the estimate: a crank is sent only for what the chain itself showed due).
func (c *Cranker) clock(ctx context.Context) (int64, error) {
	return c.cfg.Clock.Read(ctx)
}

// scan lists the program's accounts matching the memcmp filters.
func (c *Cranker) scan(ctx context.Context, filters ...rpc.RPCFilter) (rpc.GetProgramAccountsResult, error) {
	out, err := c.rpc.GetProgramAccountsWithOpts(ctx, mt.ProgramID, &rpc.GetProgramAccountsOpts{
		Commitment: c.cfg.Commitment, Encoding: solana.EncodingBase64, Filters: filters,
	})
	if err != nil {
		return nil, fmt.Errorf("getProgramAccounts: %w", err)
	}
	return out, nil
}

func memcmp(offset uint64, b []byte) rpc.RPCFilter {
	return rpc.RPCFilter{Memcmp: &rpc.RPCFilterMemcmp{Offset: offset, Bytes: solana.Base58(b)}}
}

func (c *Cranker) read(ctx context.Context, addr solana.PublicKey) ([]byte, error) {
	res, err := c.rpc.GetAccountInfoWithOpts(ctx, addr, &rpc.GetAccountInfoOpts{Commitment: c.cfg.Commitment})
	if errors.Is(err, rpc.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return res.Value.Data.GetBinary(), nil
}

// raiseDue is rules.RaiseDue for a model; a model whose numbers the rule
// cannot compute (a zero price, raised past the cap) is not due.
func raiseDue(m *mt.Model, now int64) bool {
	due, err := rules.RaiseDue(m.Crowdfund, now, m.Supply.Crowdfund)
	return err == nil && due
}

func (c *Cranker) dueRaises(ctx context.Context, now int64) ([]item, error) {
	accounts, err := c.scan(ctx, memcmp(0, mt.Account_Model[:]), memcmp(modelStageOffset, []byte{byte(mt.Stage_Funding)}))
	if err != nil {
		return nil, err
	}
	var protocol *mt.Protocol
	var out []item
	for _, a := range accounts {
		m, err := mt.ParseAccount_Model(a.Account.Data.GetBinary())
		if err != nil || m.Stage != mt.Stage_Funding || !raiseDue(m, now) {
			continue
		}
		if protocol == nil {
			data, err := c.read(ctx, pda.Protocol())
			if err != nil || data == nil {
				return nil, fmt.Errorf("read protocol: %v", err)
			}
			if protocol, err = mt.ParseAccount_Protocol(data); err != nil {
				return nil, fmt.Errorf("protocol: %w", err)
			}
		}
		model, p := a.Pubkey, *protocol
		out = append(out, item{
			kind: KindRaise, address: model,
			still: func(ctx context.Context) (bool, error) {
				data, err := c.read(ctx, model)
				if err != nil || data == nil {
					return false, err
				}
				m, err := mt.ParseAccount_Model(data)
				if err != nil {
					return false, err
				}
				now, err := c.clock(ctx)
				return err == nil && m.Stage == mt.Stage_Funding && raiseDue(m, now), err
			},
			build: func() (solana.Instruction, error) {
				return ix.FinalizeRaise(model, ix.NativeOf(&p))
			},
		})
	}
	return out, nil
}

func (c *Cranker) dueProposals(ctx context.Context, now int64) ([]item, error) {
	accounts, err := c.scan(ctx, memcmp(0, mt.Account_Proposal[:]))
	if err != nil {
		return nil, err
	}
	var out []item
	for _, a := range accounts {
		p, err := mt.ParseAccount_Proposal(a.Account.Data.GetBinary())
		if err != nil || !rules.ProposalDue(p, now) {
			continue
		}
		addr, model := a.Pubkey, p.Model
		out = append(out, item{
			kind: KindProposal, address: addr,
			still: func(ctx context.Context) (bool, error) {
				data, err := c.read(ctx, addr)
				if err != nil || data == nil {
					return false, err
				}
				p, err := mt.ParseAccount_Proposal(data)
				if err != nil {
					return false, err
				}
				now, err := c.clock(ctx)
				return err == nil && rules.ProposalDue(p, now), err
			},
			build: func() (solana.Instruction, error) {
				return ix.FinalizeProposal(model, addr)
			},
		})
	}
	return out, nil
}

// VoterDue: the record holds warming MT whose warm-up is over.
func VoterDue(v *mt.Voter, now int64) bool { return v.Warming > 0 && now >= v.WarmAt }

func (c *Cranker) dueVoters(ctx context.Context, now int64) ([]item, error) {
	var accounts rpc.GetProgramAccountsResult
	if len(c.cfg.Models) == 0 {
		var err error
		if accounts, err = c.scan(ctx, memcmp(0, mt.Account_Voter[:])); err != nil {
			return nil, err
		}
	}
	for _, m := range c.cfg.Models {
		got, err := c.scan(ctx, memcmp(0, mt.Account_Voter[:]), memcmp(8, m[:]))
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, got...)
	}
	active := map[solana.PublicKey]bool{}
	var out []item
	for _, a := range accounts {
		v, err := mt.ParseAccount_Voter(a.Account.Data.GetBinary())
		if err != nil || !VoterDue(v, now) {
			continue
		}
		if _, seen := active[v.Model]; !seen {
			data, err := c.read(ctx, v.Model)
			if err != nil {
				return nil, err
			}
			m, perr := mt.ParseAccount_Model(data)
			active[v.Model] = perr == nil && m.Stage == mt.Stage_Active
		}
		if !active[v.Model] {
			continue
		}
		addr, model, owner := a.Pubkey, v.Model, v.Owner
		out = append(out, item{
			kind: KindCheckpoint, address: addr,
			still: func(ctx context.Context) (bool, error) {
				data, err := c.read(ctx, addr)
				if err != nil || data == nil {
					return false, err
				}
				v, err := mt.ParseAccount_Voter(data)
				if err != nil {
					return false, err
				}
				now, err := c.clock(ctx)
				return err == nil && VoterDue(v, now), err
			},
			build: func() (solana.Instruction, error) {
				return ix.CheckpointVoter(model, owner)
			},
		})
	}
	return out, nil
}
