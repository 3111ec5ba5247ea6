#!/usr/bin/env bash
# The whole test suite: set-up, Rust tests, generated-code sync, go vet, Go
# unit and localnet integration tests.
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup.sh"

step "Rust tests (programs, local chain)"
cargo test --locked --workspace

step "Generated code in sync"
"$ROOT/scripts/gen.sh" --check

step "go.mod tidy, go vet"
go mod tidy -diff
go vet ./...

step "Go tests (unit + localnet integration)"
go test -count=1 -timeout 30m ./...

# --- mt CLI fuzz targets (issue 6): each Fuzz* target under cli/ (and the swap quote in clients/rules, which the CLI uses) runs briefly
# (FUZZTIME, default 10s) on top of its seed corpus, which `go test` above
# already ran as unit tests.
step "Go fuzz targets (cli/, clients/rules, ${FUZZTIME:-10s} each)"
while read -r file; do
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    note "$(dirname "$file") $target"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME:-10s}" "./$(dirname "$file")"
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' cli clients/rules | sort)
# --- end of mt CLI fuzz targets

step "All tests passed"
