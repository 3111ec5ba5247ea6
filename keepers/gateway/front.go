package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/modelcommons/modelcommons/keepers/domainpass"
	"github.com/modelcommons/modelcommons/keepers/journal"
	"github.com/modelcommons/modelcommons/keepers/receipts"
	"github.com/modelcommons/modelcommons/keepers/workers"
)

// Headers a domain member adds to an answer for its front door.
const (
	// RunSeqHeader is the run's journal number: the front door's ledger
	// counts the run as owed until the node's on-chain last_run_seq reaches
	// it.
	RunSeqHeader = "X-Run-Seq"
	// RunCostHeader is the run's cost as its receipt records it.
	RunCostHeader = "X-Run-Cost"
)

// HighWater is the body of a member's GET /domain/high-water: the highest
// run number its journal has given. Every run it recorded before the
// request is numbered at most this.
type HighWater struct {
	HighestRunSeq uint64 `json:"highest_run_seq"`
}

// checkPass refuses, on a domain member, a request the front door did not
// sign for this escrow and body: only the front door reserves against the
// domain's lane.
func (g *Gateway) checkPass(r *http.Request, st EscrowState, body []byte) *apiError {
	if g.pass == nil {
		return nil
	}
	err := g.pass.Verify(r.Header.Get(domainpass.Header), st.Address, body)
	if err == nil {
		return nil
	}
	g.log.Info("request without a valid domain pass refused", "err", err, "request_id", requestID(r.Context()))
	msg := "This keeper serves a domain: send requests to the domain's front door."
	if !errors.Is(err, domainpass.ErrMissing) {
		msg = "The domain pass on this request is not valid (" + err.Error() + "); send requests to the domain's front door."
	}
	return &apiError{status: http.StatusForbidden, typ: "invalid_request_error", code: "front_door_required", message: msg}
}

// domainLaneError refuses an escrow whose owner opened no lane to the
// domain this keeper serves, or is revoking it.
func (g *Gateway) domainLaneError(st EscrowState) *apiError {
	d := g.cfg.Domain
	switch {
	case st.Lane == nil:
		return errFunds(fmt.Sprintf("This API key's escrow %s has no lane to the domain %s, so its members cannot charge it. "+
			"The escrow's owner can open one: mt escrow allow %s --domain %s <amount>", st.Address, d, st.Address, d))
	case st.Lane.RevokeRequestedAt != 0:
		return errFunds(fmt.Sprintf("This API key's escrow %s is revoking its lane to the domain %s; no new requests are served against it. "+
			"The escrow's owner can reopen it: mt escrow allow %s --domain %s <amount>", st.Address, d, st.Address, d))
	}
	return nil
}

// runMeta tells the front door the journal number and cost of a recorded
// run: as headers before a body, as trailers after a stream.
func (g *Gateway) runMeta(h http.Header, s receipts.Signed, trailer bool) {
	if g.pass == nil {
		return
	}
	prefix := ""
	if trailer {
		prefix = http.TrailerPrefix
	}
	if j, ok := g.cfg.Journal.(interface {
		Get(receipts.RunID) (journal.Entry, error)
	}); ok {
		if e, err := j.Get(s.Receipt.RunID); err == nil {
			h.Set(prefix+RunSeqHeader, strconv.FormatUint(e.RunSeq, 10))
		}
	}
	h.Set(prefix+RunCostHeader, strconv.FormatUint(s.Receipt.Cost, 10))
}

func (g *Gateway) serveHighWater(w http.ResponseWriter, r *http.Request) {
	j, ok := g.cfg.Journal.(interface{ HighestRunSeq() uint64 })
	if !ok {
		errNotFound.write(w)
		return
	}
	writeJSON(w, http.StatusOK, HighWater{HighestRunSeq: j.HighestRunSeq()})
}

// Admission is a generation request a front door admitted: authenticated,
// parsed and priced exactly as a gateway would, to be served elsewhere.
type Admission struct {
	Escrow EscrowState
	// Body is the request as received, relayed unchanged.
	Body   []byte
	Stream bool
	// Worst is the worst-case cost the front door reserves.
	Worst uint64
}

// Refusal is an OpenAI-style error answer.
type Refusal struct{ e *apiError }

// Write sends the refusal as the whole response.
func (r *Refusal) Write(w http.ResponseWriter) { r.e.write(w) }

// Status is the refusal's HTTP status.
func (r *Refusal) Status() int { return r.e.status }

// Error is its message.
func (r *Refusal) Error() string { return r.e.message }

// Upstream is the 502 a front door answers when no member could serve.
func Upstream(msg string) *Refusal { return &Refusal{errUpstream(msg)} }

// Unavailable is the 503 a front door answers when no member is healthy.
func Unavailable(msg string) *Refusal { return &Refusal{errUnavailable(msg)} }

// Funds is the 402 a front door answers when the domain lane lacks room.
func Funds(msg string) *Refusal { return &Refusal{errFunds(msg)} }

// SSEError is the event that ends a stream that failed after it started.
func SSEError(r *Refusal) []byte { return sseError(r.e) }

// Admitter runs a gateway's authentication and admission checks for a
// domain front door: the Config's Escrows read each escrow's lane for the
// domain (ChainConfig.Node = the domain account), Node names it in
// refusals. Pool, Journal and Key are not used.
type Admitter struct{ g *Gateway }

// NewAdmitter builds an Admitter.
func NewAdmitter(cfg Config) (*Admitter, error) {
	if cfg.Escrows == nil || cfg.Prices == nil {
		return nil, errors.New("gateway: escrows and prices are required")
	}
	cfg.Pool, cfg.Journal, cfg.FrontDoor = nil, nil, nil
	g, err := newCore(cfg)
	if err != nil {
		return nil, err
	}
	return &Admitter{g: g}, nil
}

// Admit checks a generation request for endpoint ep; the body is read.
func (a *Admitter) Admit(w http.ResponseWriter, r *http.Request, ep workers.Endpoint) (*Admission, *Refusal) {
	ru, worst, aerr := a.g.prepare(w, r, ep, "", 0)
	if aerr != nil {
		return nil, &Refusal{aerr}
	}
	return &Admission{Escrow: ru.escrow, Body: ru.req.body, Stream: ru.req.stream, Worst: worst}, nil
}

// Models are the configured public model names.
func (a *Admitter) Models() []string {
	out := make([]string, 0, len(a.g.cfg.Models))
	for _, m := range a.g.cfg.Models {
		out = append(out, m.Name)
	}
	return out
}
