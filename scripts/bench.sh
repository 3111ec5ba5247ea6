#!/usr/bin/env bash
# The benchmark report: compute units and settlement density of the programs,
# gateway overhead against the worker alone and against a LiteLLM proxy in
# the same run, journal throughput and size, end-to-end requests/s with
# settlement on a local chain, and keeper memory under 1 000 streaming
# clients. Prints the table and writes bench-out/report.md (+ report.json).
# Everything runs on 127.0.0.1, bounded in time (about 10 minutes on 2 cores).
# Flags are passed to tools/benchreport (e.g. --skip-load, --gateway-rates).
# MC_RPC_URL=<an SBF validator> gives real compute units.
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup.sh" --llama-server

# LiteLLM, pinned with every dependency, in its own venv keyed by the
# requirements file's hash: installed once, checked on later runs.
step "LiteLLM proxy (peer baseline), pinned, in its own venv"
req="tools/benchreport/litellm-requirements.txt"
want="$(sha256sum "$req" | cut -d' ' -f1)"
venv="${LITELLM_VENV:-$HOME/.cache/modelcommons/litellm-${want:0:12}}"
if [ ! -x "$venv/bin/litellm" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
  note "installing into $venv (a few minutes the first time)"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input --no-deps -r "$req"
  printf '%s\n' "$want" > "$venv/.requirements.sha256"
fi
note "litellm $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')"

step "Building mt, keeper and workersim (bin/)"
mkdir -p bin
for cmd in mt keeper workersim; do
  go build -o "bin/$cmd" "./cmd/$cmd"
done

step "Benchmarks"
go run ./tools/benchreport --bin bin --litellm "$venv" "$@"
