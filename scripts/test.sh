#!/usr/bin/env bash
# The whole test suite: set-up, Rust tests, generated-code sync, go vet, Go
# unit and localnet integration tests.
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup.sh"

step "Rust tests (programs, local chain)"
cargo test --locked --workspace

step "Generated code in sync"
"$ROOT/scripts/gen.sh" --check

step "go vet"
go vet ./...

step "Go tests (unit + localnet integration)"
go test -count=1 -timeout 30m ./...

step "All tests passed"
