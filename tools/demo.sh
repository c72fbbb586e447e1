#!/usr/bin/env bash
# The demo shot: a synthetic city plate, four seconds of a collapse rendered
# through the bundle by collapse-render, a contact sheet and animated previews.
# Run by `make demo` after the bundle is assembled.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${DEMO_OUT:-out/demo}"
FRAMES="${DEMO_FRAMES:-1-96}"

# The plate generator's packages live in the project's virtual environment (target/venv).
SETUP_PYTHON=demo tools/setup.sh >/dev/null
PY=target/venv/bin/python
mkdir -p "$OUT"
region=$("$PY" tools/make_plate.py "$OUT/plate.png" --width 1920 --height 1080 --variant day --mask "$OUT/building_matte.png")
read -r x y w h < <(echo "$region" | sed -E 's/.*x=([0-9.-]+) y=([0-9.-]+) w=([0-9.-]+) h=([0-9.-]+).*/\1 \2 \3 \4/')

cat > "$OUT/shot.toml" <<SHOT
# Demo shot: the building in the middle of the plate gives way at frame 12.
plate = "plate.png"
mask = "building_matte.png"
output = "frames/collapse.####.png"
frames = "$FRAMES"
fps = 24

[params]
bottomLeft = [$x, $y]
size = [$w, $h]
startFrame = 12
duration = 72
seed = 7
SHOT

target/release/collapse-render --shot "$OUT/shot.toml" \
    --contact-sheet "$OUT/contact_sheet.png" --preview "$OUT/preview.gif" --mp4 "$OUT/preview.mp4"
echo "[demo] done: frames, contact sheet and previews are in $(cd "$OUT" && pwd)" >&2
