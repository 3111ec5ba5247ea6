#!/usr/bin/env bash
# Regenerates idl/*.json from the program sources and clients/* from the
# IDLs. With --check, fails if anything generated differs from what is
# committed (CI runs it that way).
#
#   ./scripts/gen.sh [--check] [program-dir...]   (default: every program)
source "$(dirname "$0")/lib.sh"

check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
programs=("$@")
[ ${#programs[@]} -gt 0 ] || programs=(programs/mt-treasury programs/inference-meter)

step "IDLs from program sources (tools/idlgen)"
cargo run --locked -q -p idlgen -- "${programs[@]}" --out idl

step "Go clients from IDLs (tools/clientgen: anchor-go + error tables)"
go run ./tools/clientgen

if [ "$check" = 1 ]; then
  step "Checking generated files are committed and current"
  if [ -n "$(git status --porcelain -- idl clients)" ]; then
    git status --porcelain -- idl clients
    git --no-pager diff --stat -- idl clients
    die "generated code is out of date: run ./scripts/gen.sh and commit the result"
  fi
  note "idl/ and clients/ match the program sources"
fi
