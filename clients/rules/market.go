package rules

import (
	mt "github.com/modelcommons/modelcommons/clients/mt_treasury"
)

// MarketSeed is OpenMarket::seed: the reserves (MT, native base units) the
// model's pool opens with — the amounts the program recorded (the MT
// liquidity allocation and the share of the raise moved to the pool at
// finalisation), never the vaults' balances, which anyone can top up.
// ok is false when either side is zero (open_market fails with NoLiquidity).
func MarketSeed(m *mt.Model) (reserveMT, reserveNative uint64, ok bool) {
	reserveMT, reserveNative = m.Supply.Liquidity, m.Crowdfund.LiquidityNative
	return reserveMT, reserveNative, reserveMT > 0 && reserveNative > 0
}
