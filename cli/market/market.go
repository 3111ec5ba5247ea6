// Package market is the `mt market` command group: the constant-product
// pool each active model gets (MT against native tokens, seeded from the
// raise and locked forever). `quote` prints what a swap would give using
// the program's own arithmetic; `buy` and `sell` swap with a slippage bound
// (--slippage-bps off the quote, or an explicit --min-out); `open` seeds the
// pool if nobody has yet (buy and sell do it on the way when needed).
package market

import (
	"context"
	"errors"
	"fmt"
	"math/bits"

	"github.com/gagliardetto/solana-go"
	"github.com/urfave/cli/v2"

	"github.com/modelcommons/modelcommons/cli/model"
	"github.com/modelcommons/modelcommons/cli/output"
	"github.com/modelcommons/modelcommons/cli/session"
	"github.com/modelcommons/modelcommons/clients/amount"
	"github.com/modelcommons/modelcommons/clients/explain"
	"github.com/modelcommons/modelcommons/clients/ix"
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
	"github.com/modelcommons/modelcommons/clients/rules"
	"github.com/modelcommons/modelcommons/clients/tokens"
)

// Command is `mt market`.
func Command() *cli.Command {
	return &cli.Command{
		Name:        "market",
		Usage:       "trade a model's MT against native tokens in its pool",
		Subcommands: []*cli.Command{quoteCommand(), buyCommand(), sellCommand(), openCommand()},
	}
}

// env is what every market command reads first: an active model.
type env struct{ *model.Env }

func load(c *cli.Context, names ...string) (*env, []string, error) {
	e, args, err := model.LoadEnv(c, names...)
	if err != nil {
		return nil, nil, err
	}
	if e.Model.Stage != mt.Stage_Active {
		return nil, nil, explain.Newf(fmt.Sprintf("see `mt model show %d`", e.ID), "model %d has no market: it is not active (%s)", e.ID, model.StageName(e.Model.Stage))
	}
	return &env{e}, args, nil
}

// QuoteView is a swap quote as the commands print it.
type QuoteView struct {
	Model         uint64        `json:"model"`
	Side          string        `json:"side"`
	Pay           amount.Tokens `json:"pay"`
	Receive       amount.Tokens `json:"receive"`
	MinReceive    amount.Tokens `json:"min_receive"`
	Fee           amount.Tokens `json:"fee"`
	ProtocolFee   amount.Tokens `json:"protocol_fee"`
	ModelFee      amount.Tokens `json:"model_fee"`
	PriceBefore   string        `json:"price_before"`
	PriceAfter    string        `json:"price_after"`
	ReserveMT     amount.Tokens `json:"reserve_mt"`
	ReserveNative amount.Tokens `json:"reserve_native"`
	// Set by buy and sell.
	Received  *amount.Tokens `json:"received,omitempty"`
	Signature string         `json:"signature,omitempty"`
}

// Text renders the quote.
func (q QuoteView) Text() string {
	payUnit, getUnit := "native tokens", "MT"
	if q.Side == "sell" {
		payUnit, getUnit = "MT", "native tokens"
	}
	fs := output.Fields{
		{Label: "Model", Value: q.Model},
		{Label: "You pay", Value: q.Pay.String() + " " + payUnit},
		{Label: "You receive", Value: fmt.Sprintf("%s %s (at least %s %s)", q.Receive, getUnit, q.MinReceive, getUnit)},
		{Label: "Fee", Value: fmt.Sprintf("%s (%s to the protocol, %s to the model's revenue)", q.Fee.Labeled("native tokens"), q.ProtocolFee.Labeled("native tokens"), q.ModelFee.Labeled("native tokens"))},
		{Label: "Price", Value: fmt.Sprintf("%s → %s native tokens per MT", q.PriceBefore, q.PriceAfter)},
	}
	if q.Received != nil {
		fs = append(fs, output.Field{Label: "Received", Value: q.Received.String() + " " + getUnit})
	}
	if q.Signature != "" {
		fs = append(fs, output.Field{Label: "Signature", Value: q.Signature})
	}
	return fs.Text()
}

// price is native per whole MT at the given reserves, to the native decimals.
func (e *env) price(reserveMT, reserveNative uint64) string {
	if reserveMT == 0 {
		return "-"
	}
	v, err := mulDivFloor(reserveNative, rules.MTUnit, reserveMT)
	if err != nil {
		return "-"
	}
	return amount.Format(v, e.NativeDecimals)
}

func mulDivFloor(a, b, c uint64) (uint64, error) {
	if c == 0 {
		return 0, rules.ErrOverflow
	}
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return 0, rules.ErrOverflow
	}
	quo, _ := bits.Div64(hi, lo, c)
	return quo, nil
}

// pool returns the market as it will be when the swap runs: if the pool is
// not open yet it is opened first, from the amounts the program recorded
// (rules.MarketSeed; tokens sent to the vaults are never reserves).
func (e *env) pool(_ context.Context) (mt.Market, bool, error) {
	if e.Model.Market.OpenedAt != 0 {
		return e.Model.Market, false, nil
	}
	mtSide, nativeSide, ok := rules.MarketSeed(e.Model)
	if !ok {
		return mt.Market{}, false, explain.Newf("the model was launched without a market (no MT liquidity allocation and no liquidity share of the raise)",
			"model %d's market has no liquidity (%s MT, %s native tokens recorded for it)", e.ID, model.MT(mtSide), amount.Format(nativeSide, e.NativeDecimals))
	}
	return mt.Market{OpenedAt: 1, ReserveMt: mtSide, ReserveNative: nativeSide}, true, nil
}

func (e *env) quote(ctx context.Context, side mt.SwapSide, in uint64, slippageBps uint16) (QuoteView, rules.Quote, bool, error) {
	pool, opening, err := e.pool(ctx)
	if err != nil {
		return QuoteView{}, rules.Quote{}, false, err
	}
	q, err := rules.QuoteSwap(rules.PoolOf(pool, e.Model, e.Protocol), rules.SwapSideOf(side), in)
	switch {
	case errors.Is(err, rules.ErrTooSmall):
		return QuoteView{}, rules.Quote{}, false, explain.New("the swap is too small: it would pay out nothing after the fee", "swap more")
	case errors.Is(err, rules.ErrZeroAmount):
		return QuoteView{}, rules.Quote{}, false, explain.New("the amount must be greater than zero", "give what to pay, e.g. 10")
	case err != nil:
		return QuoteView{}, rules.Quote{}, false, explain.Wrap(err, err.Error(), "swap a smaller amount")
	}
	n, m := e.Native, model.MT
	v := QuoteView{
		Model: e.ID, Side: "buy", Pay: n(q.AmountIn), Receive: m(q.AmountOut), MinReceive: m(rules.MinOut(q.AmountOut, slippageBps)),
		Fee: n(q.Fee), ProtocolFee: n(q.ProtocolFee), ModelFee: n(q.ModelFee),
		PriceBefore: e.price(pool.ReserveMt, pool.ReserveNative), PriceAfter: e.price(q.ReserveMt, q.ReserveNative),
		ReserveMT: m(q.ReserveMt), ReserveNative: n(q.ReserveNative),
	}
	if side == mt.SwapSide_Sell {
		v.Side, v.Pay, v.Receive, v.MinReceive = "sell", m(q.AmountIn), n(q.AmountOut), n(rules.MinOut(q.AmountOut, slippageBps))
	}
	return v, q, opening, nil
}

func sideFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Uint64Flag{Name: "slippage-bps", Value: 100, Usage: "accept at most this much less than the quote, in basis points"},
		&cli.StringFlag{Name: "min-out", Usage: "the fewest units to receive (overrides --slippage-bps)"},
	}
}

func quoteCommand() *cli.Command {
	return &cli.Command{
		Name:      "quote",
		Usage:     "what buying (pay native) or selling (pay MT) an amount would give now, fees included",
		ArgsUsage: "<model-id> <buy|sell> <amount>",
		Flags:     session.ReadFlags(&cli.Uint64Flag{Name: "slippage-bps", Value: 100, Usage: "for the minimum shown, in basis points"}),
		Action: func(c *cli.Context) error {
			e, args, err := load(c, "buy|sell", "amount")
			if err != nil {
				return err
			}
			var side mt.SwapSide
			decimals, unit := e.NativeDecimals, "native tokens"
			switch args[0] {
			case "buy":
				side = mt.SwapSide_Buy
			case "sell":
				side, decimals, unit = mt.SwapSide_Sell, rules.MTDecimals, "MT"
			default:
				return explain.Newf("say buy (pay native tokens) or sell (pay MT)", "%q is not a side", args[0])
			}
			in, err := session.ParseAmount("amount", args[1], decimals, unit)
			if err != nil {
				return err
			}
			slip, err := session.ParseBps("slippage-bps", c.Uint64("slippage-bps"))
			if err != nil {
				return err
			}
			v, _, _, err := e.quote(c.Context, side, in, slip)
			if err != nil {
				return err
			}
			return e.Session.Out.Print(v)
		},
	}
}

func buyCommand() *cli.Command {
	return &cli.Command{
		Name:      "buy",
		Usage:     "buy MT, paying this many native tokens (fee included)",
		ArgsUsage: "<model-id> <native amount>",
		Flags:     session.WriteFlags(sideFlags()...),
		Action:    func(c *cli.Context) error { return swap(c, mt.SwapSide_Buy) },
	}
}

func sellCommand() *cli.Command {
	return &cli.Command{
		Name:      "sell",
		Usage:     "sell this many MT for native tokens (fee taken from what you receive)",
		ArgsUsage: "<model-id> <MT amount>",
		Flags:     session.WriteFlags(sideFlags()...),
		Action:    func(c *cli.Context) error { return swap(c, mt.SwapSide_Sell) },
	}
}

func (e *env) openIx() (solana.Instruction, error) {
	ix, err := ix.OpenMarket(e.Addr)
	if err != nil {
		return nil, fmt.Errorf("build open_market: %w", err)
	}
	return ix, nil
}

func (e *env) labels(trader solana.PublicKey) map[solana.PublicKey]string {
	vs := pda.Vaults(e.Addr)
	return map[solana.PublicKey]string{
		pda.Protocol(): "protocol", e.Addr: "model", vs.Liquidity: "pool MT vault", vs.LiquidityNative: "pool native vault",
		vs.Revenue: "revenue vault", vs.Treasury: "treasury vault", pda.FeeVault(): "protocol fee vault",
		e.Protocol.NativeMint: "native mint", e.Model.MtMint: "MT mint",
		tokens.ATA(trader, e.Protocol.NativeMint, e.Protocol.NativeTokenProgram): "your native token account",
		tokens.ATA(trader, e.Model.MtMint, solana.Token2022ProgramID):            "your MT account",
	}
}

func swap(c *cli.Context, side mt.SwapSide) error {
	e, args, err := load(c, "amount")
	if err != nil {
		return err
	}
	if e.Protocol.Paused {
		return explain.New("the protocol is paused: swaps are stopped", "wait until the protocol admin resumes it (`mt protocol show`)")
	}
	trader, err := e.Session.Signer()
	if err != nil {
		return err
	}
	payDecimals, payUnit, getDecimals, getUnit := e.NativeDecimals, "native tokens", uint8(rules.MTDecimals), "MT"
	if side == mt.SwapSide_Sell {
		payDecimals, payUnit, getDecimals, getUnit = rules.MTDecimals, "MT", e.NativeDecimals, "native tokens"
	}
	in, err := session.ParseAmount("amount", args[0], payDecimals, payUnit)
	if err != nil {
		return err
	}
	slip, err := session.ParseBps("slippage-bps", c.Uint64("slippage-bps"))
	if err != nil {
		return err
	}
	v, q, opening, err := e.quote(c.Context, side, in, slip)
	if err != nil {
		return err
	}
	minOut := rules.MinOut(q.AmountOut, slip)
	if c.IsSet("min-out") {
		if minOut, err = session.ParseAmount("--min-out", c.String("min-out"), getDecimals, getUnit); err != nil {
			return err
		}
		if minOut > q.AmountOut {
			return explain.Newf("lower --min-out, or wait for a better price",
				"the pool gives %s %s for this now, less than --min-out %s", amount.Format(q.AmountOut, getDecimals), getUnit, amount.Format(minOut, getDecimals))
		}
		v.MinReceive = amount.Of(minOut, getDecimals)
	}
	nativeAcct := tokens.ATA(trader.PublicKey(), e.Protocol.NativeMint, e.Protocol.NativeTokenProgram)
	mtAcct := tokens.ATA(trader.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID)
	payAcct := nativeAcct
	if side == mt.SwapSide_Sell {
		payAcct = mtAcct
	}
	bal, err := e.Reader.TokenBalance(c.Context, payAcct)
	if err != nil {
		return err
	}
	if bal < in {
		return explain.Newf("get them first, or swap less", "this pays %s %s but your account %s holds %s %s", amount.Format(in, payDecimals), payUnit, payAcct, amount.Format(bal, payDecimals), payUnit)
	}
	var ixs []solana.Instruction
	if opening {
		ix, err := e.openIx()
		if err != nil {
			return err
		}
		ixs = append(ixs, ix)
		e.Session.Note("note: model %d's market is not open yet; this transaction opens it first", e.ID)
	}
	ixs = append(ixs,
		tokens.CreateATAIdempotent(trader.PublicKey(), trader.PublicKey(), e.Protocol.NativeMint, e.Protocol.NativeTokenProgram),
		tokens.CreateATAIdempotent(trader.PublicKey(), trader.PublicKey(), e.Model.MtMint, solana.Token2022ProgramID))
	ix, err := ix.Swap(trader.PublicKey(), e.Addr, nativeAcct, mtAcct, ix.NativeOf(e.Protocol), mt.SwapArgs{Side: side, AmountIn: in, MinOut: minOut})
	if err != nil {
		return fmt.Errorf("build swap: %w", err)
	}
	ixs = append(ixs, ix)
	getAcct := mtAcct
	if side == mt.SwapSide_Sell {
		getAcct = nativeAcct
	}
	before, err := e.Reader.TokenBalance(c.Context, getAcct)
	if err != nil {
		return err
	}
	return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("%s on model %d's market: pay %s %s", v.Side, e.ID, amount.Format(in, payDecimals), payUnit), Instructions: ixs, Labels: e.labels(trader.PublicKey())},
		func(sig solana.Signature) (any, error) {
			after, err := e.Reader.TokenBalance(c.Context, getAcct)
			if err != nil {
				return nil, err
			}
			got := amount.Of(after-before, getDecimals)
			v.Received, v.Signature = &got, sig.String()
			return v, nil
		})
}

func openCommand() *cli.Command {
	return &cli.Command{
		Name:      "open",
		Usage:     "seed a model's pool from its liquidity vaults (once; anyone may; buy and sell do it when needed)",
		ArgsUsage: "<model-id>",
		Flags:     session.WriteFlags(),
		Action: func(c *cli.Context) error {
			e, _, err := load(c)
			if err != nil {
				return err
			}
			if e.Model.Market.OpenedAt != 0 {
				return explain.Newf(fmt.Sprintf("trade on it: `mt market quote %d buy <amount>`", e.ID), "model %d's market is already open", e.ID)
			}
			if _, _, err := e.pool(c.Context); err != nil {
				return err
			}
			ix, err := e.openIx()
			if err != nil {
				return err
			}
			return e.Session.Submit(c.Context, session.Tx{What: fmt.Sprintf("open model %d's market", e.ID), Instructions: []solana.Instruction{ix}, Labels: e.labels(solana.PublicKey{})},
				func(sig solana.Signature) (any, error) {
					m, err := e.Reader.Model(c.Context, e.ID)
					if err != nil {
						return nil, err
					}
					return opened{Model: e.ID, ReserveMT: model.MT(m.Market.ReserveMt), ReserveNative: amount.Of(m.Market.ReserveNative, e.NativeDecimals),
						Price: e.price(m.Market.ReserveMt, m.Market.ReserveNative), Signature: sig.String()}, nil
				})
		},
	}
}

type opened struct {
	Model         uint64        `json:"model"`
	ReserveMT     amount.Tokens `json:"reserve_mt"`
	ReserveNative amount.Tokens `json:"reserve_native"`
	Price         string        `json:"price"`
	Signature     string        `json:"signature"`
}

func (o opened) Text() string {
	return output.Fields{
		{Label: "Market", Value: fmt.Sprintf("model %d, open", o.Model)},
		{Label: "Reserves", Value: fmt.Sprintf("%s MT, %s native tokens", o.ReserveMT, o.ReserveNative)},
		{Label: "Price", Value: o.Price + " native tokens per MT"},
		{Label: "Signature", Value: o.Signature},
	}.Text()
}
