// Package chainclock is the keeper's estimate of the chain's clock: the
// Clock sysvar's unix_timestamp, which inference_meter's settle compares
// serve times with (served before the node registered, served in the
// future) and which picks the price a run pays (QueryPricing before or
// from effective_at). Everything the keeper dates for the chain — a
// receipt's serve time, the price it quotes, the settler's and the cranks'
// judgement of what is due — uses this clock, never the host's wall clock,
// which on a real cluster drifts from the chain's by seconds and on the
// local chain is left behind by time travel.
//
// # Contract
//
// Now is the latest observation of the chain's clock plus the wall time
// elapsed since it was made (measured on the monotonic clock). Observations
// come from the Clock's own reads of the sysvar (Read; Run every
// Config.Refresh and right away at start) and from other parts of the
// keeper that read the sysvar anyway (Observe). Now never goes backwards:
// when an observation is behind the estimate (a chain clock running slower
// than the wall clock, an RPC node lagging), the estimate stands still
// until the chain catches up; apart from that it is never ahead of the
// latest observation by more than the wall time elapsed since. Because the
// sysvar counts whole seconds and is read after the fact, Now usually
// trails the chain by up to about a second, so a run dated by it can be
// settled at once (never ServedInFuture unless the chain's clock is slower
// than the wall clock).
//
// Not guaranteed: a jump of the chain's clock (time travel on a local
// chain) is seen only at the next observation; before the first one Now is
// the wall clock (Status reports Synced false).
package chainclock

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/keepers/poll"
)

// SysvarAddress is the Clock sysvar (SysvarC1ock11111111111111111111111111111111).
var SysvarAddress = solana.SysVarClockPubkey

// sysvarLen is the Clock sysvar's size: slot, epoch_start_timestamp,
// epoch, leader_schedule_epoch, unix_timestamp (8 bytes each).
const sysvarLen = 40

// ErrBadSysvar: the account read is not a Clock sysvar.
var ErrBadSysvar = errors.New("clock sysvar missing or too short")

// ParseSysvar reads the slot and unix_timestamp (i64 LE at byte 32) of
// the Clock sysvar's data.
func ParseSysvar(data []byte) (slot uint64, unix int64, err error) {
	if len(data) < sysvarLen {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrBadSysvar, len(data))
	}
	return binary.LittleEndian.Uint64(data[0:8]), int64(binary.LittleEndian.Uint64(data[32:40])), nil
}

// AccountReader is the one RPC method the Clock uses (*rpc.Client
// implements it).
type AccountReader interface {
	GetAccountInfoWithOpts(ctx context.Context, account solana.PublicKey, opts *rpc.GetAccountInfoOpts) (*rpc.GetAccountInfoResult, error)
}

// Config configures a Clock.
type Config struct {
	// RPC reads the sysvar (nil: the Clock only learns from Observe).
	RPC        AccountReader
	Commitment rpc.CommitmentType // default confirmed
	// Refresh is how often Run reads the sysvar when nothing else has
	// observed it meanwhile (default 1s).
	Refresh time.Duration
	// Timeout bounds one read (default 10s).
	Timeout time.Duration
	// Wall is the host's clock (default time.Now; readings must carry the
	// monotonic clock for elapsed times to ignore wall-clock steps).
	Wall func() time.Time
	// JumpLog: an observation that moves the chain's clock against the
	// estimate by more than this is logged (default 5s).
	JumpLog time.Duration
	Logger  *slog.Logger
}

// Clock is the estimate. It is safe for concurrent use.
type Clock struct {
	cfg Config

	mu       sync.Mutex
	synced   bool
	obsChain time.Time // the chain's time at the latest observation
	obsWall  time.Time // when the latest observation was made
	last     time.Time // the latest estimate returned: Now never goes below it
	readErrs int       // consecutive failed reads (for logging)
}

// New returns a Clock; call Read (or Observe) before relying on Now, and
// Run to keep it current.
func New(cfg Config) *Clock {
	if cfg.Commitment == "" {
		cfg.Commitment = rpc.CommitmentConfirmed
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Wall == nil {
		cfg.Wall = time.Now
	}
	if cfg.JumpLog <= 0 {
		cfg.JumpLog = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Clock{cfg: cfg}
}

// Now is the chain's time as the keeper estimates it (see the package
// documentation).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked(c.cfg.Wall())
}

func (c *Clock) nowLocked(wall time.Time) time.Time {
	e := wall
	if c.synced {
		e = c.obsChain.Add(wall.Sub(c.obsWall))
	}
	if e.Before(c.last) {
		e = c.last
	}
	c.last = e
	return e
}

// Observe records that the chain's clock (the sysvar's unix_timestamp)
// read unix just now. Parts of the keeper that read the sysvar with other
// accounts report it here.
func (c *Clock) Observe(unix int64) {
	wall := c.cfg.Wall()
	chain := time.Unix(unix, 0)
	c.mu.Lock()
	was, first := c.nowLocked(wall), !c.synced
	c.synced, c.obsChain, c.obsWall = true, chain, wall
	c.mu.Unlock()
	switch d := chain.Sub(was); {
	case first:
		c.cfg.Logger.Info("chain clock", "chain_time", chain.UTC(), "offset_from_wall", chain.Sub(wall).Round(time.Millisecond))
	case d > c.cfg.JumpLog:
		c.cfg.Logger.Info("chain clock jumped ahead", "by", d.Round(time.Millisecond), "chain_time", chain.UTC())
	case d < -c.cfg.JumpLog:
		c.cfg.Logger.Warn("chain clock behind the keeper's estimate; the estimate holds until the chain catches up",
			"by", (-d).Round(time.Millisecond), "chain_time", chain.UTC())
	}
}

// Read reads the sysvar now, observes it and returns the chain's unix
// time. The cranks judge deadlines with it.
func (c *Clock) Read(ctx context.Context) (int64, error) {
	if c.cfg.RPC == nil {
		return 0, errors.New("chain clock: no RPC to read the clock sysvar with")
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	res, err := c.cfg.RPC.GetAccountInfoWithOpts(ctx, SysvarAddress, &rpc.GetAccountInfoOpts{Commitment: c.cfg.Commitment, Encoding: solana.EncodingBase64})
	if err != nil {
		return 0, fmt.Errorf("read clock sysvar: %w", err)
	}
	if res == nil || res.Value == nil || res.Value.Data == nil {
		return 0, fmt.Errorf("read clock sysvar: %w", ErrBadSysvar)
	}
	_, unix, err := ParseSysvar(res.Value.Data.GetBinary())
	if err != nil {
		return 0, fmt.Errorf("read clock sysvar: %w", err)
	}
	c.Observe(unix)
	return unix, nil
}

// Run reads the sysvar every Config.Refresh, skipping a read when another
// observation arrived within the interval, until ctx ends. Failures are
// logged (the first, then every 60th) and retried at the next tick; the
// estimate keeps running on the wall clock meanwhile.
func (c *Clock) Run(ctx context.Context) error {
	return poll.Every(ctx, c.cfg.Refresh, c.tick, nil)
}

// tick is one of Run's reads, with its failures counted for the log.
func (c *Clock) tick(ctx context.Context) error {
	c.mu.Lock()
	recent := c.synced && c.cfg.Wall().Sub(c.obsWall) < c.cfg.Refresh/2
	c.mu.Unlock()
	if recent {
		return nil
	}
	_, err := c.Read(ctx)
	if ctx.Err() != nil {
		return nil
	}
	c.mu.Lock()
	n := c.readErrs
	if err != nil {
		c.readErrs++
	} else {
		c.readErrs = 0
	}
	c.mu.Unlock()
	switch {
	case err != nil && n%60 == 0:
		c.cfg.Logger.Warn("chain clock read failed; estimating from the last observation", "err", err, "failures", n+1)
	case err == nil && n > 0:
		c.cfg.Logger.Info("chain clock read again", "after_failures", n)
	}
	return nil
}

// Status is the Clock's state, for the operator.
type Status struct {
	// Synced is false until the chain's clock was observed once.
	Synced bool `json:"synced"`
	// Now is the estimate; Observed the chain's time at the latest
	// observation and ObservedAt (wall clock) when it was made.
	Now        time.Time `json:"now"`
	Observed   time.Time `json:"observed,omitzero"`
	ObservedAt time.Time `json:"observed_at,omitzero"`
	// OffsetSeconds is the chain's clock minus the wall clock.
	OffsetSeconds float64 `json:"offset_seconds"`
}

// Status reports the estimate and its latest observation.
func (c *Clock) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := c.cfg.Wall()
	now := c.nowLocked(wall)
	s := Status{Synced: c.synced, Now: now.UTC()}
	if c.synced {
		s.Observed, s.ObservedAt = c.obsChain.UTC(), c.obsWall.UTC().Round(time.Millisecond)
		s.OffsetSeconds = now.Sub(wall).Seconds()
	}
	return s
}
