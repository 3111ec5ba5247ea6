#!/usr/bin/env bash
# record.sh — record REAL responses of llama.cpp's llama-server and Ollama
# as test fixtures for keepers/workers (see keepers/workers/testdata/README.md).
#
# Not run by CI. Needs: bash, curl, python3 (with venv), cmake >= 3.14, a
# C/C++ compiler, go (cgo), network access to PyPI and the Go module proxy.
# No GPU: both servers run on the CPU with a tiny random-weight model that
# tinymodel.py writes (its output text is garbage; the point is the servers'
# real wire format and their real usage / timings numbers).
#
#   tools/fixturecap/record.sh            # build what is missing, record all
#   tools/fixturecap/record.sh llamacpp   # only llama.cpp
#   tools/fixturecap/record.sh ollama     # only Ollama
#
# Everything downloaded or built goes to $FIXTURECAP_CACHE (default
# ~/.cache/modelcommons/fixturecap); nothing but the captured bodies and
# VERSION files is written to the repository:
#   keepers/workers/testdata/llamacpp/captured/
#   keepers/workers/testdata/ollama/captured/
# Idempotent: builds are skipped when their binary exists, captures are
# overwritten. Each capture is the response body exactly as the server wrote
# it (curl -sN, no reformatting); the script fails if a status code is not
# the expected one.
#
# Pinned versions:
#   llama.cpp  — the tree vendored by the llama-cpp-python 0.3.36 sdist
#                (ggml-org/llama.cpp@0c1e57098 per its CHANGELOG), server
#                target llama-server only; gguf-py from the same tree.
#   Ollama     — github.com/ollama/ollama v0.17.4 from the Go module proxy,
#                built with `go build` (cgo, vendored ggml, CPU backend).
#                The module zip omits every vendor/ directory, so the
#                header-only libraries Ollama's llama.cpp copy includes
#                (nlohmann/json, stb, miniaudio) are copied from the same
#                llama.cpp tree before building.
#   numpy 2.2.6, PyYAML 6.0.2 in a private venv for gguf-py.
#
# vLLM is not recorded: it needs CUDA, or a long CPU source build with torch.
set -euo pipefail

OLLAMA_VERSION=v0.17.4
SEED=42
MAX_TOKENS=8

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# The llama.cpp pins, its fetch and build and the tiny model: one copy,
# shared with scripts/setup.sh.
# shellcheck source=../../scripts/llama-server.sh
source "$REPO/scripts/llama-server.sh"
CACHE=$FIXTURECAP_CACHE
OUT_LLAMA=$REPO/keepers/workers/testdata/llamacpp/captured
OUT_OLLAMA=$REPO/keepers/workers/testdata/ollama/captured
WHAT=${1:-all}

mkdir -p "$CACHE"
log() { printf '[fixturecap] %s\n' "$*" >&2; }

PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_status URL STATUS SECONDS: wait until URL answers STATUS.
wait_status() {
	local i
	for ((i = 0; i < $3 * 4; i++)); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = "$2" ]; then
			return 0
		fi
		sleep 0.25
	done
	log "timeout waiting for HTTP $2 from $1"
	return 1
}

# wait_http URL SECONDS: wait until URL answers 200.
wait_http() { wait_status "$1" 200 "$2"; }

# capture FILE WANT_STATUS METHOD URL [JSON_BODY]: raw body to FILE.
capture() {
	local file=$1 want=$2 method=$3 url=$4 body=${5:-}
	local code
	if [ -n "$body" ]; then
		code=$(curl -sN -X "$method" -H 'Content-Type: application/json' --data-binary "$body" -o "$file" -w '%{http_code}' "$url")
	else
		code=$(curl -sN -X "$method" -o "$file" -w '%{http_code}' "$url")
	fi
	if [ "$code" != "$want" ]; then
		log "$(basename "$file"): HTTP $code, want $want:"
		cat "$file" >&2
		exit 1
	fi
	log "$(basename "$file"): HTTP $code, $(wc -c <"$file") bytes"
	printf '%-26s %s %s -> HTTP %s\n' "$(basename "$file")" "$method" "${url#http://127.0.0.1:*/}" "$code" >>"$RECORD_LOG"
	if [ -n "$body" ]; then
		printf '%-26s   body: %s\n' "" "$body" >>"$RECORD_LOG"
	fi
}

# --- sources and builds -----------------------------------------------------

OLLAMA_SRC=$CACHE/src/ollama-$OLLAMA_VERSION
OLLAMA_BIN=$CACHE/bin/ollama-$OLLAMA_VERSION
MODEL=$LLAMA_MODEL

build_ollama() {
	[ -x "$OLLAMA_BIN" ] && return
	log "building ollama $OLLAMA_VERSION"
	if [ ! -f "$OLLAMA_SRC/go.mod" ]; then
		local dir
		dir=$(cd "$CACHE" && GO111MODULE=on GOFLAGS=-mod=mod go mod download -json "github.com/ollama/ollama@$OLLAMA_VERSION" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
		mkdir -p "$CACHE/src"
		cp -r "$dir" "$OLLAMA_SRC.tmp"
		chmod -R u+w "$OLLAMA_SRC.tmp"
		# Module zips drop vendor/ directories: restore the header-only
		# libraries from the pinned llama.cpp tree.
		mkdir -p "$OLLAMA_SRC.tmp/llama/llama.cpp/vendor"
		cp -r "$LLAMA_SRC/vendor/nlohmann" "$LLAMA_SRC/vendor/stb" "$LLAMA_SRC/vendor/miniaudio" \
			"$OLLAMA_SRC.tmp/llama/llama.cpp/vendor/"
		mv "$OLLAMA_SRC.tmp" "$OLLAMA_SRC"
	fi
	mkdir -p "$CACHE/bin"
	(cd "$OLLAMA_SRC" && CGO_ENABLED=1 GOFLAGS=-mod=mod go build \
		-ldflags "-s -w -X github.com/ollama/ollama/version.Version=${OLLAMA_VERSION#v}" \
		-o "$OLLAMA_BIN" .) >&2
}

# --- requests ---------------------------------------------------------------

MSG='"messages":[{"role":"user","content":"Hello, who are you?"}]'
SAMPLING="\"max_tokens\":$MAX_TOKENS,\"temperature\":0,\"seed\":$SEED"
CHAT="{\"model\":\"tiny\",$MSG,$SAMPLING}"
CHAT_STREAM="{\"model\":\"tiny\",$MSG,$SAMPLING,\"stream\":true}"
CHAT_STREAM_USAGE="{\"model\":\"tiny\",$MSG,$SAMPLING,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"
COMPL="{\"model\":\"tiny\",\"prompt\":\"The quick brown fox\",$SAMPLING}"
COMPL_STREAM="{\"model\":\"tiny\",\"prompt\":\"The quick brown fox\",$SAMPLING,\"stream\":true}"
COMPL_STREAM_USAGE="{\"model\":\"tiny\",\"prompt\":\"The quick brown fox\",$SAMPLING,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"
EMBED='{"model":"tiny","input":"The quick brown fox"}'
BAD_REQUEST='{"model":"tiny","messages":"not a list"}'

common_captures() { # DIR BASE
	local d=$1 b=$2
	capture "$d/chat.json" 200 POST "$b/v1/chat/completions" "$CHAT"
	capture "$d/chat_stream_usage.sse" 200 POST "$b/v1/chat/completions" "$CHAT_STREAM_USAGE"
	capture "$d/chat_stream.sse" 200 POST "$b/v1/chat/completions" "$CHAT_STREAM"
	capture "$d/completions.json" 200 POST "$b/v1/completions" "$COMPL"
	capture "$d/completions_stream_usage.sse" 200 POST "$b/v1/completions" "$COMPL_STREAM_USAGE"
	capture "$d/completions_stream.sse" 200 POST "$b/v1/completions" "$COMPL_STREAM"
}

record_llamacpp() {
	fetch_llama_cpp
	build_llama_server
	make_model
	mkdir -p "$OUT_LLAMA"
	RECORD_LOG=$(mktemp)
	local port eport version args eargs largs
	port=$(free_port)
	args=(-m "$MODEL" -a tiny --host 127.0.0.1 --port "$port" -c 512 -np 1 -t 2 --seed $SEED)
	log "llama-server ${args[*]}"
	"$LLAMA_SERVER" "${args[@]}" >"$CACHE/llama-server.log" 2>&1 &
	PIDS+=($!)
	wait_http "http://127.0.0.1:$port/health" 120
	capture "$OUT_LLAMA/health.json" 200 GET "http://127.0.0.1:$port/health"
	common_captures "$OUT_LLAMA" "http://127.0.0.1:$port"
	capture "$OUT_LLAMA/error_400.json" 400 POST "http://127.0.0.1:$port/v1/chat/completions" "$BAD_REQUEST"

	# /health while the model loads (503). The server listens before it
	# loads the model; a model path that is a FIFO nobody writes to holds it
	# in that state for as long as the capture takes.
	local lport lfifo
	lport=$(free_port)
	lfifo=$(mktemp -u "$CACHE/loading.XXXXXX")
	mkfifo "$lfifo"
	largs=(-m "$lfifo" -a tiny --host 127.0.0.1 --port "$lport" -c 512 -np 1 -t 2 --seed $SEED)
	log "llama-server ${largs[*]}"
	"$LLAMA_SERVER" "${largs[@]}" >"$CACHE/llama-server-loading.log" 2>&1 &
	PIDS+=($!)
	wait_status "http://127.0.0.1:$lport/health" 503 60
	capture "$OUT_LLAMA/health_loading.json" 503 GET "http://127.0.0.1:$lport/health"
	kill "${PIDS[-1]}" 2>/dev/null || true
	rm -f "$lfifo"

	# Embeddings need a server started with --embeddings and a pooling type
	# (the tiny llama model has none of its own).
	eport=$(free_port)
	eargs=(-m "$MODEL" -a tiny --host 127.0.0.1 --port "$eport" -c 512 -np 1 -t 2 --seed $SEED --embeddings --pooling mean)
	log "llama-server ${eargs[*]}"
	"$LLAMA_SERVER" "${eargs[@]}" >"$CACHE/llama-server-embeddings.log" 2>&1 &
	PIDS+=($!)
	wait_http "http://127.0.0.1:$eport/health" 120
	capture "$OUT_LLAMA/embeddings.json" 200 POST "http://127.0.0.1:$eport/v1/embeddings" "$EMBED"

	version=$("$LLAMA_SERVER" --version 2>&1 | grep -iE '^(version|built)' || true)
	{
		echo "server:   llama.cpp llama-server"
		echo "$version" | sed 's/^/          /'
		echo "source:   llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist, vendor/llama.cpp (ggml-org/llama.cpp@$LLAMA_CPP_COMMIT)"
		echo "build:    cmake --target llama-server, CPU only, GGML_NATIVE=OFF; the sdist is no git checkout of"
		echo "          llama.cpp, so the build number (b1 in system_fingerprint) is not upstream's; the commit"
		echo "          is set with -DLLAMA_BUILD_COMMIT from the sdist's CHANGELOG"
		echo "model:    tools/fixturecap/tinymodel.py (random weights, seed default), sha256 $(sha256sum "$MODEL" | cut -d' ' -f1)"
		echo "server:   llama-server ${args[*]/#$CACHE/\$CACHE}"
		echo "loading:  llama-server -m <a FIFO nobody writes to> ${largs[*]:2} (health_loading.json)"
		echo "embed:    llama-server ${eargs[*]/#$CACHE/\$CACHE}"
		echo "recorded: $(date -u +%Y-%m-%dT%H:%M:%SZ) by tools/fixturecap/record.sh (curl -sN, bodies as written)"
		echo
		echo "requests:"
		sed 's/^/  /' "$RECORD_LOG"
	} >"$OUT_LLAMA/VERSION"
	rm -f "$RECORD_LOG"
	cleanup
	PIDS=()
}

record_ollama() {
	fetch_llama_cpp # headers for the Ollama build, gguf-py for the model
	build_ollama
	make_model
	mkdir -p "$OUT_OLLAMA"
	RECORD_LOG=$(mktemp)
	local tmp port base
	tmp=$(mktemp -d "$CACHE/ollama-run.XXXXXX")
	port=$(free_port)
	base=http://127.0.0.1:$port
	cat >"$tmp/Modelfile" <<EOF
FROM $MODEL
TEMPLATE """{{- range .Messages }}<|{{ .Role }}|>{{ .Content }}<|eos|>{{ end }}<|assistant|>"""
PARAMETER stop <|eos|>
PARAMETER num_ctx 512
EOF
	export OLLAMA_HOST=127.0.0.1:$port OLLAMA_MODELS=$tmp/models OLLAMA_NUM_PARALLEL=1 \
		OLLAMA_NOPRUNE=1 OLLAMA_KEEP_ALIVE=5m HOME=$tmp/home
	mkdir -p "$HOME"
	log "ollama serve on $OLLAMA_HOST (models in $OLLAMA_MODELS)"
	"$OLLAMA_BIN" serve >"$CACHE/ollama-serve.log" 2>&1 &
	PIDS+=($!)
	wait_http "$base/api/version" 60
	"$OLLAMA_BIN" create tiny -f "$tmp/Modelfile" >&2
	capture "$OUT_OLLAMA/version.json" 200 GET "$base/api/version"
	common_captures "$OUT_OLLAMA" "$base"
	capture "$OUT_OLLAMA/embeddings.json" 200 POST "$base/v1/embeddings" "$EMBED"
	capture "$OUT_OLLAMA/error_400.json" 400 POST "$base/v1/chat/completions" "$BAD_REQUEST"
	{
		echo "server:   Ollama, $("$OLLAMA_BIN" --version 2>&1 | tail -1)"
		echo "source:   github.com/ollama/ollama $OLLAMA_VERSION (Go module proxy), go build with cgo, CPU backend;"
		echo "          vendor headers (nlohmann, stb, miniaudio) from llama.cpp@$LLAMA_CPP_COMMIT (module zips drop vendor/)"
		echo "go:       $(go version)"
		if grep -q 'runner --ollama-engine --model' "$CACHE/ollama-serve.log"; then
			echo "runner:   Ollama engine (ollama runner --ollama-engine --model ...)"
		else
			echo "runner:   llama.cpp-based runner (ollama runner --model ...), which Ollama picked for this model"
		fi
		echo "model:    tools/fixturecap/tinymodel.py (random weights, seed default), sha256 $(sha256sum "$MODEL" | cut -d' ' -f1)"
		echo "server:   OLLAMA_MODELS=<tmp> OLLAMA_NUM_PARALLEL=1 ollama serve; ollama create tiny -f Modelfile:"
		sed 's/^/            /; s#'"$MODEL"'#$CACHE/tiny.gguf#' "$tmp/Modelfile"
		echo "recorded: $(date -u +%Y-%m-%dT%H:%M:%SZ) by tools/fixturecap/record.sh (curl -sN, bodies as written)"
		echo
		echo "requests:"
		sed 's/^/  /' "$RECORD_LOG"
	} >"$OUT_OLLAMA/VERSION"
	rm -f "$RECORD_LOG"
	cleanup
	PIDS=()
	rm -rf "$tmp"
}

case $WHAT in
all) record_llamacpp; record_ollama ;;
llamacpp) record_llamacpp ;;
ollama) record_ollama ;;
*) echo "usage: $0 [all|llamacpp|ollama]" >&2; exit 2 ;;
esac
log "done; run: go test ./keepers/workers/..."
