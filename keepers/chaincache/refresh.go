package chaincache

import (
	"context"
	"log/slog"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/modelcommons/modelcommons/clients/mt_treasury"
	"github.com/modelcommons/modelcommons/clients/pda"
)

// CheckPriceRefresh warns when the price refresh interval is not below the
// protocol's min_period_secs, the shortest hold-up before a new price
// applies: the keeper could then meet a price change it has not seen yet
// (its requests would wait for an on-demand read of the model).
func CheckPriceRefresh(ctx context.Context, client *rpc.Client, commitment rpc.CommitmentType, refresh time.Duration, log *slog.Logger) {
	res, err := client.GetAccountInfoWithOpts(ctx, pda.Protocol(), &rpc.GetAccountInfoOpts{Commitment: commitment, Encoding: solana.EncodingBase64})
	if err != nil {
		log.Warn("cannot read the protocol account to check [chain] price_refresh against its min_period_secs", "err", err)
		return
	}
	p, err := mt_treasury.ParseAccount_Protocol(res.Value.Data.GetBinary())
	if err != nil {
		log.Warn("cannot decode the protocol account to check [chain] price_refresh", "err", err)
		return
	}
	if minPeriod := time.Duration(p.MinPeriodSecs) * time.Second; !PriceRefreshBelow(refresh, minPeriod) {
		log.Warn("[chain] price_refresh is not below the protocol's min_period_secs, the shortest hold-up before a new price applies; "+
			"lower it well below, or requests meeting an unseen price change wait for an on-demand read",
			"price_refresh", refresh, "min_period", minPeriod)
	}
}

// PriceRefreshBelow reports whether a price refresh interval satisfies the
// operator rule: strictly below the protocol's minimum hold-up.
func PriceRefreshBelow(refresh, minPeriod time.Duration) bool { return refresh < minPeriod }
