// Package workers is the keeper's pool of GPU inference servers and what it
// knows about their wire formats.
//
// A Pool holds the workers named in the keeper's configuration (URL, model
// list, kind: vllm, llamacpp, ollama or openai). It health-checks each one
// on an interval (a llama.cpp server still loading its model, HTTP 503, is
// down from its first such answer), routes every request to the healthy worker with the fewest
// outstanding requests among those serving the model, and opens a circuit
// breaker on a worker after consecutive failures (no requests for a
// cool-down, then one trial request). Acquire hands out a Lease; the caller
// decides when a failure is retryable — the gateway retries on another
// worker only while nothing has been written to its client.
//
// Worker responses are untrusted. ParseResponse and StreamScanner extract
// token usage from a non-streaming body or an SSE stream in every supported
// server's format (the OpenAI `usage` object, which vLLM, llama.cpp server
// and Ollama all send when asked with stream_options.include_usage;
// llama.cpp's `timings` as a second source), tolerate malformed JSON,
// missing usage and truncated streams, and bound every buffer. Where a
// worker reports no usage, token counts come from EstimateTokens and the
// result is marked Estimated.
//
// # Fallback tokenizer
//
// EstimateTokens is a deterministic approximation, used only when a worker
// reports nothing. The text is split into pieces: a run of letters (with
// one leading space, if any), a run of digits, a run of whitespace, or one
// other character. A letter run of n letters counts ceil(n/6) tokens (BPE
// vocabularies hold common words whole and split long ones; English prose
// comes out near the usual 1.3 tokens per word), a digit
// run counts ceil(n/3) (GPT-style tokenizers group at most three digits),
// a whitespace run counts 1 if it contains a newline and 0 otherwise (spaces
// are merged into the next word), and any other character counts 1 token
// per UTF-8 byte up to 2 (punctuation is one token; non-Latin characters
// usually take one or two). Chat prompts add 3 tokens per message and 3 for
// the reply's priming, as OpenAI documents for its chat format. The
// estimate is not a real tokenizer's count; receipts built from it carry
// the estimated flag so users and auditors can tell.
package workers
