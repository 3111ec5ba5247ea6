package actions

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/accounts"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	chainrules "github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// token is a mint as the actions name and format it.
type token struct {
	Mint     solana.PublicKey
	Program  solana.PublicKey
	Decimals uint8
	// Symbol names amounts: "12.5 TLC"; a plural noun when the mint has no symbol.
	Symbol string
}

// Format renders base units for people, with the symbol: "12,500.5 TLC".
func (t token) Format(v uint64) string { return grouped(amount.Format(v, t.Decimals)) + " " + t.Symbol }

// grouped puts thousands separators in a decimal's whole part: "1234567.5" → "1,234,567.5".
func grouped(dec string) string {
	whole, frac, hasFrac := strings.Cut(dec, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}

// Parse reads an amount typed by the user. A wrong amount is a 400 that
// says how to type it.
func (t token) Parse(param, s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, badRequest("Enter the %s (in %s).", param, t.Symbol)
	}
	v, err := amount.Parse(s, t.Decimals)
	switch {
	case errors.Is(err, amount.ErrNegative):
		return 0, badRequest("The %s cannot be negative.", param)
	case errors.Is(err, amount.ErrTooPrecise):
		return 0, badRequest("The %s %q has too many decimal places: %s has at most %d decimal places.", param, s, t.Symbol, t.Decimals)
	case errors.Is(err, amount.ErrOverflow):
		return 0, badRequest("The %s %q is too large.", param, s)
	case errors.Is(err, amount.ErrExponent):
		return 0, badRequest("Write the %s out in digits (like 12.5), not as %q.", param, s)
	case err != nil:
		return 0, badRequest("The %s %q is not a number; enter it like 12.5.", param, s)
	}
	if v == 0 {
		return 0, badRequest("The %s must be greater than zero.", param)
	}
	return v, nil
}

// number is v as a JSON number for a parameter's min/max (a hint for the
// client's form; the server checks the exact value).
func (t token) number(v uint64) *float64 {
	f, err := strconv.ParseFloat(amount.Format(v, t.Decimals), 64)
	if err != nil {
		return nil
	}
	return &f
}

// pattern accepts what Parse accepts for this token's decimals, for the client's form.
func (t token) pattern() (string, string) {
	if t.Decimals == 0 {
		return `^[0-9]+$`, "a whole number"
	}
	return fmt.Sprintf(`^[0-9]+(\.[0-9]{1,%d})?$`, t.Decimals), fmt.Sprintf("a number with at most %d decimal places", t.Decimals)
}

// modelState is one model and what describing it needs, read at one moment.
type modelState struct {
	ID       uint64
	Addr     solana.PublicKey
	Model    *mt.Model
	Protocol *mt.Protocol
	Native   token
	MT       token
	// Name is the MT's on-mint name ("Tiny Llama Commons"); "Model N" before the MT exists.
	Name string
	// Now is the chain's clock, which deadlines are checked against.
	Now int64
}

// Title names the model: "Tiny Llama Commons (TLC)".
func (m *modelState) Title() string {
	if m.MT.Symbol == "MT" {
		return m.Name
	}
	return fmt.Sprintf("%s (%s)", m.Name, m.MT.Symbol)
}

// loadModel reads model id with the protocol, both tokens and the clock.
func (s *Server) loadModel(ctx context.Context, idText string) (*modelState, error) {
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil {
		return nil, notFound("There is no model %q: model ids are whole numbers.", idText)
	}
	ms := &modelState{ID: id, Addr: pda.Model(id)}
	ms.Model, err = s.reader.Model(ctx, id)
	if errors.Is(err, accounts.ErrMissing) {
		return nil, notFound("There is no model %d on this cluster.", id)
	}
	if err != nil {
		return nil, s.readFailure(err)
	}
	ms.Protocol, err = s.reader.Protocol(ctx)
	if err != nil {
		return nil, s.readFailure(err)
	}
	if ms.Native, err = s.nativeToken(ctx, ms.Protocol); err != nil {
		return nil, err
	}
	ms.MT = token{Mint: ms.Model.MtMint, Program: solana.Token2022ProgramID, Decimals: chainrules.MTDecimals, Symbol: "MT"}
	ms.Name = fmt.Sprintf("Model %d", id)
	if !ms.Model.MtMint.IsZero() {
		md, ok, err := s.reader.Metadata(ctx, ms.Model.MtMint)
		if err != nil {
			return nil, s.readFailure(err)
		}
		if ok {
			ms.Name = printable(md.Name, ms.Name, 32)
			ms.MT.Symbol = printable(md.Symbol, "MT", 10)
		}
	}
	if ms.Now, err = s.now(ctx); err != nil {
		return nil, err
	}
	return ms, nil
}

// readFailure classifies an error reading an account: an account that is
// not what it should be (a program version mismatch) is the server's
// problem (500); anything else is the cluster's (502).
func (s *Server) readFailure(err error) error {
	if errors.Is(err, accounts.ErrMissing) {
		return conflict("The Model Commons protocol is not set up on this cluster.")
	}
	var p *explain.Problem
	if errors.As(err, &p) {
		return versionMismatch(err)
	}
	return unavailable(err)
}

// nativeToken describes the protocol's native mint (cached: mints do not change).
func (s *Server) nativeToken(ctx context.Context, p *mt.Protocol) (token, error) {
	s.mu.Lock()
	t, ok := s.natives[p.NativeMint]
	s.mu.Unlock()
	if ok {
		return t, nil
	}
	mint, err := tokens.GetMint(ctx, s.cfg.RPC, p.NativeMint)
	if err != nil {
		return token{}, unavailable(fmt.Errorf("read the native mint: %w", err))
	}
	t = token{Mint: p.NativeMint, Program: p.NativeTokenProgram, Decimals: mint.Decimals, Symbol: s.cfg.NativeSymbol}
	if t.Symbol == "" {
		t.Symbol = "native tokens"
		if md, ok, err := s.reader.Metadata(ctx, p.NativeMint); err == nil && ok {
			t.Symbol = printable(md.Symbol, t.Symbol, 10)
		}
	}
	s.mu.Lock()
	s.natives[p.NativeMint] = t
	s.mu.Unlock()
	return t, nil
}

// printable keeps on-chain text that is safe to show and at most max bytes, else fallback.
func printable(s, fallback string, max int) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return fallback
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fallback
		}
	}
	return s
}

// now is the chain's clock (the Clock sysvar's unix timestamp).
func (s *Server) now(ctx context.Context) (int64, error) {
	res, err := s.cfg.RPC.GetAccountInfoWithOpts(ctx, solana.SysVarClockPubkey, &rpc.GetAccountInfoOpts{Commitment: s.cfg.Commitment})
	if err != nil {
		return 0, unavailable(fmt.Errorf("read the chain's clock: %w", err))
	}
	data := res.Value.Data.GetBinary()
	if len(data) < 40 {
		return 0, unavailable(errors.New("the chain's clock sysvar is malformed"))
	}
	return int64(binary.LittleEndian.Uint64(data[32:40])), nil
}

// tokenBalance is the amount in a token account, 0 when it does not exist.
func (s *Server) tokenBalance(ctx context.Context, addr solana.PublicKey) (uint64, error) {
	v, err := tokens.Balance(ctx, s.cfg.RPC, addr)
	if err != nil {
		return 0, unavailable(err)
	}
	return v, nil
}

// when renders a chain time for people: "2026-12-01 14:00 UTC (in 3h)".
func when(unix, now int64) string {
	t := time.Unix(unix, 0).UTC().Format("2006-01-02 15:04 UTC")
	d := time.Duration(unix-now) * time.Second
	switch {
	case d > 0:
		return fmt.Sprintf("%s (in %s)", t, span(d))
	case d < 0:
		return fmt.Sprintf("%s (%s ago)", t, span(-d))
	}
	return t + " (now)"
}

// secs is a number of seconds as a duration.
func secs(v int64) time.Duration { return time.Duration(v) * time.Second }

// span is a duration in its largest two units: "2d 3h", "45m", "10s".
func span(d time.Duration) string {
	secs := int64(d / time.Second)
	units := []struct {
		n    int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	var parts []string
	for _, u := range units {
		if secs >= u.n {
			parts = append(parts, fmt.Sprintf("%d%s", secs/u.n, u.name))
			secs %= u.n
		}
		if len(parts) == 2 {
			break
		}
	}
	if len(parts) == 0 {
		return "0s"
	}
	return strings.Join(parts, " ")
}

// percent renders basis points: 1250 → "12.5%".
func percent(bps uint64) string {
	return amount.Format(bps, 2) + "%"
}
