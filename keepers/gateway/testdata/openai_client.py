"""Drives the keeper's gateway with the official OpenAI Python client.

Run by keepers/gateway/python_test.go, which starts a gateway in front of
simulated workers and passes its URL and API keys in the environment:

  GATEWAY_URL     base URL of the gateway (without /v1)
  KEY_RICH        a key whose escrow can pay
  KEY_POOR        a key whose escrow cannot
  MODEL           a served model
  MODEL_MIX       a mixture, e.g. "mix:model-a@7000+model-b@3000"
  MODEL_DOWN      a configured model whose only worker is down
  MODEL_DYING     a model whose worker dies mid-stream

Every check raises on failure; the last line printed is a JSON summary.
Exit status 0 means every check passed.
"""

import json
import os
import sys

import openai

BASE = os.environ["GATEWAY_URL"] + "/v1"
MODEL = os.environ["MODEL"]
results = {}


def client(key):
    # No SDK retries: the gateway's answers are checked as sent.
    return openai.OpenAI(base_url=BASE, api_key=key, max_retries=0, timeout=20)


def check(name):
    def wrap(fn):
        fn()
        results[name] = "ok"
        return fn

    return wrap


rich = client(os.environ["KEY_RICH"])
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What does a keeper do?"},
]


@check("models.list")
def _():
    ids = [m.id for m in rich.models.list()]
    assert MODEL in ids, ids


@check("chat, not streamed")
def _():
    r = rich.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=10)
    assert r.choices[0].message.content, r
    assert r.usage.completion_tokens > 0 and r.usage.prompt_tokens > 0, r.usage
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


@check("chat, streamed, the usual loop over choices[0]")
def _():
    # Code written for OpenAI indexes choices[0] on every chunk: the
    # gateway must not leak the worker's usage-only chunk to it.
    text = ""
    for chunk in rich.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=10, stream=True):
        delta = chunk.choices[0].delta
        text += delta.content or ""
    assert text, "empty stream"


@check("chat, streamed with include_usage")
def _():
    usage = None
    text = ""
    for chunk in rich.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=10, stream=True, stream_options={"include_usage": True}
    ):
        if chunk.usage is not None:
            assert chunk.choices == [], chunk
            usage = chunk.usage
        for c in chunk.choices:
            text += c.delta.content or ""
    assert usage is not None and usage.completion_tokens > 0, usage
    assert text


@check("chat, streamed without include_usage: run id header, receipt lookup")
def _():
    # The stream declares usage trailers; the SDK must still parse it. The
    # X-Run-Id header names the receipt that says what was charged.
    with rich.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, max_tokens=7, stream=True
    ) as resp:
        run_id = resp.headers["x-run-id"]
        assert "x-usage-total-tokens" in resp.headers.get("trailer", "").lower(), resp.headers
        text = "".join(c.choices[0].delta.content or "" for c in resp.parse() if c.choices)
    assert text
    receipt = rich.get("/receipts/" + run_id, cast_to=object)
    assert receipt["run_id"] == run_id and receipt["receipt"]["output_tokens"] > 0, receipt
    assert not receipt["receipt"]["partial"], receipt


@check("completions")
def _():
    r = rich.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=5)
    assert r.choices[0].text and r.usage.completion_tokens > 0, r


@check("completions, streamed")
def _():
    text = "".join(c.choices[0].text for c in rich.completions.create(model=MODEL, prompt="Once", max_tokens=5, stream=True) if c.choices)
    assert text


@check("embeddings")
def _():
    r = rich.embeddings.create(model=MODEL, input=["alpha", "beta gamma"])
    assert len(r.data) == 2 and len(r.data[0].embedding) > 0, r
    assert r.usage.prompt_tokens > 0


@check("401 unknown key")
def _():
    try:
        client("sk-not-a-key-of-anyone").chat.completions.create(model=MODEL, messages=MESSAGES)
    except openai.AuthenticationError as e:
        assert e.status_code == 401 and e.code == "invalid_api_key", e
        return
    raise AssertionError("no 401")


@check("402 insufficient funds")
def _():
    try:
        client(os.environ["KEY_POOR"]).chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=500)
    except openai.APIStatusError as e:
        assert e.status_code == 402 and e.code == "insufficient_quota", e
        return
    raise AssertionError("no 402")


@check("404 unknown model")
def _():
    try:
        rich.chat.completions.create(model="no-such-model", messages=MESSAGES)
    except openai.NotFoundError as e:
        assert e.status_code == 404 and e.code == "model_not_found", e
        return
    raise AssertionError("no 404")


@check("400 absurd max_tokens")
def _():
    try:
        rich.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=10**9)
    except openai.BadRequestError as e:
        assert e.status_code == 400 and e.param == "max_tokens", e
        return
    raise AssertionError("no 400")


@check("503 no healthy worker")
def _():
    try:
        rich.chat.completions.create(model=os.environ["MODEL_DOWN"], messages=MESSAGES, max_tokens=5)
    except openai.InternalServerError as e:
        assert e.status_code == 503 and e.code == "no_healthy_worker", e
        return
    raise AssertionError("no 503")


@check("worker dies mid-stream: the client sees an error")
def _():
    got = ""
    try:
        for chunk in rich.chat.completions.create(model=os.environ["MODEL_DYING"], messages=MESSAGES, max_tokens=30, stream=True):
            for c in chunk.choices:
                got += c.delta.content or ""
    except openai.APIError as e:
        assert "not charged" in str(e), e
        return
    raise AssertionError("stream ended without an error; got %r" % got)


@check("mixture, split by weights")
def _():
    r = rich.chat.completions.create(model=os.environ["MODEL_MIX"], messages=MESSAGES, max_tokens=6)
    assert r.model == os.environ["MODEL_MIX"], r.model
    assert r.choices[0].message.content
    # Both the proposal and the aggregated answer were generated.
    assert r.usage.completion_tokens >= 2, r.usage
    results["mixture_usage"] = {"prompt_tokens": r.usage.prompt_tokens, "completion_tokens": r.usage.completion_tokens}


@check("mixture, streamed with include_usage")
def _():
    usage, text = None, ""
    for chunk in rich.chat.completions.create(
        model=os.environ["MODEL_MIX"], messages=MESSAGES, max_tokens=6, stream=True, stream_options={"include_usage": True}
    ):
        if chunk.usage is not None:
            usage = chunk.usage
        for c in chunk.choices:
            text += c.delta.content or ""
    assert usage is not None and text, (usage, text)
    results["mixture_stream_usage"] = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}


print(json.dumps({"openai": openai.__version__, "results": results}))
sys.exit(0)
