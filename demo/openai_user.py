"""The demo's API user: sends chat requests to a keeper with the official
OpenAI Python client, exactly as any application would.

Run by demo/driver (cmd/mcdemo, tests/e2e) with the repository's .venv:

  KEEPER_URL   the keeper's API base URL (without /v1)
  API_KEY      the key `mt escrow open` printed

stdin is a JSON list of requests: {"name", "model", "stream", "max_tokens",
"prompt"}. For each request one JSON line is printed: the model, whether it
streamed, the keeper's run id (X-Run-Id), the usage the client saw, the
answer's length, or the HTTP status and OpenAI error code when it failed.
The last line is {"openai": <version>, "requests": <n>}. Exit status 0
unless the client itself broke (a refused request is a result, not a crash).
"""

import json
import os
import sys

import openai


def main():
    client = openai.OpenAI(
        base_url=os.environ["KEEPER_URL"] + "/v1",
        api_key=os.environ["API_KEY"],
        max_retries=0,
        timeout=60,
    )
    plan = json.load(sys.stdin)
    for req in plan:
        out = {"name": req.get("name", ""), "model": req["model"], "stream": bool(req.get("stream"))}
        messages = [
            {"role": "system", "content": "You are a helpful, terse assistant."},
            {"role": "user", "content": req.get("prompt", "Say hello.")},
        ]
        try:
            if req.get("stream"):
                raw = client.chat.completions.with_raw_response.create(
                    model=req["model"],
                    messages=messages,
                    max_tokens=req.get("max_tokens", 32),
                    stream=True,
                    stream_options={"include_usage": True},
                )
                out["run_id"] = raw.headers.get("x-run-id", "")
                text, usage, chunks = "", None, 0
                for chunk in raw.parse():
                    chunks += 1
                    if chunk.usage is not None:
                        usage = chunk.usage
                    for c in chunk.choices:
                        text += c.delta.content or ""
                out["chunks"] = chunks
            else:
                raw = client.chat.completions.with_raw_response.create(
                    model=req["model"], messages=messages, max_tokens=req.get("max_tokens", 32)
                )
                out["run_id"] = raw.headers.get("x-run-id", "")
                r = raw.parse()
                text, usage = r.choices[0].message.content or "", r.usage
            out["ok"] = True
            out["status"] = 200
            out["text_chars"] = len(text)
            out["answer"] = text[:80]
            if usage is not None:
                out["usage"] = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
        except openai.APIStatusError as e:
            out.update(ok=False, status=e.status_code, error_code=getattr(e, "code", None), error=str(e)[:300])
        except openai.APIError as e:  # e.g. an error event mid-stream
            out.update(ok=False, status=0, error_code=getattr(e, "code", None), error=str(e)[:300])
        print(json.dumps(out), flush=True)
    print(json.dumps({"openai": openai.__version__, "requests": len(plan)}), flush=True)


if __name__ == "__main__":
    main()
