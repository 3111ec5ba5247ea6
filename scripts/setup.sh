#!/usr/bin/env bash
# Installs everything the demo and the tests need, pinned, from the package
# registries. Idempotent: a second run only checks and returns.
source "$(dirname "$0")/lib.sh"

# --llama-server also builds llama.cpp's server (once, about 10 minutes on 2
# cores): the tests, the benchmarks and the demo with --workers llama.cpp ask
# for it, so the default demo's first run does not wait for a server it does
# not use.
want_llama=0
for arg in "$@"; do
  case "$arg" in
    --llama-server) want_llama=1 ;;
    *) die "setup.sh: unknown argument $arg (the only one is --llama-server)" ;;
  esac
done

step "Checking base tools"
command -v go >/dev/null || die "Go is not installed (need go >= 1.25)"
command -v rustup >/dev/null || die "rustup is not installed"
command -v cc >/dev/null || die "no C compiler (install build-essential)"
command -v python3 >/dev/null || die "python3 is not installed"
go_version="$(go env GOVERSION)"
note "go: $go_version"
case "$go_version" in
  go1.2[5-9]*|go1.[3-9]*) ;;
  *) die "go >= 1.25 is required (found $go_version)" ;;
esac

step "Rust toolchain (rust-toolchain.toml)"
channel="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)"
if ! rustup run "$channel" rustc --version >/dev/null 2>&1; then
  note "installing Rust $channel"
  rustup toolchain install "$channel" --profile minimal --component rustfmt --component clippy
fi
note "$(rustc --version)"

step "Rust crates (Cargo.lock)"
cargo fetch --locked

step "Go modules (go.sum)"
go mod download

step "Building the local chain (cargo build -p localnet; the first build takes a few minutes)"
cargo build --locked -p localnet
mkdir -p bin
install -m 0755 "$CARGO_TARGET_DIR/debug/localnet" bin/localnet
note "bin/localnet ready"

# The programs' own rule code behind a line protocol: the property tests of
# clients/rules and clients/settlement compare the Go rules against it.
step "Building the rules oracle (cargo build -p rulesoracle)"
cargo build --locked -p rulesoracle
install -m 0755 "$CARGO_TARGET_DIR/debug/rulesoracle" bin/rulesoracle
note "bin/rulesoracle ready"

# --- keeper: Python openai client for the gateway tests (keepers/gateway) ---
# .venv (gitignored) holds the official openai package, pinned with every
# dependency in keepers/gateway/testdata/requirements.txt. Reinstalled only
# when that file changes.
step "Python venv with the openai client (.venv)"
keeper_req="keepers/gateway/testdata/requirements.txt"
keeper_stamp=".venv/.requirements.sha256"
keeper_want="$(sha256sum "$keeper_req" | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$keeper_stamp" 2>/dev/null)" != "$keeper_want" ]; then
  python3 -m venv .venv || die "python3 -m venv failed (install python3-venv)"
  .venv/bin/pip install --quiet --disable-pip-version-check --no-input -r "$keeper_req"
  printf '%s\n' "$keeper_want" > "$keeper_stamp"
fi
note "openai $(.venv/bin/python -c 'import openai; print(openai.__version__)')"
# --- end keeper section ---

# --- Solana Actions: Chromium for the browser test (tests/actions) ---
# Debian's chromium package, at the version the distribution's (security)
# repository pins; apt-get runs only when it is missing.
step "Chromium (headless browser test of mt serve-actions)"
if ! command -v chromium >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "chromium is missing and apt-get is not available: install Debian's chromium package"
  apt_get() {
    if [ "$(id -u)" -eq 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
    else die "installing chromium needs root (or sudo)"; fi
  }
  note "installing Debian's chromium (apt-get)"
  apt_get update -qq
  apt_get install -y -qq chromium
fi
note "$(chromium --version 2>/dev/null | head -n 1)"
# --- end Solana Actions section ---

# --- llama.cpp: the real inference server (tests/keeper's llama.cpp test,
# mcdemo --workers llama.cpp, keeperbench llamacpp) ---
# scripts/llama-server.sh holds the pins and the build (shared with
# tools/fixturecap/record.sh); it does nothing when its stamps match. The
# build's output goes to a log; a failure is one line naming it.
if [ "$want_llama" = 1 ]; then
  step "llama.cpp llama-server (for the real-server tests)"
  # shellcheck source=llama-server.sh
  source "$ROOT/scripts/llama-server.sh"
  if ! llama_server_ready; then
    command -v cmake >/dev/null || die "cmake is not installed (needed once to build llama-server; install cmake)"
    command -v c++ >/dev/null || die "no C++ compiler (needed once to build llama-server; install build-essential)"
    note "one-time build into $FIXTURECAP_CACHE (about 10 minutes on 2 cores; later runs reuse it)"
    mkdir -p "$FIXTURECAP_CACHE"
    llama_log_file="$FIXTURECAP_CACHE/setup.log"
    if ! "$ROOT/scripts/llama-server.sh" >"$llama_log_file" 2>&1; then
      # The first error line (cmake, the compiler, pip) says why; else the last line.
      why="$(grep -m1 -iE 'error|fatal|not found|no such' "$llama_log_file" || grep -v '^\s*$' "$llama_log_file" | tail -n 1)"
      die "building llama-server failed: $(printf '%s' "$why" | tr -s ' \t' ' ') (full log: $llama_log_file)"
    fi
  fi
  mkdir -p bin
  ln -sf "$LLAMA_SERVER" bin/llama-server
  note "$(bin/llama-server --version 2>&1 | grep -m1 '^version'); model $LLAMA_MODEL"
fi
# --- end llama.cpp section ---

step "Setup complete"
