package frontdoor

import (
	"strconv"

	"github.com/gagliardetto/solana-go"

	"github.com/modelcommons/modelcommons/clients/apikey"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func strconvHex(n int) string { return strconv.FormatInt(int64(n), 16) }

func testutilValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

func apikeyID(key string) solana.PublicKey { return apikey.ID(key) }
