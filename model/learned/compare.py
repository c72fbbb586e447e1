"""Simulation against generator, rendered: held-out simulations of `make train`'s data
set and the learned package's own frames for the same controls and aspect, side by
side through the same shipped stages (lattice and render, model/learned/staged_render.py).

    target/venv/bin/python -m model.learned.compare --out docs/images/learned_render_sheet.jpg

Each block is one held-out simulation (the last 10% of the data set's indices, which
training never sees: model/reference/dataset.py): the simulation's frames over the
package's, one column per moment, over the same painted facade. The
package runs end to end from its fracture stage, with its latent drawn from the
simulation's seed: nothing is fitted. Needs numpy, pymunk, Pillow and onnxruntime, not
torch or the data set (the simulations are rerun: about a second each).
"""

import argparse
import os
import time

import numpy as np

from model.reference import preview
from model.reference.dataset import sim_params
from model.reference.sim import Simulation

from .staged_render import DEFAULT_PACKAGE, StagedRenderer

MOMENTS = (0.25, 0.45, 0.7, 1.0)


def row(index, package, frames=48, px_per_height=90):
    """[(simulation RGB, package RGB)] at MOMENTS for held-out simulation `index`, and a label."""
    seed, aspect, controls = sim_params(0, index)
    state = Simulation(seed, aspect, controls, frames=frames, p_end=1.0).run()
    cam = preview.Camera.default(aspect, px_per_height)
    backdrop = preview.procedural_backdrop(cam)
    plate = preview.painted_plate(cam, backdrop, int(state.get("n_floors", 10)))
    region = (cam.L, cam.B, cam.W, cam.H)
    sim = StagedRenderer(state, plate, region, background=backdrop, package=package, seed=seed)
    gen = StagedRenderer(state, plate, region, background=backdrop, package=package, seed=seed,
                         generated=True)
    progress = np.asarray(state["progress"])
    cells = []
    for m in MOMENTS:
        k = int(np.argmin(np.abs(progress - m)))
        cells.append((np.clip(sim.frame(k), 0, 1), np.clip(gen.frame(k), 0, 1)))
    label = f"held-out sim {index}: aspect {aspect:.2f}, " + ", ".join(
        f"{n} {v:.2f}" for n, v in controls.items())
    return cells, label


def sheet(rows):
    """Rows of (cells, label) -> one image: per simulation a labelled strip of the
    simulation's frames over a strip of the package's, one column per moment."""
    from PIL import Image, ImageDraw

    gap, head = 4, 16
    cw = max(c[0].shape[1] for cells, _ in rows for c in cells)
    ch = max(c[0].shape[0] for cells, _ in rows for c in cells)
    block = head + 2 * ch + 3 * gap
    out = Image.new("RGB", (len(MOMENTS) * (cw + gap), len(rows) * block), (20, 20, 20))
    draw = ImageDraw.Draw(out)
    for r, (cells, label) in enumerate(rows):
        y = r * block
        draw.text((4, y + 2), label, fill=(255, 255, 255))
        for c, (pair, m) in enumerate(zip(cells, MOMENTS)):
            x = c * (cw + gap)
            for k, (img, who) in enumerate(zip(pair, ("simulation", "package"))):
                top = y + head + k * (ch + gap)
                out.paste(Image.fromarray(preview.to_uint8(img)), (x, top))
                draw.text((x + 4, top + 2), f"p={m:g} {who}", fill=(255, 255, 255))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m model.learned.compare", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the sheet (.jpg or .png)")
    ap.add_argument("--sims", type=int, nargs="+", default=[272, 281, 296],
                    help="held-out simulation indices (270-299 of the 300 `make train` makes)")
    ap.add_argument("--package", default=DEFAULT_PACKAGE)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = [row(i, a.package) for i in a.sims]
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    sheet(rows).save(a.out, quality=88)
    print(f"wrote {a.out} ({len(rows)} held-out simulations, {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
