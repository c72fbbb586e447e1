#!/usr/bin/env bash
# Set-up shared by every Makefile target: system packages the build needs and
# the ONNX Runtime library, fetched from PyPI into target/deps (cached there).
#   ORT_FLAVOR=cpu (default) | gpu   -- gpu takes onnxruntime-gpu (CUDA, TensorRT)
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION="${ORT_VERSION:-1.31.1}"
ORT_FLAVOR="${ORT_FLAVOR:-cpu}"
DEPS="target/deps"

say() { echo "[setup] $*" >&2; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

have_libclang() {
    [ -n "${LIBCLANG_PATH:-}" ] && return 0
    local f
    for f in /usr/lib/llvm-*/lib/libclang.so* /usr/lib/x86_64-linux-gnu/libclang-*.so* /usr/lib64/libclang.so*; do
        [ -e "$f" ] && return 0
    done
    return 1
}

apt_install() {
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing $* with apt-get"
        if ! { apt-get install -y -qq "$@" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$@" >/dev/null 2>&1; }; }; then
            die "apt-get could not install $*; install it and run again"
        fi
    else
        die "missing $*: install it (e.g. 'sudo apt-get install -y $*') and run again"
    fi
}

command -v cargo >/dev/null || die "cargo is missing: install Rust (https://rustup.rs) and run again"
command -v cc >/dev/null || apt_install gcc
command -v g++ >/dev/null || apt_install g++   # tests/official_hostsupport.rs builds the official HostSupport host
have_libclang || apt_install libclang-dev
have_libclang || die "libclang still not found; set LIBCLANG_PATH to the folder holding libclang.so"
PY=$(command -v python3 || true)
[ -n "$PY" ] || apt_install python3 python3-pip
PY=$(command -v python3)
"$PY" -m pip --version >/dev/null 2>&1 || apt_install python3-pip

case "$ORT_FLAVOR" in
    cpu) WHEEL_NAME=onnxruntime ;;
    gpu) WHEEL_NAME=onnxruntime-gpu ;;
    *) die "ORT_FLAVOR must be cpu or gpu, not '$ORT_FLAVOR'" ;;
esac
ORT_DIR="$DEPS/onnxruntime-$ORT_FLAVOR-$ORT_VERSION"
if [ ! -f "$ORT_DIR/libonnxruntime.so.1" ]; then
    say "fetching $WHEEL_NAME $ORT_VERSION from PyPI"
    mkdir -p "$DEPS/wheels" "$ORT_DIR.tmp"
    "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64 \
        --dest "$DEPS/wheels" "$WHEEL_NAME==$ORT_VERSION" \
        || "$PY" -m pip download --quiet --no-deps --dest "$DEPS/wheels" "$WHEEL_NAME==$ORT_VERSION" \
        || die "pip could not download $WHEEL_NAME==$ORT_VERSION (is PyPI reachable?)"
    wheel=$(ls "$DEPS"/wheels/"${WHEEL_NAME//-/_}"-"$ORT_VERSION"-*.whl | head -n1)
    "$PY" - "$wheel" "$ORT_DIR.tmp" <<'PYEOF'
import sys, zipfile, os
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if name.startswith("onnxruntime/capi/") and base.startswith(("libonnxruntime.so", "libonnxruntime_providers_")):
            with open(os.path.join(out, base), "wb") as f:
                f.write(z.read(name))
PYEOF
    lib=$(ls "$ORT_DIR.tmp"/libonnxruntime.so.* | grep -v providers | head -n1)
    [ -n "$lib" ] || die "the wheel $wheel holds no libonnxruntime.so"
    mv "$lib" "$ORT_DIR.tmp/libonnxruntime.so.1"
    rm -rf "$ORT_DIR" && mv "$ORT_DIR.tmp" "$ORT_DIR"
fi
echo "$ORT_DIR"
