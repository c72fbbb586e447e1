"""Render one reference shot: frames (PNG), a contact sheet and the state (.npz).

  python -m model.reference.shot --seed 3 --aspect 1.0 --frames 48 --out target/reference/shot3 \
      [--direction 0.3 --fragment-size 1 --gravity 1 --dust-amount 1 --dust-spread 1] \
      [--plate some.png --region L,B,W,H] [--progress-end 1.25] [--res 64] \
      [--renderer package|preview]

The frames go through the shipped renderer by default: the bundled learned package's
lattice and render stages in ONNX Runtime, with the simulation in place of the network
(model/learned/staged_render.py), so that the reference and the generator are seen
through the same dust renderer and fragment gather. `--renderer preview` draws them
with this package's own numpy preview instead (no ONNX Runtime needed).

--region is the building's box in plate pixels, OFX style (origin bottom-left, y up);
with a plate the aspect is W / H.
"""

import argparse
import os
import sys
import time

from . import CONTROL_NAMES, CONTROL_RANGES  # (importing the package sets the threads first)

import numpy as np

from .sim import Simulation
from .state import save_npz


def parse(argv=None):
    ap = argparse.ArgumentParser(prog="python -m model.reference.shot", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--aspect", type=float, default=1.0)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--progress-end", type=float, default=1.0,
                    help="progress of the last frame (the first is 0)")
    ap.add_argument("--res", type=int, default=64, help="smoke cells per region height")
    ap.add_argument("--maccormack", choices=("all", "scalars", "none"), default="all")
    ap.add_argument("--out", required=True)
    for name in CONTROL_NAMES:
        lo, hi, dv = CONTROL_RANGES[name]
        ap.add_argument("--" + name.replace("_", "-"), type=float, default=dv,
                        help=f"{lo}..{hi}, default {dv}")
    ap.add_argument("--plate", help="a PNG plate to composite over")
    ap.add_argument("--region", help="L,B,W,H: the building's box in plate pixels (OFX: y up)")
    ap.add_argument("--renderer", choices=("package", "preview"), default="package",
                    help="the shipped renderer (the learned package's stages) or the numpy preview")
    ap.add_argument("--package", help="the package whose stages render (default: the bundled one)")
    ap.add_argument("--sheet-frames", type=int, default=12)
    ap.add_argument("--no-frames", action="store_true", help="only the sheet and the state")
    return ap.parse_args(argv)


def staged(state, cam, plate, backdrop, args):
    """frame k -> RGB through the package's stages. Without a plate, the preview's
    backdrop with its facade painted into the region is the plate, and the backdrop
    is the clean plate (known here)."""
    from model.learned.staged_render import DEFAULT_PACKAGE, StagedRenderer
    from . import preview

    if plate is None:
        plate = preview.painted_plate(cam, backdrop, int(state.get("n_floors", 10)))
    renderer = StagedRenderer(state, plate, (cam.L, cam.B, cam.W, cam.H), background=backdrop,
                              package=args.package or DEFAULT_PACKAGE, seed=args.seed)
    return lambda k: np.clip(renderer.frame(k), 0.0, 1.0)


def main(argv=None):
    args = parse(argv)
    from PIL import Image
    from . import preview

    controls = {}
    for name in CONTROL_NAMES:
        lo, hi, _ = CONTROL_RANGES[name]
        v = getattr(args, name)
        if not lo <= v <= hi:
            sys.exit(f"--{name.replace('_', '-')} {v} is outside {lo}..{hi}")
        controls[name] = v
    plate = cam = None
    aspect = args.aspect
    if args.plate:
        if not args.region:
            sys.exit("--plate needs --region L,B,W,H")
        plate = np.asarray(Image.open(args.plate).convert("RGB"), np.float64) / 255.0
        L, B, W, H = (float(v) for v in args.region.split(","))
        cam = preview.Camera(plate.shape[1], plate.shape[0], (L, B, W, H))
        aspect = cam.aspect
    if args.frames < 2:
        sys.exit("--frames must be at least 2")
    os.makedirs(args.out, exist_ok=True)

    t0 = time.perf_counter()
    sim = Simulation(args.seed, aspect, controls, frames=args.frames, p_end=args.progress_end,
                     res=args.res, maccormack=args.maccormack)
    t_setup = time.perf_counter() - t0
    state = sim.run()
    t_sim = time.perf_counter() - t0 - t_setup
    save_npz(os.path.join(args.out, "state.npz"), state)

    t1 = time.perf_counter()
    cam = cam or preview.Camera.default(aspect)
    backdrop = (preview.procedural_backdrop(cam) if plate is None
                else preview.plate_backdrop(plate, cam))
    draw = lambda k: preview.render(state, k, cam, plate, backdrop)
    if args.renderer == "package":
        draw = staged(state, cam, plate, backdrop, args)
    n = args.frames
    pick = sorted(set(np.linspace(0, n - 1, min(args.sheet_frames, n)).round().astype(int)))
    sheet_imgs = []
    for k in range(n):
        if args.no_frames and k not in pick:
            continue
        img = draw(k)
        if not args.no_frames:
            Image.fromarray(preview.to_uint8(img)).save(os.path.join(args.out, f"frame_{k:04d}.png"))
        if k in pick:
            sheet_imgs.append(img)
    labels = [f"p={state['progress'][k]:.2f}" for k in pick]
    preview.contact_sheet(sheet_imgs, labels).save(os.path.join(args.out, "contact_sheet.png"))
    t_render = time.perf_counter() - t1

    tm = sim.timing()
    ny, nx = tm["grid"]
    print(f"shot seed {args.seed} aspect {aspect:.3f} frames {n} progress 0..{args.progress_end:g}; "
          f"{tm['fragments']} fragments; smoke grid {ny} x {nx} (rows x cols, "
          f"{args.res}/region height), {tm['smoke_steps_per_frame']:.2f} smoke steps and "
          f"{tm['rigid_substeps']} rigid substeps per frame")
    print(f"per frame: rigid bodies {tm['rigid_ms']:.1f} ms, smoke {tm['smoke_ms']:.1f} ms, "
          f"export {tm['export_ms']:.1f} ms, total {tm['total_ms']:.1f} ms "
          f"(setup {t_setup * 1e3:.0f} ms, simulation {t_sim:.2f} s; {args.renderer} render {t_render:.1f} s)")
    print(f"wrote {args.out}/state.npz, contact_sheet.png"
          + ("" if args.no_frames else f", frame_0000..{n - 1:04d}.png"))


if __name__ == "__main__":
    main()
