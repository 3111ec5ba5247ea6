// Package gateway is the keeper's OpenAI-compatible HTTP front. It
// authenticates a request by its API key, admits it against the key's
// on-chain escrow, routes it to a worker, relays the worker's answer (SSE
// streams event by event, as produced) and, for every run that completed,
// signs a receipt and makes it durable in the journal before the last byte
// of the response goes out.
//
// # API
//
// POST /v1/chat/completions, /v1/completions, /v1/embeddings and GET
// /v1/models, as OpenAI defines them; any OpenAI SDK works against it
// unchanged. GET /v1/models lists exactly the models a request would be
// served for now (Gateway.Servable): configured, a healthy worker serving
// it, and active on chain with a price the keeper can quote.
// GET /v1/receipts returns the caller's signed receipts (the escrow comes
// from the API key), GET /v1/receipts/{run_id} one of them, GET
// /v1/receipts/proofs their Merkle proofs against
// the batch roots settle records on chain (Config.ReceiptProofs). Operational endpoints: /healthz (process alive),
// /readyz (a worker is healthy and the escrow source answers), /metrics
// (Prometheus; see Config.HideMetrics). Every response carries an
// X-Request-Id; a served run also an X-Run-Id, the id of its receipt.
//
// # Usage shown = usage charged
//
// One function (chargedUsage) decides a run's tokens; the receipt holds
// them and the client is shown exactly them: the usage object of a
// non-streamed body and of a stream's final chunk are replaced by the
// receipt's, and the figures also travel as X-Usage-Prompt-Tokens,
// X-Usage-Completion-Tokens, X-Usage-Total-Tokens, X-Usage-Cost (native
// base units) and X-Usage-Estimated — response headers of a non-streamed
// answer, HTTP trailers of a stream (declared in Trailer up front, sent
// after [DONE]'s chunk), so a stream requested without
// stream_options.include_usage can still see its charge. Streams always
// ask the worker for usage; the final usage chunk reaches the client only
// if it asked for it, and worker usage on content chunks (Ollama's zeros,
// vLLM's running counts) is nulled. Output tokens above what the request
// allowed (max_tokens per choice, per call of a mixture) are clamped to it
// (keeper_usage_clamped_total). A usage object with a negative count, or
// none, is replaced by the fallback tokenizer's estimate of the prompt
// and of the text generated, and the receipt is marked estimated. A usage
// object that is not JSON integers makes the answer malformed: the worker
// is treated as failed and the run is not charged. Prompt tokens are not
// clamped: chat templates, tools and images make them unknowable here.
//
// # Client disconnects
//
// A stream whose client goes away (closes the connection, or stops
// reading for Config.WriteTimeout) after the first worker event was
// written to it is charged for the run so far, on a receipt marked
// partial (receipt version 2): the worker's own usage if its final usage
// chunk had arrived, else the prompt estimate admission used plus the
// fallback estimate of the completion text written to the client —
// estimated, and never above max_tokens. The estimate, not a count of
// chunks, because servers put one or several tokens in a chunk; the
// estimate is the keeper's one documented fallback and the client can
// recompute it from the text it received. The upstream request is
// cancelled at once (its connection closed), so the worker stops
// generating. A client that leaves before the first event reached it —
// while queued, or while the worker reads the prompt — is charged
// nothing; so is a non-streamed request whose client leaves before the
// body is written (nothing was delivered). Partial receipts settle like
// any other (keeper_runs_partial_total counts them).
//
// # Authentication and admission
//
// Authorization: Bearer <API key>. The escrow is the inference_meter PDA
// at seeds ["escrow", key id] (clients/apikey.ID); its state comes from an
// EscrowSource (cached, refreshed by polling), read as this keeper's node
// sees it: the escrow's lane for Config.Node (chaincache.Config.Node). The key
// itself is never logged or stored.
//
// An escrow's owner splits its money into per-node lanes; settle by a node
// debits only that node's lane, so a keeper admits only against its own
// lane. A request is admitted when the escrow has a lane for this node that
// is not being revoked, the model is one the escrow allows, and
//
//	available − unsettled − in flight ≥ worst-case cost
//
// where available is what settlement by this node may still take (the
// lane's balance, within the escrow's spend limit), unsettled is this
// keeper's recorded but unsettled spend for the escrow (from the journal),
// in flight the worst-case cost reserved by the escrow's running requests,
// and worst-case cost is the settlement cost of the prompt estimate
// (fallback tokenizer, plus 25%) as input and max_tokens × n as output. A
// request without max_tokens gets Config.DefaultMaxTokens sent upstream, so
// its cost stays bounded. Otherwise HTTP 402: without a lane the message
// names the escrow and the node and tells the owner to run `mt escrow
// allow <escrow> <node> <amount>`; a lane being revoked says so.
//
// Money the owner has not given to a lane (the escrow's balance, which a
// withdrawal takes from) never counts. Because each keeper counts only its
// own lane, less its own unsettled and in-flight spend, N keepers serving
// one escrow can never together admit more than the escrow's lanes hold:
// no keeper is left with a shortfall another keeper caused.
//
// # Per-key limits
//
// Config.Limits caps requests per minute (rpm) and tokens per minute (tpm)
// per API key (its escrow), per (key, model), with per-escrow overrides of
// the key's budget; all off by default. Each is a token bucket of one
// minute's budget refilling continuously, kept per escrow in 64 shards
// (one mutex each, O(1) per request; all of one key's buckets share an
// entry, so a request is charged to all of them or none) with at most
// Limits.MaxKeys keys, the least recently used forgotten first. Tokens
// are reserved at admission at the worst case — the prompt estimate plus
// max_tokens × n, for a mixture every call's — and corrected to the
// charged usage (input + output of the receipt) when the request ends;
// an unrecorded run gives all of them back. The check runs after the
// escrow admission above: limits only refuse more. Over a budget: 429
// rate_limit_exceeded, naming the limit, with Retry-After (the seconds
// until the budget has room; none when the request exceeds a whole tpm
// budget). Refusals are counted in keeper_ratelimit_rejected_total{limit,
// scope}, never by key.
//
// # Time and prices
//
// A run is dated by Config.Clock — the chain's clock as the keeper
// estimates it (keepers/chainclock), not the host's — when it is admitted:
// that serve time goes into its receipt, and the price it is quoted and
// admitted at is the PriceBook's price in effect at that time (QueryPricing:
// the previous price before effective_at, the new one from it), which is
// the price settle charges for it. A configured model the price book
// cannot quote is read from the chain again before the request is refused
// (chaincache.Prices' on-demand refresh): 404 if it is still not active, 503
// price_unavailable if the chain cannot be read.
//
// # Mixtures
//
// model "mix:<a>+<b>[+<c>...]" asks several models together (at most 8,
// chat completions only). Weights in basis points may follow each name,
// "mix:a@7000+b@3000"; they must then be given for every member and sum
// to 10 000. Without weights the split is equal (the remainder of
// 10 000 / n goes one point each to the first members). The first model
// aggregates: every other member answers the conversation first (in
// parallel, not streamed), then the first model answers it with those
// proposals given in a system message, and its answer (streamed if asked)
// is the response. The receipt names every member with its weight; the
// tokens of all calls are summed, and settlement charges each model its
// weight's share of them at its own price. The usage in the response is the
// total over all calls.
//
// # Failures
//
// Errors are OpenAI-style bodies {"error":{"message","type","param","code"}}:
// 400 invalid request (malformed JSON, absurd max_tokens or n, unknown
// fields of the wrong type), 401 missing or unknown key, 402 insufficient
// funds in this node's lane (or no lane), 403 model not allowed by the escrow, 404 unknown model,
// 413 body too large, 429 rate limited, 503 no healthy worker or no
// readable price. A worker
// that fails before anything reached the client is retried on another; a
// failure after that ends a stream with an error event and no [DONE]. A
// worker that goes silent mid-answer for Config.UpstreamIdleTimeout counts
// as failed. A client that stops reading is cut off after
// Config.WriteTimeout; the gateway holds one event at a time. A run that
// fails is never journaled: no receipt, no charge.
package gateway
