"""The look on real photographs (`make look-sheets`): every `sky_*.jpg` in
tests/data/photos, with the region SOURCES.md gives for it and no Mask, rendered
through the bundle by collapse-render at four moments (before, mid-fall, dust at
its height, settled) into docs/images/photos/: one full-resolution JPEG per
moment (NAME_before.jpg ...) and a contact sheet of the four (NAME_sheet.jpg).

It runs the procedural model (bundledModel = 0). With `--learned` it runs the bundled
learned package (bundledModel = 1, the default model) instead and writes
NAME_learned_MOMENT.jpg and NAME_learned_sheet.jpg.

Run by tools/look_sheets.sh, which builds the bundle and the venv first.
"""

import os
import re
import subprocess
import sys
import tempfile

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTOS = os.path.join(ROOT, "tests", "data", "photos")
OUT = os.path.join(ROOT, "docs", "images", "photos")
RENDER = os.path.join(ROOT, "target", "release", "collapse-render")
START, DURATION = 1, 48
MOMENTS = [("before", 0.0), ("mid-fall", 0.25), ("dust", 0.45), ("settled", 1.6)]


def cases():
    """(file name, (x, y, w, h)) for every sky_ photo with a region line."""
    text = open(os.path.join(PHOTOS, "SOURCES.md")).read()
    found = []
    for block in re.split(r"^### ", text, flags=re.M)[1:]:
        name = block.split()[0]
        m = re.search(r"region: x=(\d+) y=(\d+) w=(\d+) h=(\d+)", block)
        if name.startswith("sky_") and m and os.path.isfile(os.path.join(PHOTOS, name)):
            found.append((name, tuple(int(v) for v in m.groups())))
    return found


def render(photo, region, frame, out, extra=()):
    x, y, w, h = region
    cmd = [RENDER, "--plate", photo, "--out", out, "--frames", str(frame), "--quiet",
           "--set", f"bottomLeft={x},{y}", "--set", f"size={w},{h}",
           "--set", f"startFrame={START}", "--set", f"duration={DURATION}", "--set", "seed=7", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"collapse-render failed on {photo} at frame {frame}:\n{done.stderr}")


def main():
    learned = "--learned" in sys.argv[1:]
    extra = ("--set", "bundledModel=1" if learned else "bundledModel=0")
    os.makedirs(OUT, exist_ok=True)
    for name, region in cases():
        stem = name[:-4] + ("_learned" if learned else "")
        frames = []
        with tempfile.TemporaryDirectory() as tmp:
            for label, progress in MOMENTS:
                frame = START + round(progress * DURATION)
                path = os.path.join(tmp, f"f.{frame:04d}.png")
                render(os.path.join(PHOTOS, name), region, frame, os.path.join(tmp, "f.####.png"), extra)
                img = Image.open(path).convert("RGB")
                img.save(os.path.join(OUT, f"{stem}_{label}.jpg"), quality=90)
                frames.append((label, img))
        w, h = frames[0][1].size
        tw = 480
        th = round(h * tw / w)
        sheet = Image.new("RGB", (tw * len(frames), th + 22), (24, 24, 24))
        draw = ImageDraw.Draw(sheet)
        for k, (label, img) in enumerate(frames):
            sheet.paste(img.resize((tw, th), Image.LANCZOS), (k * tw, 22))
            draw.text((k * tw + 6, 5), label, fill=(230, 230, 230))
        sheet.save(os.path.join(OUT, f"{stem}_sheet.jpg"), quality=88)
        print(f"[look] {stem}: {', '.join(label for label, _ in MOMENTS)}", file=sys.stderr)


if __name__ == "__main__":
    main()
