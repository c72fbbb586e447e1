#!/usr/bin/env bash
# `make fresh-machine` (CI runs it after `make test`): the set-up on a machine
# that lacks what the developers' machines have, proved in private mount
# namespaces so that nothing is removed from this machine:
#   1. no libclang, no apt (as a user without root would be): the set-up fetches
#      the libclang wheel into target/deps/libclang, and bindgen builds with it
#      (our build.rs and openfx-sys's, `cargo check` in a fresh target folder);
#   2. no libclang and PyPI unreachable: the set-up stops with one line saying
#      what to install, and a bare `cargo check` stops with one line, no panic;
#   3. no virtual environment, no numpy or Pillow, and a system Python that is
#      marked EXTERNALLY-MANAGED (PEP 668, as Debian's is): the set-up creates
#      target/venv, installs the demo's packages there and the plate renders;
#   4. no venv module (Debian without python3-venv) and no apt: one line naming
#      python3-venv;
#   5. no OpenGL library at all (a farm node): the plugin still loads, describes
#      and renders, its overlay declines to draw, and the overlay's OpenGL test
#      fails saying it could not run (uses the test binary `make test` built).
# Needs root (for unshare and mounts); says loudly that it did not run otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
    echo "[fresh-machine] NOT RUN: needs root and unshare (private mount namespaces)" >&2
    exit 1
fi
tools/setup.sh >/dev/null   # the ordinary set-up first: its caches are what we hide
WORK=$(mktemp -d /tmp/collapse-fresh.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# The folders holding a libclang bindgen would load (never libclang-cpp).
libclang_dirs() {
    local d f
    for d in /usr/lib/llvm-*/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
        for f in "$d"/libclang.so "$d"/libclang.so.* "$d"/libclang-[0-9]*.so*; do
            [ -e "$f" ] && { echo "$d"; break; }
        done
    done | sort -u
}

# Runs a script in a new mount namespace where DIRS are writable overlays of
# themselves (what is deleted there is deleted only there).
in_namespace() {
    local script="$1"
    shift
    local n=0 mounts=""
    for d in "$@"; do
        n=$((n + 1))
        mkdir -p "$WORK/o$n/up" "$WORK/o$n/work"
        mounts+="mount -t overlay overlay -o lowerdir=$d,upperdir=$WORK/o$n/up,workdir=$WORK/o$n/work $d"$'\n'
    done
    unshare --mount --propagation private bash -euo pipefail -c "$mounts
cd '$REPO'
$script"
}

hide_libclang='
for d in /usr/lib/llvm-*/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
    rm -f "$d"/libclang.so "$d"/libclang.so.* "$d"/libclang-[0-9]*.so*
done
rm -rf target/deps/libclang target/deps/wheels/libclang-* target/deps/env.sh
unset LIBCLANG_PATH BINDGEN_EXTRA_CLANG_ARGS
'
fail() { echo "[fresh-machine] FAILED: $*" >&2; exit 1; }
mapfile -t LIBDIRS < <(libclang_dirs)

echo "[fresh-machine] 1. no libclang, no apt: the set-up fetches the wheel and bindgen builds with it" >&2
in_namespace "$hide_libclang"'
ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/x86_64-linux-gnu/libclang-[0-9]*.so* 2>/dev/null && { echo "libclang still visible" >&2; exit 1; }
SETUP_NO_APT=1 tools/setup.sh >/dev/null
test -e target/deps/libclang/libclang.so
. target/deps/env.sh
CARGO_TARGET_DIR='"$WORK"'/target cargo check --quiet --lib --tests
' "${LIBDIRS[@]}" "$REPO" >"$WORK/1.log" 2>&1 || { cat "$WORK/1.log" >&2; fail "case 1"; }

echo "[fresh-machine] 2. no libclang, PyPI unreachable: one line, no panic" >&2
in_namespace "$hide_libclang"'
set +e
PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_RETRIES=0 PIP_TIMEOUT=2 SETUP_NO_APT=1 tools/setup.sh >/dev/null 2>setup.err
echo "setup exit $?"
CARGO_TARGET_DIR='"$WORK"'/target cargo check --quiet --lib 2>cargo.err
echo "cargo exit $?"
cp setup.err cargo.err '"$WORK"'/
'  "${LIBDIRS[@]}" "$REPO" >"$WORK/2.log" 2>&1 || { cat "$WORK/2.log" >&2; fail "case 2"; }
grep -q "setup exit 1" "$WORK/2.log" || fail "case 2: the set-up did not fail: $(cat "$WORK/2.log")"
grep -q "cargo exit 101" "$WORK/2.log" || fail "case 2: cargo check did not fail: $(cat "$WORK/2.log")"
[ "$(grep -c 'ERROR' "$WORK/setup.err")" = 1 ] && grep -q "apt-get install -y libclang-dev" "$WORK/setup.err" \
    || fail "case 2: the set-up should stop with one line naming libclang-dev, said: $(cat "$WORK/setup.err")"
grep -q "bindgen needs libclang" "$WORK/cargo.err" || fail "case 2: build.rs gave no clear line: $(cat "$WORK/cargo.err")"
! grep -qiE "panicked|RUST_BACKTRACE" "$WORK/cargo.err" || fail "case 2: build.rs panicked: $(cat "$WORK/cargo.err")"

PYSTD=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
PYSITE=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')   # inside PYSTD here
echo "[fresh-machine] 3. no venv, no numpy/Pillow, an externally managed Python: the set-up makes target/venv" >&2
in_namespace '
rm -rf target/venv "'"$PYSITE"'"/numpy "'"$PYSITE"'"/PIL "'"$PYSITE"'"/pillow*
touch "'"$PYSTD"'"/EXTERNALLY-MANAGED
python3 -c "import numpy" 2>/dev/null && { echo "numpy still importable" >&2; exit 1; }
python3 -c "import sysconfig, os, sys; sys.exit(not os.path.isfile(os.path.join(sysconfig.get_paths()[\"stdlib\"], \"EXTERNALLY-MANAGED\")))" \
    || { echo "the system Python is not marked externally managed" >&2; exit 1; }
SETUP_NO_APT=1 SETUP_PYTHON=demo tools/setup.sh >/dev/null
target/venv/bin/python tools/make_plate.py target/fresh-plate.png --width 320 --height 180 --variant day
test -s target/fresh-plate.png
'  "$PYSTD" "$REPO" >"$WORK/3.log" 2>&1 || { cat "$WORK/3.log" >&2; fail "case 3"; }

echo "[fresh-machine] 4. no venv module, no apt: one line naming python3-venv" >&2
in_namespace '
rm -rf target/venv "'"$PYSTD"'"/ensurepip "'"$PYSTD"'"/venv
set +e
SETUP_NO_APT=1 tools/setup.sh >/dev/null 2>setup.err
echo "setup exit $?"
cp setup.err '"$WORK"'/
'  "$PYSTD" "$REPO" >"$WORK/4.log" 2>&1 || { cat "$WORK/4.log" >&2; fail "case 4"; }
grep -q "setup exit 1" "$WORK/4.log" || fail "case 4: the set-up did not fail: $(cat "$WORK/4.log")"
[ "$(grep -c 'ERROR' "$WORK/setup.err")" = 1 ] && grep -q "ERROR.*install python3-venv" "$WORK/setup.err" \
    || fail "case 4: the set-up should stop with one line naming python3-venv, said: $(cat "$WORK/setup.err")"

echo "[fresh-machine] 5. no OpenGL at all (a farm node): the plugin loads, describes and renders, the overlay declines to draw, the GL test says it could not run" >&2
OVERLAY_TEST=$(ls -t target/release/deps/overlay-* 2>/dev/null | grep -v '\.d$' | head -n1 || true)
[ -n "$OVERLAY_TEST" ] && [ -x "$OVERLAY_TEST" ] || fail "case 5: no built overlay test (run make test first)"
GLDIR=$(dirname "$(ldconfig -p | awk '$1 == "libGL.so.1" { print $NF; exit }')")
in_namespace '
rm -f "'"$GLDIR"'"/libGL.so* "'"$GLDIR"'"/libEGL.so* "'"$GLDIR"'"/libGLX*.so* "'"$GLDIR"'"/libOpenGL.so*
'"$OVERLAY_TEST"' --exact a_viewer_without_opengl_or_the_draw_suite_still_loads_describes_and_renders
set +e
'"$OVERLAY_TEST"' --exact the_overlay_is_drawn_where_the_region_is_with_opengl >gl.out 2>&1
echo "gl exit $?"
cp gl.out '"$WORK"'/
'  "$GLDIR" "$REPO" >"$WORK/5.log" 2>&1 || { cat "$WORK/5.log" >&2; fail "case 5"; }
grep -q "gl exit 101" "$WORK/5.log" || fail "case 5: the GL test did not fail without OpenGL: $(cat "$WORK/5.log")"
grep -q "COULD NOT RUN: no offscreen OpenGL" "$WORK/gl.out" || fail "case 5: the GL test did not say it could not run: $(cat "$WORK/gl.out")"

echo "[fresh-machine] all five cases passed" >&2
