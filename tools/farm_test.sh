#!/usr/bin/env bash
# The render-farm integration (farm/, docs/FARM.md), tested on this machine with the real
# tools: the OpenJD job bundle through `openjd check|summary|run` (openjd-cli from PyPI),
# the OpenCue outline through opencue-pyoutline, the Natron recipe (NatronRenderer where
# installed). A tiny shot (320x180, frames 1-6) rendered in chunks of 2 must be bit-identical
# to one collapse-render of the whole range. A missing tool fails loudly, never passes.
#   tools/farm_test.sh            (about a minute; needs target/release/collapse-render and
#                                  the bundle in target/ofx, i.e. `make bundle`)
#   FARM_REQUIRE_NATRON=1 tools/farm_test.sh   fails where NatronRenderer is missing
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
W=$REPO/target/farm-test
PY=target/venv/bin/python
OPENJD=target/venv/bin/openjd
RENDER=$REPO/target/release/collapse-render
TEMPLATE=farm/openjd/template.yaml
NATRON_TEMPLATE=farm/natron/openjd/template.yaml
passed=0 failed=0 start=$SECONDS

ok() { echo "ok - $*"; passed=$((passed + 1)); }
fail() { echo "FAIL - $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
finish() {
    echo "farm: $passed passed, $failed failed ($((SECONDS - start)) s)"
    [ "$failed" = 0 ]; exit
}
missing() { echo "FAIL - MISSING TOOL: $*" >&2; fail "missing tool: $*"; finish; }
# The frame/sha256 pairs of checksum files, one per frame, sorted (retries repeat lines).
sums() { cat "$@" | cut -d' ' -f1,2 | sort -n -u; }
same_frames() { # DIR REF: the same PNG names, each bit-identical
    local a=$1 b=$2 f
    [ "$(cd "$a" && ls *.png 2>/dev/null)" = "$(cd "$b" && ls *.png)" ] || return 1
    for f in "$b"/*.png; do cmp -s "$f" "$a/${f##*/}" || return 1; done
}

echo "# tools: openjd-cli and opencue-pyoutline in target/venv (tools/requirements-farm.txt)"
SETUP_PYTHON="demo farm" tools/setup.sh >/dev/null || missing "tools/setup.sh could not install tools/requirements-farm.txt into target/venv"
[ -x "$OPENJD" ] || missing "$OPENJD (openjd-cli): SETUP_PYTHON=farm tools/setup.sh"
[ -x "$RENDER" ] || missing "$RENDER: build it (make bundle)"
[ -d target/ofx/Collapse.ofx.bundle ] || missing "target/ofx/Collapse.ofx.bundle: make bundle"
"$PY" -c "import outline.modules.shell" 2>/dev/null || missing "opencue-pyoutline (import outline) in target/venv"
echo "# $("$OPENJD" --version 2>&1 | head -n1); pyoutline $("$PY" -c 'import importlib.metadata as m; print(m.version("opencue-pyoutline"))')"

rm -rf "$W" && mkdir -p "$W/shot"
"$PY" tools/make_plate.py "$W/shot/plate.png" --width 320 --height 180 --mask "$W/shot/matte.png" >/dev/null \
    || missing "tools/make_plate.py (numpy, pillow in target/venv)"
cat >"$W/shot/shot.toml" <<'SHOT'
# tools/farm_test.sh: a tiny shot, the building gives way at frame 2.
plate = "plate.png"
mask = "matte.png"
output = "frames/collapse.####.png"
frames = "1-6"

[params]
bottomLeft = [110, 23]
size = [83, 150]
startFrame = 2
duration = 24
seed = 7
SHOT
SHOT=$W/shot/shot.toml

echo "# reference: one collapse-render of frames 1-6"
"$RENDER" --shot "$SHOT" --frames 1-6 --out "$W/ref/collapse.####.png" --checksums "$W/ref/checksums.txt" --quiet 2>"$W/ref.log"
check "collapse-render renders the reference (exit $?)" test -s "$W/ref/checksums.txt"

echo "# OpenJD: $TEMPLATE"
jobrun() { # LOG OUTDIR SHOT [openjd run arguments...]
    local log=$1 out=$2 shot=$3; shift 3
    "$OPENJD" run "$TEMPLATE" -p "ShotFile=$shot" -p "OutputDir=$out" -p Frames=1-6 -p ChunkSize=2 \
        -p Device=CPU -p "CollapseRender=$RENDER" "$@" >"$log" 2>&1
}
for t in "$TEMPLATE" "$NATRON_TEMPLATE"; do
    check "openjd check $t" "$OPENJD" check "$t"
done
"$OPENJD" summary "$TEMPLATE" -p "ShotFile=$SHOT" -p "OutputDir=$W/openjd" -p Frames=1-6 -p ChunkSize=2 >"$W/summary.log" 2>&1
check "openjd summary lists the Render step and the CollapseRenderer environment" \
    grep -q "CollapseRenderer (from 'Render')" "$W/summary.log"

jobrun "$W/openjd.log" "$W/openjd" "$SHOT"
check "openjd run: the job succeeds (exit $?; log $W/openjd.log)" grep -q "Session ended successfully" "$W/openjd.log"
check "frames 1-6 in chunks of 2 ran as 3 tasks" grep -q "Chunks run: 3" "$W/openjd.log"
check "the environment checked the bundle and the shot once per session" \
    test "$(grep -c 'loads the bundle and' "$W/openjd.log")" = 1
check "one checksum file per chunk (frames-1-2, 3-4, 5-6)" \
    test "$(cd "$W/openjd/checksums" && ls | tr '\n' ' ')" = "frames-1-2.txt frames-3-4.txt frames-5-6.txt "
check "the chunks' frames are bit-identical to the reference" same_frames "$W/openjd" "$W/ref"
check "the chunks' checksum lines equal the reference's" \
    test "$(sums "$W"/openjd/checksums/*.txt)" = "$(sums "$W/ref/checksums.txt")"

jobrun "$W/task.log" "$W/task" "$SHOT" --step Render --task-param Frame=3-4
check "openjd run --task-param Frame=3-4: one chunk, frames 3 and 4 as in the reference" \
    eval '[ "$(cd "$W/task" && ls *.png | tr "\n" " ")" = "collapse.0003.png collapse.0004.png " ] &&
          cmp -s "$W/task/collapse.0003.png" "$W/ref/collapse.0003.png" && cmp -s "$W/task/collapse.0004.png" "$W/ref/collapse.0004.png"'

"$OPENJD" run "$TEMPLATE" -p "ShotFile=$SHOT" -p "OutputDir=$W/trt" -p Frames=1 -p ChunkSize=1 -p Device=GPU \
    -p TensorRT=On -p "CollapseRender=$RENDER" >"$W/trt.log" 2>&1
if nvidia-smi -L >/dev/null 2>&1; then
    check "Device=GPU TensorRT=On: the engine cache is warmed, frame 1 as in the reference" \
        eval 'grep -q "warming the TensorRT engine cache" "$W/trt.log" && cmp -s "$W/trt/collapse.0001.png" "$W/ref/collapse.0001.png"'
else
    check "Device=GPU TensorRT=On on a CPU machine: warm-up skipped, frame 1 as in the reference" \
        eval 'grep -q "TensorRT warm-up skipped" "$W/trt.log" && cmp -s "$W/trt/collapse.0001.png" "$W/ref/collapse.0001.png"'
fi

echo "# OpenJD failures: the renderer's exit code and message, no partial frame"
failed_with() { # LOG CODE MESSAGE: openjd failed, the renderer exited CODE saying MESSAGE
    grep -q "exited with code: $2 " "$1" && grep -q -- "$3" "$1" && ! grep -q "Session ended successfully" "$1"
}
no_frames() { [ -z "$(ls -A "$1" 2>/dev/null | grep -v '^checksums$')" ]; }
printf 'plate = "plate.png"\noutput = "x.####.png"\n[params\nseed = 7\n' >"$W/shot/broken.toml"
jobrun "$W/broken.log" "$W/broken" "$W/shot/broken.toml"; rc=$?
check "a broken shot file: openjd run fails (exit $rc), collapse-render exit 2 and its TOML message" \
    eval '[ $rc != 0 ] && failed_with "$W/broken.log" 2 "collapse-render: shot file .*broken.toml: TOML parse error"'
check "  ... and no frame is written" no_frames "$W/broken"

sed 's/^seed = 7$/seed = 7\nnoSuchParam = 1/' "$SHOT" >"$W/shot/badparam.toml"
jobrun "$W/badparam.log" "$W/badparam" "$W/shot/badparam.toml"; rc=$?
check "a shot with an unknown parameter: the chunk fails (exit $rc), collapse-render exit 2 and its message" \
    eval '[ $rc != 0 ] && failed_with "$W/badparam.log" 2 "collapse-render: the plugin has no parameter .noSuchParam."'
check "  ... and no frame is written" no_frames "$W/badparam"

mkdir -p "$W/shot/seq"
for f in 1 2 3; do cp "$W/shot/plate.png" "$W/shot/seq/plate.000$f.png"; done
head -c 2000 "$W/shot/plate.png" >"$W/shot/seq/plate.0004.png"   # a truncated plate frame
sed 's|^plate = .*|plate = "seq/plate.####.png"|' "$SHOT" >"$W/shot/corrupt.toml"
"$OPENJD" run "$TEMPLATE" -p "ShotFile=$W/shot/corrupt.toml" -p "OutputDir=$W/corrupt" -p Frames=3-4 -p ChunkSize=2 \
    -p Device=CPU -p "CollapseRender=$RENDER" >"$W/corrupt.log" 2>&1; rc=$?
check "a corrupt plate frame mid-chunk: the chunk fails (exit $rc), collapse-render exit 2 (bad input) and its message" \
    eval '[ $rc != 0 ] && failed_with "$W/corrupt.log" 2 "collapse-render: frame 4: cannot read an input: Source: cannot read .*plate.0004.png"'
check "  ... frame 3 is written whole (as in the reference), frame 4 leaves no file or temporary" \
    eval '[ "$(ls -A "$W/corrupt" | grep -v "^checksums$")" = collapse.0003.png ] && cmp -s "$W/corrupt/collapse.0003.png" "$W/ref/collapse.0003.png"'

echo "# OpenCue: farm/opencue/collapse_outline.py (pyoutline, no Cuebot)"
OUTLINE_OUTLINE_SESSION_DIR=$W/opencue-sessions COLLAPSE_RENDER=$RENDER \
    "$PY" farm/tests/check_opencue.py "$SHOT" "$W/opencue" "$W/ref" >"$W/opencue.log" 2>"$W/opencue.err"
cat "$W/opencue.log"
passed=$((passed + $(grep -c '^ok - ' "$W/opencue.log")))
failed=$((failed + $(grep -c '^FAIL - ' "$W/opencue.log")))
grep -q '^ok - ' "$W/opencue.log" || fail "farm/tests/check_opencue.py ran no check (see $W/opencue.err)"

echo "# Natron: farm/natron/collapse_comp.py"
"$PY" farm/tests/check_natron_recipe.py "$SHOT" >"$W/natron-recipe.log" 2>&1
cat "$W/natron-recipe.log"
passed=$((passed + $(grep -c '^ok - ' "$W/natron-recipe.log")))
failed=$((failed + $(grep -c '^FAIL - ' "$W/natron-recipe.log")))
grep -q '^ok - ' "$W/natron-recipe.log" || fail "farm/tests/check_natron_recipe.py ran no check"
mkdir -p "$W/stub" && printf '#!/bin/sh\necho "STUB NatronRenderer $* COLLAPSE_SHOT=$COLLAPSE_SHOT"\n' >"$W/stub/NatronRenderer"
chmod +x "$W/stub/NatronRenderer"
"$OPENJD" run "$NATRON_TEMPLATE" -p "Project=$REPO/farm/natron/collapse_comp.py" -p "ShotFile=$SHOT" -p "OutputDir=$W/natron-stub" \
    -p Frames=1-5 -p ChunkSize=3 -p "NatronRenderer=$W/stub/NatronRenderer" >"$W/natron-stub.log" 2>&1
check "the Natron template runs NatronRenderer -w Writer OUT first-last SCRIPT per chunk (a stub that prints its arguments)" \
    eval '[ "$(grep -c "STUB NatronRenderer -w Writer $W/natron-stub/collapse.####.png [0-9]-[0-9] $REPO/farm/natron/collapse_comp.py COLLAPSE_SHOT=$SHOT\$" "$W/natron-stub.log")" = 2 ] &&
          grep -q "NatronRenderer -w .* 1-3 " "$W/natron-stub.log" && grep -q "NatronRenderer -w .* 4-5 " "$W/natron-stub.log"'
if command -v NatronRenderer >/dev/null; then
    "$OPENJD" run "$NATRON_TEMPLATE" -p "Project=$REPO/farm/natron/collapse_comp.py" -p "ShotFile=$SHOT" \
        -p "OutputDir=$W/natron" -p Frames=1-6 -p ChunkSize=3 \
        -p "NatronRenderer=$(command -v NatronRenderer)" >"$W/natron.log" 2>&1
    check "NatronRenderer renders the recipe through $NATRON_TEMPLATE in 2 chunks (log $W/natron.log)" \
        eval '[ "$(ls "$W/natron"/collapse.000[1-6].png 2>/dev/null | wc -l)" = 6 ]'
elif [ "${FARM_REQUIRE_NATRON:-0}" = 1 ]; then
    fail "NatronRenderer is not installed (FARM_REQUIRE_NATRON=1)"
else
    echo "NOT RUN - NatronRenderer is not installed here: the Natron render through $NATRON_TEMPLATE did not run"
fi
finish
