package gateway

import (
	"errors"
	"io"
	"net/http"

	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
)

// prepare takes a generation request through authentication, the per-key
// rate limit, parsing, the escrow's model and lane checks and pricing: all
// of admission but the reservation. It returns the run to serve and its
// worst-case cost. A domain front door (Admitter) runs the same steps.
func (g *Gateway) prepare(w http.ResponseWriter, r *http.Request, ep workers.Endpoint, label string, kind receipts.Kind) (*run, uint64, *apiError) {
	st, aerr := g.authenticate(r)
	if aerr != nil {
		return nil, 0, aerr
	}
	if !g.allow(st.Address) {
		return nil, 0, errRateLimited("Rate limit reached for this API key.", 1)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, 0, errTooLarge
		}
		return nil, 0, errInvalid("", "Could not read the request body.")
	}
	if aerr := g.checkPass(r, st, body); aerr != nil {
		return nil, 0, aerr
	}
	req, aerr := g.parseRequest(ep, body)
	if aerr != nil {
		return nil, 0, aerr
	}
	req.body = body
	members, aerr := parseModel(req.model, g.ids)
	if aerr != nil {
		return nil, 0, aerr
	}
	if len(members) > 1 && ep != workers.ChatCompletions {
		return nil, 0, errInvalid("model", "Mixtures are served for chat completions only.")
	}
	for _, m := range members {
		// A front door has no workers: its members' gateways check.
		if g.pool != nil && !g.pool.Serves(m.name) {
			return nil, 0, errModelNotFound(m.name)
		}
		if !st.Allows(m.id) {
			return nil, 0, errModelNotAllowed(m.name)
		}
	}
	if aerr := g.laneError(st); aerr != nil {
		return nil, 0, aerr
	}
	ru := &run{id: receipts.NewRunID(), req: req, escrow: st, members: members, servedAt: g.cfg.Clock.Now(), endpoint: label, kind: kind}
	for _, m := range members {
		p, err := g.cfg.Prices.Price(r.Context(), m.id, ru.servedAt)
		if err != nil {
			return nil, 0, g.priceError(r.Context(), m, err)
		}
		ru.shares = append(ru.shares, receipts.ModelShare{ModelID: m.id, WeightBps: m.weight, InputPer1k: p.InputPer1k, OutputPer1k: p.OutputPer1k})
	}
	sortShares(ru.shares)
	worstIn, worstOut := req.promptTokens, req.maxTokens*req.choices
	if ep == workers.Embeddings {
		worstOut = 0
	}
	if len(members) > 1 {
		// Every proposer reads the prompt and writes up to max_tokens;
		// the aggregator reads the prompt plus all proposals.
		p := len(members) - 1
		worstIn = (p+1)*req.promptTokens + p*req.maxTokens + mixOverheadTokens
		worstOut = (p + 1) * req.maxTokens
	}
	worst, err := g.worstCase(ru.shares, worstIn, worstOut)
	if err != nil {
		return nil, 0, errInvalid("max_tokens", "The request's worst-case cost does not fit in a u64; lower max_tokens.")
	}
	return ru, worst, nil
}
