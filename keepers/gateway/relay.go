package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcommons/modelcommons/keepers/workers"
)

// mixOverheadTokens bounds the aggregator instructions' tokens.
const mixOverheadTokens = 128

// callOpts adapts one upstream call.
type callOpts struct {
	// extra fields override the client's in the upstream body.
	extra map[string]json.RawMessage
	// offset is usage already spent on the run (mixture proposals): added
	// to the receipt and to the usage the client sees.
	offset *workers.Usage
	// stream overrides the request's stream flag (proposals never stream).
	stream bool
}

// attemptOutcome of one worker attempt.
type attemptOutcome int

const (
	attemptDone  attemptOutcome = iota // the response (or an error) went to the client
	attemptRetry                       // nothing reached the client; try another worker
)

// runSingle serves a one-model run.
func (g *Gateway) runSingle(w *statusWriter, r *http.Request, ru *run) {
	g.serveOn(w, r, ru, ru.members[0], callOpts{stream: ru.req.stream})
}

// serveOn runs the request on a worker for m, retrying on others while
// nothing has reached the client, and relays the answer.
func (g *Gateway) serveOn(w *statusWriter, r *http.Request, ru *run, m member, o callOpts) {
	var tried []*workers.Worker
	var last *apiError
	for attempt := 0; attempt < g.cfg.MaxAttempts; attempt++ {
		lease, err := g.pool.Acquire(m.name, tried)
		if err != nil {
			break
		}
		if attempt > 0 {
			g.metrics.Retries.Inc()
		}
		tried = append(tried, lease.Worker())
		// The attempt's context ends with the client's, or when the worker
		// stays silent past the idle timeout (the watchdog).
		actx, cancel := context.WithCancel(r.Context())
		wd := newWatchdog(g.cfg.UpstreamIdleTimeout, cancel)
		resp, aerr, clientErr := g.send(actx, ru, m, lease, o)
		if clientErr && r.Context().Err() == nil && aerr == nil {
			clientErr, aerr = false, errUpstream("The worker stopped answering.")
		}
		if clientErr {
			wd.stop()
			cancel()
			lease.Release(workers.Neutral)
			if aerr != nil {
				aerr.write(w)
			} else {
				g.metrics.RunFailures.WithLabelValues("client_gone").Inc()
			}
			return
		}
		if aerr != nil {
			wd.stop()
			cancel()
			lease.Release(workers.WorkerFault)
			last = aerr
			continue
		}
		wd.kick()
		var out attemptOutcome
		if o.stream {
			out = g.relayStream(w, r, ru, lease, resp, o, wd)
		} else {
			out = g.relayBody(w, r, ru, lease, resp, o)
		}
		wd.stop()
		cancel()
		if out == attemptDone {
			return
		}
		last = errUpstream("The worker returned an invalid response.")
	}
	g.metrics.RunFailures.WithLabelValues("no_worker").Inc()
	if last == nil || len(tried) == 0 {
		last = errUnavailable(fmt.Sprintf("No healthy worker serves '%s' right now; try again shortly.", m.name))
	}
	last.write(w)
}

// send posts the request to the leased worker. A non-nil apiError with
// clientErr false is the worker's fault (retry elsewhere); clientErr means
// the request itself was refused (aerr set) or the client left (aerr nil).
func (g *Gateway) send(ctx context.Context, ru *run, m member, lease *workers.Lease, o callOpts) (*http.Response, *apiError, bool) {
	extra := o.extra
	if o.stream != ru.req.stream {
		extra = mergeFields(extra, map[string]json.RawMessage{"stream": json.RawMessage(fmt.Sprint(o.stream))})
	}
	body := ru.req.upstreamBody(lease.Worker().UpstreamModel(m.name), extra)
	resp, err := lease.Do(ctx, ru.req.ep, bytes.NewReader(body), o.stream)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, true
		}
		g.log.Warn("worker request failed", "worker", lease.Worker().Name(), "err", err, "request_id", requestID(ctx))
		return nil, errUpstream("The worker could not be reached."), false
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil, false
	}
	defer resp.Body.Close()
	msg := workerErrorMessage(resp.Body)
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		// The worker refused the request itself (e.g. context too long):
		// another worker would too.
		if msg == "" {
			msg = "The worker rejected the request."
		}
		return nil, errInvalid("", msg), true
	}
	g.log.Warn("worker error status", "worker", lease.Worker().Name(), "status", resp.StatusCode, "message", msg, "request_id", requestID(ctx))
	return nil, errUpstream(fmt.Sprintf("The worker answered HTTP %d.", resp.StatusCode)), false
}

// workerErrorMessage extracts the message of a worker's error body (OpenAI
// and llama.cpp: {"error":{"message"}}; older vLLM: {"message"}; Ollama:
// {"error":"..."}), bounded.
func workerErrorMessage(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	var inner struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(v.Error, &inner) == nil && inner.Message != "" {
		return truncate(inner.Message, 500)
	}
	var s string
	if json.Unmarshal(v.Error, &s) == nil && s != "" {
		return truncate(s, 500)
	}
	return truncate(v.Message, 500)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func mergeFields(a, b map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func addUsage(u workers.Usage, off *workers.Usage) workers.Usage {
	if off == nil {
		return u
	}
	return workers.Usage{PromptTokens: u.PromptTokens + off.PromptTokens, CompletionTokens: u.CompletionTokens + off.CompletionTokens, Estimated: u.Estimated || off.Estimated}
}

// watchdog cancels an upstream attempt when the worker is silent for
// longer than its timeout; kick restarts the clock.
type watchdog struct {
	t       *time.Timer
	timeout time.Duration
	fired   atomic.Bool
}

func newWatchdog(timeout time.Duration, cancel context.CancelFunc) *watchdog {
	w := &watchdog{timeout: timeout}
	w.t = time.AfterFunc(timeout, func() { w.fired.Store(true); cancel() })
	return w
}

func (w *watchdog) kick() { w.t.Reset(w.timeout) }
func (w *watchdog) stop() { w.t.Stop() }

// clientWriter writes to the client with a deadline per write, so a client
// that stops reading is cut off instead of holding the run open.
type clientWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (c *clientWriter) write(b []byte, flush bool) error {
	_ = c.rc.SetWriteDeadline(time.Now().Add(c.timeout))
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	if flush {
		return c.rc.Flush()
	}
	return nil
}

// relayStream relays a worker's SSE stream event by event. Until the first
// event is written, a failure is retryable; afterwards the client gets an
// error event and the run is not charged. The receipt is made durable
// before the final usage chunk and "data: [DONE]"; the usage the client
// sees (that chunk, the trailers) is the receipt's. A client that goes
// away after the first event was written to it is charged for the run so
// far (clientGone), and the worker is stopped at once.
func (g *Gateway) relayStream(w *statusWriter, r *http.Request, ru *run, lease *workers.Lease, resp *http.Response, o callOpts, wd *watchdog) attemptOutcome {
	defer resp.Body.Close()
	worker := lease.Worker().Name()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		g.log.Warn("worker answered a stream request without an event stream", "worker", worker, "content_type", ct)
		lease.Release(workers.WorkerFault)
		return attemptRetry
	}
	sse := workers.NewSSEReader(resp.Body, 0)
	sc := workers.NewStreamScanner(ru.req.promptTokens, 0)
	mixture := o.offset != nil
	ev, err := sse.Next()
	var usageOnly bool
	if err == nil {
		usageOnly, err = sc.Observe(ev)
	}
	if err != nil {
		if r.Context().Err() != nil {
			lease.Release(workers.Neutral)
			g.metrics.RunFailures.WithLabelValues("client_gone").Inc()
			return attemptDone
		}
		g.log.Warn("worker stream failed before the first event", "worker", worker, "err", err)
		lease.Release(workers.WorkerFault)
		return attemptRetry
	}
	// From here on, bytes reach the client: no more retries.
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set(headerRunID, ru.id.String())
	h.Set("Trailer", usageTrailer)
	w.WriteHeader(http.StatusOK)
	cw := &clientWriter{w: w, rc: http.NewResponseController(w), timeout: g.cfg.WriteTimeout}
	var head streamHead
	var prog streamProgress
	fail := func(reason string, aerr *apiError, outcome workers.Outcome) attemptOutcome {
		lease.Release(outcome)
		g.metrics.RunFailures.WithLabelValues(reason).Inc()
		if aerr != nil {
			_ = cw.write(sseError(aerr), true)
		}
		return attemptDone
	}
	clientGone := func() attemptOutcome {
		// Stop the worker before anything else: closing the body drops
		// the upstream connection, which vLLM, llama.cpp and Ollama take
		// as an abort.
		_ = resp.Body.Close()
		if !prog.relayed {
			return fail("client_gone", nil, workers.Neutral)
		}
		u := addUsage(partialUsage(sc, prog, ru.req.promptTokens), o.offset)
		if _, err := g.record(ru, u, worker, true); err != nil {
			g.log.Error("could not journal a partial run; not charged", "err", err, "run_id", ru.id, "request_id", requestID(r.Context()))
		}
		lease.Release(workers.Neutral)
		return attemptDone
	}
	for {
		if ev.Done {
			break
		}
		head.observe(ev)
		if usageOnly {
			// The worker's usage is replaced by the charged usage at the
			// end; it tells that generation is over.
			prog.final = true
		} else {
			if err := cw.write(withoutUsage(ev), sse.Buffered() == 0); err != nil {
				return clientGone()
			}
			prog.relayed, prog.relayedOut = true, sc.EstimatedCompletion()
		}
		ev, err = sse.Next()
		wd.kick()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			usageOnly, err = sc.Observe(ev)
		}
		if err != nil {
			if r.Context().Err() != nil {
				return clientGone()
			}
			g.log.Warn("worker stream failed mid-way; run not charged", "worker", worker, "err", err, "request_id", requestID(r.Context()))
			return fail("worker_midstream", errUpstream("The worker failed while streaming; this run is not charged. Retry the request."), workers.WorkerFault)
		}
	}
	if !sc.Complete() {
		g.log.Warn("worker stream ended early; run not charged", "worker", worker, "request_id", requestID(r.Context()))
		return fail("worker_truncated", errUpstream("The worker's stream ended early; this run is not charged. Retry the request."), workers.WorkerFault)
	}
	signed, err := g.record(ru, addUsage(sc.Result().Usage, o.offset), worker, false)
	if err != nil {
		g.log.Error("could not journal a completed run; not charged", "err", err, "request_id", requestID(r.Context()))
		return fail("journal", errInternal("The keeper could not record this run; it is not charged."), workers.Success)
	}
	g.runMeta(w.Header(), signed, true)
	lease.Release(workers.Success)
	if ru.req.includeUsage {
		model := ""
		if mixture {
			model = ru.req.model
		}
		if err := cw.write(head.usageChunk(signed.Receipt, model), false); err != nil {
			return attemptDone
		}
	}
	setUsageHeaders(w.Header(), signed.Receipt)
	_ = cw.write([]byte("data: [DONE]\n\n"), true)
	return attemptDone
}

// readBody reads a non-streaming worker body within the response bound.
func (g *Gateway) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, g.cfg.MaxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > g.cfg.MaxResponseBytes {
		return nil, fmt.Errorf("worker response over %d bytes", g.cfg.MaxResponseBytes)
	}
	return b, nil
}

// relayBody relays a complete JSON response after journaling the run.
func (g *Gateway) relayBody(w *statusWriter, r *http.Request, ru *run, lease *workers.Lease, resp *http.Response, o callOpts) attemptOutcome {
	worker := lease.Worker().Name()
	b, err := g.readBody(resp)
	if err != nil {
		if r.Context().Err() != nil {
			lease.Release(workers.Neutral)
			g.metrics.RunFailures.WithLabelValues("client_gone").Inc()
			return attemptDone
		}
		g.log.Warn("worker body unreadable", "worker", worker, "err", err)
		lease.Release(workers.WorkerFault)
		return attemptRetry
	}
	res, err := workers.ParseResponse(ru.req.ep, b, ru.req.promptTokens)
	if err != nil {
		g.log.Warn("worker body malformed", "worker", worker, "err", err)
		lease.Release(workers.WorkerFault)
		return attemptRetry
	}
	signed, err := g.record(ru, addUsage(res.Usage, o.offset), worker, false)
	if err != nil {
		lease.Release(workers.Success)
		g.log.Error("could not journal a completed run; not charged", "err", err, "request_id", requestID(r.Context()))
		errInternal("The keeper could not record this run; it is not charged. Retry the request.").write(w)
		return attemptDone
	}
	lease.Release(workers.Success)
	model := ""
	if o.offset != nil {
		// A mixture reports its own name.
		model = ru.req.model
	}
	b = chargedBody(b, signed.Receipt, model)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(headerRunID, ru.id.String())
	setUsageHeaders(w.Header(), signed.Receipt)
	g.runMeta(w.Header(), signed, false)
	w.WriteHeader(http.StatusOK)
	cw := &clientWriter{w: w, rc: http.NewResponseController(w), timeout: g.cfg.WriteTimeout}
	_ = cw.write(b, false)
	return attemptDone
}

// proposal is one mixture member's answer.
type proposal struct {
	text   string
	usage  workers.Usage
	worker string
	err    *apiError
}

// propose gets one member's non-streaming answer, retrying on other
// workers.
func (g *Gateway) propose(ctx context.Context, ru *run, m member) proposal {
	var tried []*workers.Worker
	var last *apiError
	o := callOpts{stream: false, extra: map[string]json.RawMessage{"n": json.RawMessage("1")}}
	for attempt := 0; attempt < g.cfg.MaxAttempts; attempt++ {
		lease, err := g.pool.Acquire(m.name, tried)
		if err != nil {
			break
		}
		tried = append(tried, lease.Worker())
		actx, cancel := context.WithCancel(ctx)
		wd := newWatchdog(g.cfg.UpstreamIdleTimeout, cancel)
		resp, aerr, clientErr := g.send(actx, ru, m, lease, o)
		if clientErr && ctx.Err() == nil && aerr == nil {
			clientErr, aerr = false, errUpstream("The worker stopped answering.")
		}
		if clientErr {
			wd.stop()
			cancel()
			lease.Release(workers.Neutral)
			if aerr == nil {
				aerr = errInvalid("", "request cancelled")
			}
			return proposal{err: aerr}
		}
		if aerr != nil {
			wd.stop()
			cancel()
			lease.Release(workers.WorkerFault)
			last = aerr
			continue
		}
		wd.kick()
		b, err := g.readBody(resp)
		wd.stop()
		cancel()
		if err == nil {
			var res workers.Result
			if res, err = workers.ParseResponse(ru.req.ep, b, ru.req.promptTokens); err == nil {
				lease.Release(workers.Success)
				return proposal{text: res.Text, usage: res.Usage, worker: lease.Worker().Name()}
			}
		}
		if ctx.Err() != nil {
			lease.Release(workers.Neutral)
			return proposal{err: errInvalid("", "request cancelled")}
		}
		lease.Release(workers.WorkerFault)
		last = errUpstream("The worker returned an invalid response.")
	}
	if last == nil {
		last = errUnavailable(fmt.Sprintf("No healthy worker serves '%s' right now; try again shortly.", m.name))
	}
	return proposal{err: last}
}

const aggregatorInstructions = "You are the aggregator of a mixture of models. Below are answers that other models gave to the " +
	"user's latest message. Weigh them critically — some may be wrong or incomplete — and write one answer of your own that is " +
	"accurate, complete and well organised. Do not mention that other answers exist.\n"

// runMixture serves a mixture: proposals from every member but the first,
// in parallel, then the first member's answer with the proposals given.
func (g *Gateway) runMixture(w *statusWriter, r *http.Request, ru *run) {
	proposers := ru.members[1:]
	props := make([]proposal, len(proposers))
	var wg sync.WaitGroup
	for i, m := range proposers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			props[i] = g.propose(r.Context(), ru, m)
		}()
	}
	wg.Wait()
	var offset workers.Usage
	var sb strings.Builder
	sb.WriteString(aggregatorInstructions)
	for i, p := range props {
		if p.err != nil {
			g.metrics.RunFailures.WithLabelValues("mixture_proposal").Inc()
			p.err.write(w)
			return
		}
		offset = addUsage(offset, &p.usage)
		fmt.Fprintf(&sb, "\nAnswer %d:\n%s\n", i+1, p.text)
	}
	system, _ := json.Marshal(map[string]string{"role": "system", "content": sb.String()})
	msgs := append([]json.RawMessage{system}, ru.req.messages...)
	rawMsgs, _ := json.Marshal(msgs)
	// The aggregator's prompt estimate includes the proposals.
	agg := *ru
	req := *ru.req
	req.promptTokens = ru.req.promptTokens + workers.EstimateTokens(sb.String()) + 3
	agg.req = &req
	g.serveOn(w, r, &agg, ru.members[0], callOpts{stream: ru.req.stream, offset: &offset, extra: map[string]json.RawMessage{"messages": rawMsgs}})
	ru.charged = agg.charged
}
