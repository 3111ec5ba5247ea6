#!/usr/bin/env bash
# Runs the demo on a local chain it starts itself (setting up on first use).
source "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup.sh"

step "Demo: protocol round trip on a fresh local chain"
go test -count=1 -v -run 'TestProtocolRoundTripOverJSONRPC|TestProgramErrorsComeBackByName' ./tests/foundation/
