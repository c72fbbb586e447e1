#!/usr/bin/env bash
# Set-up shared by every Makefile target, safe to run again (everything is cached
# under target/):
#   - system tools the build needs (cargo, a C and C++ compiler);
#   - libclang for bindgen: the system's, else apt-get (as root), else the `libclang`
#     wheel from PyPI unpacked into target/deps/libclang (no root, no apt needed);
#   - a Python virtual environment in target/venv (never the system's Python);
#   - the ONNX Runtime library, fetched from PyPI into target/deps.
# Prints the ONNX Runtime folder on stdout; everything else goes to stderr.
#   ORT_FLAVOR=cpu (default) | gpu   -- gpu takes onnxruntime-gpu (CUDA, TensorRT)
#   ORT_VERSION=1.31.1 (default)
#   SETUP_PYTHON="demo model"        -- also install these requirement groups
#                                       (tools/requirements-GROUP.txt) into the venv
#   SETUP_GL=1                        -- also offscreen OpenGL (EGL + Mesa) for the
#                                       overlay tests (make test sets it)
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION="${ORT_VERSION:-1.31.1}"
ORT_FLAVOR="${ORT_FLAVOR:-cpu}"
LIBCLANG_WHEEL_VERSION=18.1.1
DEPS="target/deps"
VENV="target/venv"
mkdir -p "$DEPS"

say() { echo "[setup] $*" >&2; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

# The libclang files bindgen (clang-sys) loads: libclang.so, libclang.so.N[.M],
# libclang-N.so[.M]. Never libclang-cpp.so, a different LLVM library.
libclang_in() {
    local dir="$1" f name
    for f in "$dir"/libclang.so "$dir"/libclang.so.* "$dir"/libclang-*.so "$dir"/libclang-*.so.*; do
        name=${f##*/}
        case "$name" in libclang-cpp*) continue ;; esac
        [ -e "$f" ] && return 0
    done
    return 1
}

have_libclang() {
    if [ -n "${LIBCLANG_PATH:-}" ]; then
        libclang_in "$LIBCLANG_PATH" && return 0
        die "LIBCLANG_PATH=$LIBCLANG_PATH holds no libclang.so; fix it or unset it"
    fi
    have_system_libclang || libclang_in "$DEPS/libclang"
}

have_system_libclang() {
    local dir
    for dir in /usr/lib/llvm-*/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
        libclang_in "$dir" && return 0
    done
    return 1
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ "${SETUP_NO_APT:-0}" != 1 ]; }

# Installs Debian packages when root; returns 1 (saying why) when it cannot.
try_apt() {
    can_apt || return 1
    say "installing $* with apt-get"
    apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
    apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$@" >/dev/null 2>&1 && return 0
    say "apt-get could not install $*"
    return 1
}

need_apt() { try_apt "$@" || die "missing $*: install it (e.g. 'sudo apt-get install -y $*') and run again"; }

command -v cargo >/dev/null || die "cargo is missing: install Rust (https://rustup.rs) and run again"
command -v cc >/dev/null || need_apt gcc
command -v g++ >/dev/null || need_apt g++   # tests/official_hostsupport.rs builds the official HostSupport host

# --- Python: one virtual environment under target/ -----------------------------
PY=$(command -v python3 || true)
[ -n "$PY" ] || { need_apt python3 python3-venv; PY=$(command -v python3); }
venv_ok() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }
if ! venv_ok; then
    say "creating the Python virtual environment $VENV"
    rm -rf "$VENV"
    if ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        # Debian splits venv/ensurepip into python3-venv (python3.X-venv).
        pyver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        try_apt "python$pyver-venv" || try_apt python3-venv \
            || die "python3 cannot create a virtual environment: install python3-venv (e.g. 'sudo apt-get install -y python$pyver-venv') and run again"
        "$PY" -m venv "$VENV" >/dev/null 2>&1 || die "python3 -m venv $VENV failed even with python3-venv installed"
    fi
    venv_ok || die "the virtual environment $VENV has no working pip"
fi
VPY="$VENV/bin/python"
pip_quiet() { "$VPY" -m pip --disable-pip-version-check --quiet "$@"; }

# Fetches one wheel (no dependencies) into target/deps/wheels and prints its path;
# pip's own output goes to target/deps/pip.log.
fetch_wheel() {
    local name="$1" version="$2" wheel
    wheel=$(ls "$DEPS"/wheels/"${name//-/_}"-"$version"-*.whl 2>/dev/null | head -n1 || true)
    if [ -z "$wheel" ]; then
        say "fetching $name $version from PyPI"
        mkdir -p "$DEPS/wheels"
        { pip_quiet download --no-deps --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64 \
            --dest "$DEPS/wheels" "$name==$version" \
            || pip_quiet download --no-deps --only-binary=:all: --dest "$DEPS/wheels" "$name==$version"; } \
            >"$DEPS/pip.log" 2>&1 || return 1
        wheel=$(ls "$DEPS"/wheels/"${name//-/_}"-"$version"-*.whl | head -n1)
    fi
    echo "$wheel"
}

# Unpacks the members of a wheel inside FOLDER whose file names start with a prefix.
unpack_wheel() {
    "$VPY" - "$@" <<'PYEOF'
import os, sys, zipfile
wheel, out, folder, *prefixes = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if ("/" + folder) in ("/" + name) and base.startswith(tuple(prefixes)):
            with open(os.path.join(out, base), "wb") as f:
                f.write(z.read(name))
PYEOF
}

# --- libclang for bindgen --------------------------------------------------------
if ! have_libclang; then
    try_apt libclang-dev || true
fi
if ! have_libclang; then
    wheel=$(fetch_wheel libclang "$LIBCLANG_WHEEL_VERSION") \
        || die "no libclang: install it ('sudo apt-get install -y libclang-dev'), or let PyPI be reached so the set-up can fetch the libclang wheel (pip said: $DEPS/pip.log)"
    rm -rf "$DEPS/libclang.tmp" && mkdir -p "$DEPS/libclang.tmp"
    unpack_wheel "$wheel" "$DEPS/libclang.tmp" clang/native/ libclang
    libclang_in "$DEPS/libclang.tmp" || die "the wheel $wheel holds no libclang.so"
    rm -rf "$DEPS/libclang" && mv "$DEPS/libclang.tmp" "$DEPS/libclang"
    say "libclang from the PyPI wheel is in $DEPS/libclang"
fi
# What cargo needs to see: the private libclang (for our build.rs and for
# openfx-sys's), with the C compiler's builtin headers the wheel lacks.
{
    echo "# Written by tools/setup.sh; sourced before cargo runs."
    private="$PWD/$DEPS/libclang"
    if [ "${LIBCLANG_PATH:-$private}" = "$private" ] && libclang_in "$private" && ! have_system_libclang; then
        echo "export LIBCLANG_PATH='$private'"
        echo "export BINDGEN_EXTRA_CLANG_ARGS='-isystem $(cc -print-file-name=include)'"
    fi
} >"$DEPS/env.sh"

# --- Offscreen OpenGL for the overlay tests (tests/overlay.rs) -------------------------
# EGL's surfaceless platform with Mesa's software rasteriser: no display, no GPU.
have_gl() {
    local libs
    libs=$(ldconfig -p 2>/dev/null) || return 1
    for lib in libEGL.so.1 libGL.so.1 libEGL_mesa.so.0; do
        grep -qE "[[:space:]]$lib[[:space:]]" <<<"$libs" || return 1
    done
}
if [ "${SETUP_GL:-0}" = 1 ] && ! have_gl; then
    try_apt libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri \
        || say "WARNING: no offscreen OpenGL (libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri): the overlay's OpenGL test will fail saying it could not run"
fi

# --- Python packages the tools need -------------------------------------------------
for group in ${SETUP_PYTHON:-}; do
    req="tools/requirements-$group.txt"
    [ -f "$req" ] || die "no requirement group '$group' ($req)"
    stamp="$VENV/.installed-$group"
    if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ]; then
        say "installing the Python packages of $req into $VENV"
        pip_quiet install -r "$req" >"$DEPS/pip.log" 2>&1 || die "pip could not install $req into $VENV (is PyPI reachable? pip said: $DEPS/pip.log)"
        touch "$stamp"
    fi
done

# --- ONNX Runtime --------------------------------------------------------------------
case "$ORT_FLAVOR" in
    cpu) WHEEL_NAME=onnxruntime ;;
    gpu) WHEEL_NAME=onnxruntime-gpu ;;
    *) die "ORT_FLAVOR must be cpu or gpu, not '$ORT_FLAVOR'" ;;
esac
ORT_DIR="$DEPS/onnxruntime-$ORT_FLAVOR-$ORT_VERSION"
if [ ! -f "$ORT_DIR/libonnxruntime.so.1" ]; then
    wheel=$(fetch_wheel "$WHEEL_NAME" "$ORT_VERSION") || die "pip could not download $WHEEL_NAME==$ORT_VERSION (is PyPI reachable? pip said: $DEPS/pip.log)"
    rm -rf "$ORT_DIR.tmp" && mkdir -p "$ORT_DIR.tmp"
    unpack_wheel "$wheel" "$ORT_DIR.tmp" onnxruntime/capi/ libonnxruntime.so libonnxruntime_providers_
    lib=$(ls "$ORT_DIR.tmp"/libonnxruntime.so.* 2>/dev/null | grep -v providers | head -n1 || true)
    [ -n "$lib" ] || die "the wheel $wheel holds no libonnxruntime.so"
    mv "$lib" "$ORT_DIR.tmp/libonnxruntime.so.1"
    rm -rf "$ORT_DIR" && mv "$ORT_DIR.tmp" "$ORT_DIR"
fi
echo "$ORT_DIR"
