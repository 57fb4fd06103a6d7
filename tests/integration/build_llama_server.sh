#!/usr/bin/env bash
# Build llama.cpp's own `llama-server` once and cache it; print the binary's path (last line).
#
# Source: the llama.cpp tree that llama-cpp-python's source distribution vendors
# (vendor/llama.cpp), at the version of llama-cpp-python installed in the active Python, so the
# binary matches the library the other integration tests run and only PyPI is needed.
# CPU only, Release, no network at build time (no curl, no OpenSSL, no prebuilt web UI).
#
# Cache: ${LMDOCTOR_CI_CACHE:-${XDG_CACHE_HOME:-~/.cache}/lmdoctor-ci}/llama-server-<version>/
# A cached binary is reused when it still runs (`--version`); otherwise it is rebuilt.
#
# Knobs: PYTHON (default python3), LLAMA_CPP_PYTHON_VERSION (default: the installed one),
#        CMAKE_BUILD_PARALLEL_LEVEL (default 2).
set -euo pipefail

PYTHON=${PYTHON:-python3}
VERSION=${LLAMA_CPP_PYTHON_VERSION:-$("$PYTHON" -c \
    'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null || true)}
if [ -z "$VERSION" ]; then
    echo "build_llama_server: llama-cpp-python is not installed in $PYTHON" \
         "(pip install -e '.[integration]')" >&2
    exit 1
fi
CACHE_ROOT=${LMDOCTOR_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lmdoctor-ci}
DEST=$CACHE_ROOT/llama-server-$VERSION
BIN=$DEST/llama-server

if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
    echo "$BIN"
    exit 0
fi

mkdir -p "$CACHE_ROOT"
WORK=$(mktemp -d "$CACHE_ROOT/build-$VERSION.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOG=$CACHE_ROOT/llama-server-$VERSION.build.log
started=$SECONDS
echo "build_llama_server: building llama-server from llama-cpp-python $VERSION" \
     "(log: $LOG)" >&2
{
    # The sdist, not a wheel: only the sdist carries the llama.cpp sources.
    "$PYTHON" -m pip download -q --no-deps --no-binary :all: \
        "llama-cpp-python==$VERSION" -d "$WORK/sdist"
    tar -xzf "$WORK"/sdist/llama_cpp_python-*.tar.gz -C "$WORK"
    SRC=$(echo "$WORK"/llama_cpp_python-*/vendor/llama.cpp)
    cmake -S "$SRC" -B "$WORK/build" \
        -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
        -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON
    cmake --build "$WORK/build" --target llama-server \
        -j "${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
} >"$LOG" 2>&1 || {
    echo "build_llama_server: build failed; last lines of $LOG:" >&2
    tail -n 40 "$LOG" >&2
    exit 1
}
mkdir -p "$DEST"
cp "$WORK/build/bin/llama-server" "$BIN.tmp"
mv -f "$BIN.tmp" "$BIN"  # atomic: a concurrent reader sees the old binary or the new one
echo "build_llama_server: built in $((SECONDS - started)) s" >&2
"$BIN" --version >&2 || true
echo "$BIN"
