#!/usr/bin/env bash
# llama-server.sh — the one copy of how llama.cpp's llama-server and the tiny
# test model are fetched, built and written. scripts/setup.sh runs it (the
# real-server tests, the demo's --workers llama.cpp, keeperbench llamacpp);
# tools/fixturecap/record.sh sources it, so the fixtures and the tests use
# the same binary and the same model.
#
#   scripts/llama-server.sh          # build what is missing (idempotent)
#   scripts/llama-server.sh --paths  # print LLAMA_SERVER=… and LLAMA_MODEL=…
#
# Pinned: llama.cpp is the tree vendored by the llama-cpp-python 0.3.36 sdist
# (ggml-org/llama.cpp@0c1e57098 per its CHANGELOG), built for the CPU with
# cmake, target llama-server only; gguf-py from the same tree writes the
# model (tools/fixturecap/tinymodel.py) in a private venv with numpy 2.2.6
# and PyYAML 6.0.2. Everything goes to $FIXTURECAP_CACHE (default
# ~/.cache/modelcommons/fixturecap). A stamp file next to each output names
# the pins it was made with; a run whose stamps match does nothing.
#
# Needs: python3 (pip, venv), cmake >= 3.14, a C/C++ compiler, network
# access to PyPI the first time.

LLAMA_CPP_PYTHON_VERSION=0.3.36
LLAMA_CPP_COMMIT=0c1e57098
NUMPY_VERSION=2.2.6
PYYAML_VERSION=6.0.2
# The model the captures were recorded with (keepers/workers/testdata/
# llamacpp/captured/VERSION): tinymodel.py is byte-for-byte reproducible.
TINY_MODEL_SHA256=2d9c25b01a1e97882644d4610b2eb09192fc5b2b8487c780e572731262362853

LLAMA_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FIXTURECAP_CACHE=${FIXTURECAP_CACHE:-$HOME/.cache/modelcommons/fixturecap}
LLAMA_JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
LLAMA_SRC=$FIXTURECAP_CACHE/src/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp
LLAMA_BUILD=$FIXTURECAP_CACHE/build/llama.cpp-$LLAMA_CPP_COMMIT
LLAMA_SERVER=$LLAMA_BUILD/bin/llama-server
LLAMA_VENV=$FIXTURECAP_CACHE/venv
LLAMA_MODEL=$FIXTURECAP_CACHE/tiny.gguf

# CPU only, no TLS, no web UI, static: the server binary and nothing else.
# GGML_NATIVE=OFF keeps the kernels (and so the recorded numbers) the same
# on every x86-64 machine.
LLAMA_CMAKE_FLAGS=(
	-DCMAKE_BUILD_TYPE=Release
	-DLLAMA_BUILD_COMMIT=$LLAMA_CPP_COMMIT -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=OFF
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF
	-DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DBUILD_SHARED_LIBS=OFF
)
LLAMA_SERVER_STAMP="llama.cpp $LLAMA_CPP_COMMIT (llama-cpp-python $LLAMA_CPP_PYTHON_VERSION) ${LLAMA_CMAKE_FLAGS[*]}"
LLAMA_MODEL_STAMP="tinymodel.py $(sha256sum "$LLAMA_LIB_DIR/../tools/fixturecap/tinymodel.py" | cut -d' ' -f1) numpy $NUMPY_VERSION pyyaml $PYYAML_VERSION"

llama_log() { printf '[llama-server] %s\n' "$*" >&2; }

# stamp_ok FILE WANT: FILE holds exactly WANT.
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

fetch_llama_cpp() {
	[ -f "$LLAMA_SRC/CMakeLists.txt" ] && return
	llama_log "downloading the llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist (llama.cpp@$LLAMA_CPP_COMMIT) from PyPI"
	mkdir -p "$FIXTURECAP_CACHE/dl" "$FIXTURECAP_CACHE/src"
	python3 -m pip download --disable-pip-version-check "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" \
		--no-deps --no-binary :all: -d "$FIXTURECAP_CACHE/dl" >&2
	tar -xzf "$FIXTURECAP_CACHE/dl/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz" -C "$FIXTURECAP_CACHE/src"
}

build_llama_server() {
	if [ -x "$LLAMA_SERVER" ] && stamp_ok "$LLAMA_SERVER.stamp" "$LLAMA_SERVER_STAMP"; then
		return
	fi
	llama_log "building llama-server (one-time: about 10 minutes on 2 cores, cached in $LLAMA_BUILD)"
	cmake -S "$LLAMA_SRC" -B "$LLAMA_BUILD" "${LLAMA_CMAKE_FLAGS[@]}" >&2
	cmake --build "$LLAMA_BUILD" --target llama-server -j "$LLAMA_JOBS" >&2
	printf '%s\n' "$LLAMA_SERVER_STAMP" >"$LLAMA_SERVER.stamp"
}

make_model() {
	if [ -f "$LLAMA_MODEL" ] && stamp_ok "$LLAMA_MODEL.stamp" "$LLAMA_MODEL_STAMP"; then
		return
	fi
	if [ ! -x "$LLAMA_VENV/bin/python" ]; then
		python3 -m venv "$LLAMA_VENV"
		"$LLAMA_VENV/bin/pip" install -q --disable-pip-version-check "numpy==$NUMPY_VERSION" "pyyaml==$PYYAML_VERSION" >&2
	fi
	llama_log "writing the tiny model $LLAMA_MODEL"
	"$LLAMA_VENV/bin/python" "$LLAMA_LIB_DIR/../tools/fixturecap/tinymodel.py" \
		--gguf-py "$LLAMA_SRC/gguf-py" --out "$LLAMA_MODEL" >&2
	local sum
	sum=$(sha256sum "$LLAMA_MODEL" | cut -d' ' -f1)
	if [ "$sum" != "$TINY_MODEL_SHA256" ]; then
		llama_log "the tiny model's sha256 is $sum, the captures' is $TINY_MODEL_SHA256 (numpy or gguf-py differ?)"
		return 1
	fi
	printf '%s\n' "$LLAMA_MODEL_STAMP" >"$LLAMA_MODEL.stamp"
}

# llama_server_ready: the binary and the model exist and match the pins.
llama_server_ready() {
	[ -x "$LLAMA_SERVER" ] && stamp_ok "$LLAMA_SERVER.stamp" "$LLAMA_SERVER_STAMP" &&
		[ -f "$LLAMA_MODEL" ] && stamp_ok "$LLAMA_MODEL.stamp" "$LLAMA_MODEL_STAMP"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case ${1:-} in
	--paths)
		printf 'LLAMA_SERVER=%s\nLLAMA_MODEL=%s\n' "$LLAMA_SERVER" "$LLAMA_MODEL"
		;;
	"")
		llama_server_ready && exit 0
		fetch_llama_cpp
		build_llama_server
		make_model
		;;
	*)
		echo "usage: $0 [--paths]" >&2
		exit 2
		;;
	esac
fi
