#!/usr/bin/env bash
# Runs the demo on a local chain it starts itself (setting up on first use):
# the protocol with a native token, two models launched from spec files and
# crowdfunded, a keeper with two simulated GPU workers settling real OpenAI
# SDK requests, the money trail checked to the base unit, a governance price
# change and a swap. Exits non-zero if any check fails; the money trail is
# left in demo-out/money-trail.json. Flags are passed to cmd/mcdemo
# (--short, --no-color, --out DIR, --url RPC to use a running local chain,
# --workers llama.cpp for real llama-server workers instead of workersim).
source "$(dirname "$0")/lib.sh"

# The real llama-server is built (once) only for a demo that uses it.
setup_args=()
prev=""
for arg in "$@"; do
  case "$prev=$arg" in
    --workers=llama.cpp|-workers=llama.cpp|*=--workers=llama.cpp|*=-workers=llama.cpp) setup_args=(--llama-server) ;;
  esac
  prev="$arg"
done
"$ROOT/scripts/setup.sh" "${setup_args[@]}"

step "Building mt, keeper, workersim and the demo (bin/)"
mkdir -p bin
for cmd in mt keeper workersim mcdemo; do
  go build -o "bin/$cmd" "./cmd/$cmd"
done

step "Demo"
# exec: Ctrl-C reaches the demo, which stops every process it started.
exec "$ROOT/bin/mcdemo" --bin bin "$@"
