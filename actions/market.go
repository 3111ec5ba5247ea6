package actions

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	chainrules "github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// The market actions: buy and sell MT against the model's constant-product
// pool with a slippage bound, and open the pool once the raise succeeded
// (anyone may).

// Slippage bounds, in basis points.
const (
	defaultSlippageBps = 100   // 1%
	maxSlippageBps     = 5_000 // 50%
)

func (s *Server) marketEndpoints() map[string]endpoint {
	return map[string]endpoint{
		"buy":         {get: s.swapGet(mt.SwapSide_Buy), post: s.swapPost(mt.SwapSide_Buy), done: s.swapDone},
		"sell":        {get: s.swapGet(mt.SwapSide_Sell), post: s.swapPost(mt.SwapSide_Sell), done: s.swapDone},
		"open-market": {get: s.openMarketGet, post: s.openMarketPost, done: s.openMarketDone},
	}
}

// price is native base units per whole MT at the given reserves, as a token amount.
func price(m *modelState, reserveMT, reserveNative uint64) string {
	if reserveMT == 0 {
		return "–"
	}
	p := new(big.Int).Mul(new(big.Int).SetUint64(reserveNative), big.NewInt(1_000_000)) // MT has 6 decimals
	p.Quo(p, new(big.Int).SetUint64(reserveMT))
	if !p.IsUint64() {
		return "–"
	}
	return m.Native.Format(p.Uint64())
}

// parseSlippage reads a percentage ("0.5", "1", "2%"; default 1%) as basis points.
func parseSlippage(text string, given bool) (uint64, error) {
	text = strings.TrimSuffix(strings.TrimSpace(text), "%")
	if !given || text == "" {
		return defaultSlippageBps, nil
	}
	bps, err := amount.Parse(text, 2)
	if err != nil {
		return 0, badRequest("The slippage %q is not a percentage like 0.5 or 1 (at most 2 decimal places).", text)
	}
	if bps > maxSlippageBps {
		return 0, badRequest("The slippage %s%% is out of range: choose between 0 and %s.", amount.Format(bps, 2), percent(maxSlippageBps))
	}
	return bps, nil
}

// ---- buy and sell ----

func sideName(side mt.SwapSide) string {
	if side == mt.SwapSide_Buy {
		return "buy"
	}
	return "sell"
}

// swapTokens is (what the trader pays, what they receive).
func swapTokens(m *modelState, side mt.SwapSide) (token, token) {
	if side == mt.SwapSide_Buy {
		return m.Native, m.MT
	}
	return m.MT, m.Native
}

func (s *Server) swapLink(m *modelState, side mt.SwapSide) LinkedAction {
	pay, _ := swapTokens(m, side)
	pattern, desc := pay.pattern()
	label, what := "Buy "+m.MT.Symbol, fmt.Sprintf("%s to spend", m.Native.Symbol)
	if side == mt.SwapSide_Sell {
		label, what = "Sell "+m.MT.Symbol, fmt.Sprintf("%s to sell", m.MT.Symbol)
	}
	maxSlippage := float64(maxSlippageBps) / 100
	minSlippage := 0.0
	return LinkedAction{
		Type: linkTransaction, Label: label,
		Href: s.url(actionPath(m.ID, sideName(side)) + "?amount={amount}&slippage={slippage}"),
		Parameters: []Parameter{
			{Type: "number", Name: "amount", Label: what, Required: true, Pattern: pattern, PatternDescription: desc, Min: pay.number(1)},
			{Type: "number", Name: "slippage", Label: "Max slippage % (default 1)", Pattern: `^[0-9]{1,2}(\.[0-9]{1,2})?%?$`,
				PatternDescription: "a percentage from 0 to 50, like 0.5", Min: &minSlippage, Max: &maxSlippage},
		},
	}
}

// marketBlocked says why trading is not possible now ("" when it is).
func marketBlocked(m *modelState) string {
	if why := activeBlocked(m); why != "" {
		return why
	}
	if m.Protocol.Paused {
		return "The protocol is paused: trading is stopped for now."
	}
	if m.Model.Market.OpenedAt == 0 {
		return fmt.Sprintf("The market of %s is not open yet; anyone may open it (Open the market).", m.Title())
	}
	return ""
}

func (s *Server) marketSummary(m *modelState) string {
	mk := m.Model.Market
	if mk.OpenedAt == 0 {
		return fmt.Sprintf("The market of %s is not open yet.", m.Title())
	}
	return fmt.Sprintf("The pool holds %s and %s: 1 %s ≈ %s. A %s fee is charged on the %s side; part of it is the model's revenue.",
		m.MT.Format(mk.ReserveMt), m.Native.Format(mk.ReserveNative), m.MT.Symbol, price(m, mk.ReserveMt, mk.ReserveNative),
		percent(uint64(m.Protocol.SwapFeeBps)), m.Native.Symbol)
}

func (s *Server) swapGet(side mt.SwapSide) func(context.Context, *call) (*Action, error) {
	return func(_ context.Context, c *call) (*Action, error) {
		m := c.model
		link := s.swapLink(m, side)
		a := &Action{Icon: s.icon(m), Title: fmt.Sprintf("%s: %s %s", m.Title(), sideName(side), m.MT.Symbol), Label: link.Label,
			Description: s.marketSummary(m) + fmt.Sprintf(" Your order fails rather than fill below your slippage bound (default %s).", percent(defaultSlippageBps)),
			Links:       &ActionLinks{Actions: []LinkedAction{link}}}
		disable(a, marketBlocked(m))
		return a, nil
	}
}

func (s *Server) swapPost(side mt.SwapSide) func(context.Context, *call) (*plan, error) {
	return func(ctx context.Context, c *call) (*plan, error) {
		m, wallet := c.model, c.wallet
		if why := marketBlocked(m); why != "" {
			return nil, conflict("%s", why)
		}
		pay, receive := swapTokens(m, side)
		in, err := c.amount(pay)
		if err != nil {
			return nil, err
		}
		slipText, given := c.param("slippage")
		if given && strings.Trim(slipText, "{}") == "slippage" { // a client that left the optional placeholder unfilled
			given = false
		}
		slippage, err := parseSlippage(slipText, given)
		if err != nil {
			return nil, err
		}
		q, err := chainrules.QuoteSwap(chainrules.PoolOf(m.Model.Market, m.Model, m.Protocol), chainrules.SwapSideOf(side), in)
		if errors.Is(err, chainrules.ErrTooSmall) {
			return nil, badRequest("%s is too small to %s anything; offer more.", pay.Format(in), sideName(side))
		}
		if err != nil {
			return nil, badRequest("%s cannot be traded against this pool: %v.", pay.Format(in), err)
		}
		minOut := max(chainrules.MinOut(q.AmountOut, uint16(slippage)), 1)
		source := tokens.ATA(wallet, pay.Mint, pay.Program)
		held, err := s.tokenBalance(ctx, source)
		if err != nil {
			return nil, err
		}
		if held < in {
			return nil, conflict("This needs %s but your wallet holds %s.", pay.Format(in), pay.Format(held))
		}
		traderNative, traderMT := tokens.ATA(wallet, m.Native.Mint, m.Native.Program), tokens.ATA(wallet, m.MT.Mint, m.MT.Program)
		ix, err := ix.Swap(wallet, m.Addr, traderNative, traderMT, ix.NativeOf(m.Protocol), mt.SwapArgs{Side: side, AmountIn: in, MinOut: minOut})
		if err != nil {
			return nil, fmt.Errorf("build swap: %w", err)
		}
		verb := "Buy"
		if side == mt.SwapSide_Sell {
			verb = "Sell"
		}
		var msg string
		if side == mt.SwapSide_Buy {
			msg = fmt.Sprintf("%s about %s for %s (fee %s included)", verb, receive.Format(q.AmountOut), pay.Format(in), m.Native.Format(q.Fee))
		} else {
			msg = fmt.Sprintf("%s %s for about %s (after a fee of %s)", verb, pay.Format(in), receive.Format(q.AmountOut), m.Native.Format(q.Fee))
		}
		msg += fmt.Sprintf(": at least %s with your %s slippage bound. The price moves from %s to %s per %s.",
			receive.Format(minOut), percent(slippage),
			price(m, m.Model.Market.ReserveMt, m.Model.Market.ReserveNative), price(m, q.ReserveMt, q.ReserveNative), m.MT.Symbol)
		return &plan{
			Instructions: []solana.Instruction{tokens.CreateATAIdempotent(wallet, wallet, receive.Mint, receive.Program), ix},
			Message:      msg,
		}, nil
	}
}

func (s *Server) swapDone(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	mtHeld, err := s.tokenBalance(ctx, tokens.ATA(c.wallet, m.MT.Mint, m.MT.Program))
	if err != nil {
		return nil, err
	}
	nativeHeld, err := s.tokenBalance(ctx, tokens.ATA(c.wallet, m.Native.Mint, m.Native.Program))
	if err != nil {
		return nil, err
	}
	return &Action{Icon: s.icon(m), Title: m.Title() + ": trade done", Label: "Traded",
		Description: fmt.Sprintf("Your wallet now holds %s and %s. %s", m.MT.Format(mtHeld), m.Native.Format(nativeHeld), s.marketSummary(m))}, nil
}

// ---- open the market ----

func (s *Server) openMarketLink(m *modelState) LinkedAction {
	return LinkedAction{Type: linkTransaction, Label: "Open the market", Href: s.url(actionPath(m.ID, "open-market"))}
}

// openMarketBlocked says why the market cannot be opened now ("" when it can).
func (s *Server) openMarketBlocked(ctx context.Context, m *modelState) (string, error) {
	if why := activeBlocked(m); why != "" {
		return why, nil
	}
	if m.Model.Market.OpenedAt != 0 {
		return "The market is already open.", nil
	}
	if m.Protocol.Paused {
		return "The protocol is paused: the market opens once it resumes.", nil
	}
	if _, _, ok := chainrules.MarketSeed(m.Model); !ok {
		return fmt.Sprintf("%s was launched without a market (no liquidity to open one with).", m.Title()), nil
	}
	return "", nil
}

func (s *Server) openMarketGet(ctx context.Context, c *call) (*Action, error) {
	m := c.model
	vs := pda.Vaults(m.Addr)
	mtSide, err := s.tokenBalance(ctx, vs.Liquidity)
	if err != nil {
		return nil, err
	}
	nativeSide, err := s.tokenBalance(ctx, vs.LiquidityNative)
	if err != nil {
		return nil, err
	}
	a := &Action{Icon: s.icon(m), Title: m.Title() + ": open the market", Label: "Open the market",
		Description: fmt.Sprintf("Once the raise has succeeded anyone may open the model's market: a pool seeded with %s and %s (1 %s ≈ %s), locked forever.",
			m.MT.Format(mtSide), m.Native.Format(nativeSide), m.MT.Symbol, price(m, mtSide, nativeSide)),
		Links: &ActionLinks{Actions: []LinkedAction{s.openMarketLink(m)}}}
	why, err := s.openMarketBlocked(ctx, m)
	if err != nil {
		return nil, err
	}
	disable(a, why)
	return a, nil
}

func (s *Server) openMarketPost(ctx context.Context, c *call) (*plan, error) {
	m := c.model
	why, err := s.openMarketBlocked(ctx, m)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, conflict("%s", why)
	}
	ix, err := ix.OpenMarket(m.Addr)
	if err != nil {
		return nil, fmt.Errorf("build open_market: %w", err)
	}
	return &plan{Instructions: []solana.Instruction{ix},
		Message: fmt.Sprintf("Open the market of %s (you pay only the transaction fee).", m.Title())}, nil
}

func (s *Server) openMarketDone(_ context.Context, c *call) (*Action, error) {
	m := c.model
	return &Action{Icon: s.icon(m), Title: m.Title() + ": market open", Label: "Opened", Description: s.marketSummary(m)}, nil
}
