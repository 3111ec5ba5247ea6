package gateway

import (
	"container/list"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/keepers/workers"
)

// Rate is a pair of per-minute budgets; 0 leaves that budget unlimited.
type Rate struct {
	RPM int64 // requests per minute
	TPM int64 // tokens per minute (prompt estimate + max_tokens × n at admission, corrected to the usage charged)
}

func (r Rate) off() bool { return r.RPM <= 0 && r.TPM <= 0 }

// Limits are the per-API-key budgets (Config.Limits). All are off by
// default. The escrow's on-chain spend limit and lane stay authoritative:
// these only refuse more, never admit more.
type Limits struct {
	// Key is the budget of each API key (each escrow), over all models.
	Key Rate
	// Models is the budget of each (API key, model) pair, by model name.
	Models map[string]Rate
	// Escrows overrides Key for the named escrows.
	Escrows map[solana.PublicKey]Rate
	// MaxKeys bounds the keys tracked at once (default 100 000); beyond
	// it the least recently used key is forgotten (it starts again with a
	// full budget).
	MaxKeys int
}

func (l Limits) enabled() bool {
	if !l.Key.off() {
		return true
	}
	for _, r := range l.Models {
		if !r.off() {
			return true
		}
	}
	for _, r := range l.Escrows {
		if !r.off() {
			return true
		}
	}
	return false
}

const limitShards = 64

// limiter holds a token bucket per budget of every active key, in shards
// by escrow address so that requests of different keys rarely share a
// lock. All of one key's buckets (its own and its per-model ones) live in
// one entry under one shard lock, so a request is checked against all of
// them and charged to all or none at once.
type limiter struct {
	cfg      Limits
	perShard int
	now      func() time.Time
	shards   [limitShards]limitShard
}

type limitShard struct {
	mu   sync.Mutex
	keys map[solana.PublicKey]*list.Element // of *keyBuckets
	lru  list.List                          // front: most recently used
}

type keyBuckets struct {
	escrow   solana.PublicKey
	rpm, tpm bucket
	models   map[string]*[2]bucket // rpm, tpm per model
}

// bucket is a token bucket of capacity per (one minute's budget) that
// refills continuously at per/60 a second. level may go negative when a
// run used more than it reserved: later requests wait for the debt.
type bucket struct {
	per   float64 // 0: unlimited
	level float64
	at    time.Time
}

func newBucket(per int64, now time.Time) bucket {
	return bucket{per: float64(max(per, 0)), level: float64(max(per, 0)), at: now}
}

func (b *bucket) refill(now time.Time) {
	if b.per == 0 {
		return
	}
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.level = math.Min(b.per, b.level+d*b.per/60)
	}
	b.at = now
}

// wait is how long until n can be taken (0: now; +Inf: never, n exceeds
// the whole budget).
func (b *bucket) wait(n float64) time.Duration {
	if b.per == 0 || n <= b.level {
		return 0
	}
	if n > b.per {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration((n - b.level) * 60 / b.per * float64(time.Second))
}

func (b *bucket) add(n float64) {
	if b.per != 0 {
		b.level = math.Min(b.per, b.level+n)
	}
}

func newLimiter(cfg Limits) *limiter {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100_000
	}
	l := &limiter{cfg: cfg, perShard: max(1, (cfg.MaxKeys+limitShards-1)/limitShards), now: time.Now}
	for i := range l.shards {
		l.shards[i].keys = map[solana.PublicKey]*list.Element{}
	}
	return l
}

// limitHit names the budget a request was refused by.
type limitHit struct {
	limit string // "rpm" or "tpm"
	scope string // "key" or "model"
	model string
	per   int64
	wait  time.Duration
	need  int64
}

func (h limitHit) never() bool { return h.wait == time.Duration(math.MaxInt64) }

// retryAfter is h.wait in whole seconds, at least 1.
func (h limitHit) retryAfter() int {
	return max(1, int(math.Ceil(h.wait.Seconds())))
}

func (h limitHit) message() string {
	what := "requests per minute"
	if h.limit == "tpm" {
		what = "tokens per minute"
	}
	scope := "this API key"
	if h.scope == "model" {
		scope = fmt.Sprintf("this API key on model '%s'", h.model)
	}
	if h.never() {
		return fmt.Sprintf("Rate limit of %d %s for %s: this request alone may use %d tokens (prompt estimate + max_tokens × n), more than the whole budget; lower max_tokens.",
			h.per, what, scope, h.need)
	}
	return fmt.Sprintf("Rate limit reached: %d %s for %s. Retry in %d s.", h.per, what, scope, h.retryAfter())
}

func (l *limiter) shard(escrow solana.PublicKey) *limitShard {
	return &l.shards[int(escrow[0]^escrow[31])%limitShards]
}

func (l *limiter) keyRate(escrow solana.PublicKey) Rate {
	if r, ok := l.cfg.Escrows[escrow]; ok {
		return r
	}
	return l.cfg.Key
}

// entry returns escrow's buckets, creating them (and forgetting the least
// recently used key of a full shard). s.mu is held.
func (l *limiter) entry(s *limitShard, escrow solana.PublicKey, now time.Time) *keyBuckets {
	if el, ok := s.keys[escrow]; ok {
		s.lru.MoveToFront(el)
		return el.Value.(*keyBuckets)
	}
	if len(s.keys) >= l.perShard {
		old := s.lru.Back()
		s.lru.Remove(old)
		delete(s.keys, old.Value.(*keyBuckets).escrow)
	}
	r := l.keyRate(escrow)
	kb := &keyBuckets{escrow: escrow, rpm: newBucket(r.RPM, now), tpm: newBucket(r.TPM, now)}
	s.keys[escrow] = s.lru.PushFront(kb)
	return kb
}

func (kb *keyBuckets) model(l *limiter, name string, now time.Time) *[2]bucket {
	r, ok := l.cfg.Models[name]
	if !ok || r.off() {
		return nil
	}
	if kb.models == nil {
		kb.models = map[string]*[2]bucket{}
	}
	b := kb.models[name]
	if b == nil {
		b = &[2]bucket{newBucket(r.RPM, now), newBucket(r.TPM, now)}
		kb.models[name] = b
	}
	return b
}

// limitTicket is an admitted request's hold on its budgets; done settles
// the tokens it reserved against those it was charged for.
type limitTicket struct {
	l       *limiter
	kb      *keyBuckets
	models  []*[2]bucket
	reserve int64
}

// admit checks a request for models that may use up to tokens against the
// key's budgets and, if every one has room, takes one request and tokens
// from each. Otherwise it takes nothing and returns the budget that makes
// the request wait longest.
func (l *limiter) admit(escrow solana.PublicKey, models []string, tokens int64) (*limitTicket, *limitHit) {
	now := l.now()
	s := l.shard(escrow)
	s.mu.Lock()
	defer s.mu.Unlock()
	kb := l.entry(s, escrow, now)
	var worst *limitHit
	check := func(b *bucket, n int64, limit, scope, model string) {
		b.refill(now)
		if w := b.wait(float64(n)); w > 0 && (worst == nil || w > worst.wait) {
			worst = &limitHit{limit: limit, scope: scope, model: model, per: int64(b.per), wait: w, need: n}
		}
	}
	check(&kb.rpm, 1, "rpm", "key", "")
	check(&kb.tpm, tokens, "tpm", "key", "")
	var mbs []*[2]bucket
	for _, m := range models {
		if mb := kb.model(l, m, now); mb != nil {
			check(&mb[0], 1, "rpm", "model", m)
			check(&mb[1], tokens, "tpm", "model", m)
			mbs = append(mbs, mb)
		}
	}
	if worst != nil {
		return nil, worst
	}
	kb.rpm.add(-1)
	kb.tpm.add(float64(-tokens))
	for _, mb := range mbs {
		mb[0].add(-1)
		mb[1].add(float64(-tokens))
	}
	return &limitTicket{l: l, kb: kb, models: mbs, reserve: tokens}, nil
}

// done returns the tokens reserved but not charged (all of them for a run
// that was not recorded), or takes the excess of a run that used more.
func (t *limitTicket) done(charged int64) {
	if t == nil {
		return
	}
	back := float64(t.reserve - charged)
	s := t.l.shard(t.kb.escrow)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := t.l.now()
	t.kb.tpm.refill(now)
	t.kb.tpm.add(back)
	for _, mb := range t.models {
		mb[1].refill(now)
		mb[1].add(back)
	}
}

// tracked is the number of keys held, for tests.
func (l *limiter) tracked() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.keys)
		s.mu.Unlock()
	}
	return n
}

// worstLimitTokens is what a request may use, as the token budgets count
// it: the prompt estimate plus max_tokens × n (for a mixture, every call's
// prompt and output).
func worstLimitTokens(req *genRequest, members int, ep workers.Endpoint) int {
	in, out := req.promptTokens, req.maxTokens*req.choices
	if ep == workers.Embeddings {
		out = 0
	}
	if members > 1 {
		p := members - 1
		in = (p+1)*req.promptTokens + p*req.maxTokens + mixOverheadTokens
		out = (p + 1) * req.maxTokens
	}
	return in + out
}
