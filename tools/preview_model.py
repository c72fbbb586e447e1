#!/usr/bin/env python3
"""Run a collapse model (contract 1) with onnxruntime on a plate, write a contact
sheet, and check the contract's properties numerically.

The inputs are built exactly as the plugin builds them: the source window S is the
region grown by `collapse.context` (snapped outward to whole pixels at the render
scale, transparent black outside the plate), `mask` is the region rectangle's
pixel coverage (times a matte when --mask is given), `out_x`/`out_y` are the
canonical pixel centres of the output grid (rows top-first, y up), `scene` and
`controls` follow the slot tables.  The whole frame is rendered as one tile.
It runs the model alone: the plugin's matte estimate and synthesized clean plate
are not applied (give --mask and --background for those); the look through the
plugin is `make look-sheets` (docs/LOOK.md).

    python3 tools/preview_model.py                       # day plate, default region
    python3 tools/preview_model.py --variant dusk --out target/preview_dusk.png
    python3 tools/preview_model.py --plate shot.png --region "x y w h" [--mask m.png]
    python3 tools/preview_model.py --check               # checks + timing only
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import make_plate  # noqa: E402


def srgb_to_lin(a):
    return np.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)


def lin_to_srgb8(a):
    return (make_plate.srgb_encode(a) * 255 + 0.5).astype(np.uint8)


def downsample(img, f):
    """Box downsample [H,W,C] by integer factor f."""
    if f == 1:
        return img
    H, W, C = img.shape
    H2, W2 = H // f, W // f
    return img[:H2 * f, :W2 * f].reshape(H2, f, W2, f, C).mean(axis=(1, 3))


class Model:
    def __init__(self, path, threads=2):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        self.path, self.threads = path, threads
        meta = self.sess.get_modelmeta().custom_metadata_map
        self.meta = meta
        self.reach = [float(v) for v in meta["collapse.reach"].split()]
        self.context = [float(v) for v in meta["collapse.context"].split()]
        self.controls = []
        for item in meta["collapse.controls"].split(";"):
            n, lo, hi, d = item.split()
            self.controls.append((n, float(lo), float(hi), float(d)))
        self.fp16 = self.sess.get_inputs()[0].type == "tensor(float16)"

    def control_vector(self, overrides=None):
        overrides = overrides or {}
        return np.array([overrides.get(n, d) for n, lo, hi, d in self.controls], np.float32)


class Shot:
    """A plate in canonical pixels (scale 1), RGBA premultiplied linear, rows top-first."""

    def __init__(self, rgba, region, matte=None, background=None):
        self.rgba = rgba.astype(np.float32)
        self.H, self.W = rgba.shape[:2]
        self.region = region  # x, y(bottom), w, h canonical, y up
        self.matte = matte
        self.background = background


def scaled(img, scale):
    f = int(round(1 / scale))
    return downsample(img, f)


def rect_coverage(x0, x1, n, lo, hi):
    """Fraction of each unit pixel [x0+i, x0+i+1] covered by [lo,hi] (pixel units)."""
    e0 = x0 + np.arange(n)
    return np.clip(np.minimum(e0 + 1, hi) - np.maximum(e0, lo), 0, 1)


def make_inputs(model, shot, progress, scale=1.0, seed=1, controls=None, out_cols=None, out_rows=None,
                duration=48.0):
    rx, ry, rw, rh = shot.region
    L, B, R, T = model.context
    Hc = shot.H  # canonical frame height
    # S window in pixel indices at this scale (columns left->right, rows top-first)
    sx0 = (rx - L * rw) * scale
    sx1 = (rx + rw + R * rw) * scale
    sy0 = (Hc - (ry + rh + T * rh)) * scale     # top edge, in rows from the top
    sy1 = (Hc - (ry - B * rh)) * scale
    i0, i1 = int(math.floor(sx0)), int(math.ceil(sx1))
    j0, j1 = int(math.floor(sy0)), int(math.ceil(sy1))
    Ws, Hs = i1 - i0, j1 - j0
    img = scaled(shot.rgba, scale)
    Hi, Wi = img.shape[:2]

    def window(im):
        C = im.shape[2]
        out = np.zeros((Hs, Ws, C), np.float32)
        a0, a1 = max(i0, 0), min(i1, Wi)
        b0, b1 = max(j0, 0), min(j1, Hi)
        if a1 > a0 and b1 > b0:
            out[b0 - j0:b1 - j0, a0 - i0:a1 - i0] = im[b0:b1, a0:a1]
        return out

    plate = window(img)
    bg = window(scaled(shot.background, scale)) if shot.background is not None else np.zeros_like(plate)
    cov_x = rect_coverage(i0, i1, Ws, rx * scale, (rx + rw) * scale)
    cov_y = rect_coverage(j0, j1, Hs, (Hc - ry - rh) * scale, (Hc - ry) * scale)
    mask = cov_y[:, None] * cov_x[None, :]
    if shot.matte is not None:
        mask = mask * window(scaled(shot.matte[:, :, None], scale))[:, :, 0]
    Wo, Ho = int(round(shot.W * scale)), int(round(shot.H * scale))
    cols = np.arange(Wo) if out_cols is None else out_cols
    rows = np.arange(Ho) if out_rows is None else out_rows
    out_x = ((cols + 0.5) / scale).astype(np.float32)
    out_y = (Hc - (rows + 0.5) / scale).astype(np.float32)
    scene = np.zeros(16, np.float32)
    scene[0] = progress
    scene[1] = progress * duration
    scene[2] = duration
    scene[3] = seed
    scene[4] = scene[5] = scale
    scene[6] = i0 / scale
    scene[7] = Hc - j0 / scale
    scene[8:12] = [rx, ry, rw, rh]
    scene[12] = 1.0 if shot.background is not None else 0.0
    scene[13] = 1.0 if shot.matte is not None else 0.0
    dt = np.float16 if model.fp16 else np.float32
    chw = lambda a: np.ascontiguousarray(a.transpose(2, 0, 1)[None]).astype(dt)
    return {
        "plate": chw(plate), "background": chw(bg), "mask": mask[None, None].astype(dt),
        "out_x": out_x, "out_y": out_y, "scene": scene,
        "controls": model.control_vector(controls),
    }


def run(model, feeds):
    return model.sess.run(["element"], feeds)[0].astype(np.float32)[0].transpose(1, 2, 0)


def composite(elem, plate):
    return elem + (1 - elem[:, :, 3:4]) * plate


def load_shot(args):
    if args.plate:
        im = np.asarray(Image.open(args.plate).convert("RGBA")).astype(np.float32) / 255
        rgba = np.concatenate([srgb_to_lin(im[:, :, :3]) * im[:, :, 3:], im[:, :, 3:]], 2)
        region = [float(v) for v in args.region.split()]
    else:
        img, matte, region = make_plate.make_plate(args.width, args.height, args.variant, args.plate_seed)
        rgba = np.concatenate([img, np.ones(img.shape[:2] + (1,))], 2)
        region = [region["x"], region["y"], region["w"], region["h"]]
        if args.region:
            region = [float(v) for v in args.region.split()]
    matte = None
    if args.mask:
        matte = np.asarray(Image.open(args.mask).convert("L")).astype(np.float32) / 255
    bg = None
    if args.background:
        b = np.asarray(Image.open(args.background).convert("RGBA")).astype(np.float32) / 255
        bg = np.concatenate([srgb_to_lin(b[:, :, :3]) * b[:, :, 3:], b[:, :, 3:]], 2)
    return Shot(rgba, region, matte, bg)


def contact_sheet(model, shot, progs, out, seed, controls, cols=4, thumb_w=480):
    tiles = []
    for p in progs:
        e = run(model, make_inputs(model, shot, p, seed=seed, controls=controls))
        c = composite(e, shot.rgba)
        im = Image.fromarray(lin_to_srgb8(c[:, :, :3]))
        th = im.resize((thumb_w, int(thumb_w * shot.H / shot.W)), Image.LANCZOS)
        d = ImageDraw.Draw(th)
        d.rectangle([0, 0, 92, 16], fill=(0, 0, 0))
        d.text((4, 3), "p=%.2f" % p, fill=(255, 255, 255))
        tiles.append(th)
    rows = (len(tiles) + cols - 1) // cols
    tw, thh = tiles[0].size
    sheet = Image.new("RGB", (cols * tw + (cols - 1) * 4, rows * thh + (rows - 1) * 4), (20, 20, 20))
    for k, t in enumerate(tiles):
        sheet.paste(t, ((k % cols) * (tw + 4), (k // cols) * (thh + 4)))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    sheet.save(out)
    print("wrote", out)


def checks(model, shot, seed, controls):
    ok = True

    def report(name, good, detail=""):
        nonlocal ok
        ok &= bool(good)
        print("%-48s %s %s" % (name, "OK  " if good else "FAIL", detail))

    rx, ry, rw, rh = shot.region
    L, B, R, T = model.reach
    xs = np.arange(shot.W) + 0.5
    ys = shot.H - (np.arange(shot.H) + 0.5)
    inx = (xs >= rx - L * rw) & (xs <= rx + rw + R * rw)
    iny = (ys >= ry - B * rh) & (ys <= ry + rh + T * rh)
    outside = ~(iny[:, None] & inx[None, :])
    for p in (-0.5, -0.1, 0.0):
        e = run(model, make_inputs(model, shot, p, seed=seed, controls=controls))
        report("progress %.2f: element exactly 0" % p, np.all(e == 0), "max|e|=%g" % np.abs(e).max())
    worst_out, bad = 0.0, False
    for p in (0.05, 0.2, 0.35, 0.5, 0.7, 0.9, 1.1, 1.5, 3.0):
        e = run(model, make_inputs(model, shot, p, seed=seed, controls=controls))
        worst_out = max(worst_out, float(np.abs(e[outside]).max()))
        bad |= not np.all(np.isfinite(e))
    report("outside region+reach exactly 0 (9 progresses)", worst_out == 0, "max=%g" % worst_out)
    report("no NaN/Inf", not bad)
    # extreme controls
    ext_bad = False
    for ov in ({"direction": -1, "fragment_size": 0.25, "gravity": 4, "dust_amount": 2, "dust_spread": 2,
                "debris_amount": 2},
               {"direction": 1, "fragment_size": 4, "gravity": 0.25, "dust_amount": 0, "dust_spread": 0,
                "debris_amount": 0, "dust_tint": 1}):
        for p in (0.3, 0.8, 1.4):
            e = run(model, make_inputs(model, shot, p, seed=seed, controls=ov))
            ext_bad |= not np.all(np.isfinite(e)) or np.abs(e[outside]).max() > 0
    report("extreme controls: finite and 0 outside reach", not ext_bad)
    # tiles
    worst = 0.0
    for p in (0.15, 0.45, 0.8, 1.2):
        whole = run(model, make_inputs(model, shot, p, seed=seed, controls=controls))
        cs = [0, 701, 1203, shot.W]
        rs = [0, 333, 617, shot.H]
        for a in range(3):
            for b in range(3):
                cols = np.arange(cs[a], cs[a + 1])
                rows = np.arange(rs[b], rs[b + 1])
                t = run(model, make_inputs(model, shot, p, seed=seed, controls=controls,
                                           out_cols=cols, out_rows=rows))
                worst = max(worst, float(np.abs(t - whole[rs[b]:rs[b + 1], cs[a]:cs[a + 1]]).max()))
    report("tiles (3x3) == whole", worst <= 1e-6, "max diff=%g" % worst)
    # render scale
    diffs = []
    for p in (0.3, 0.6, 1.0):
        full = run(model, make_inputs(model, shot, p, seed=seed, controls=controls))
        half = run(model, make_inputs(model, shot, p, scale=0.5, seed=seed, controls=controls))
        ds = downsample(full, 2)[:half.shape[0], :half.shape[1]]
        cf = composite(ds, downsample(shot.rgba, 2))
        ch = composite(half, downsample(shot.rgba, 2))
        diffs.append((float(np.abs(cf - ch).mean()), float(np.abs(ds[..., 3] - half[..., 3]).mean())))
    report("scale 0.5 ~ downsampled full", max(d[0] for d in diffs) < 0.02,
           "mean|comp diff| " + " ".join("%.4f" % d[0] for d in diffs) +
           "; mean|alpha diff| " + " ".join("%.4f" % d[1] for d in diffs))
    # temporal coherence: small progress step gives a small change
    e1 = run(model, make_inputs(model, shot, 0.5, seed=seed, controls=controls))
    e2 = run(model, make_inputs(model, shot, 0.5 + 1 / 480, seed=seed, controls=controls))
    report("temporal: |e(0.5+1/480)-e(0.5)| mean small", np.abs(e1 - e2).mean() < 0.01,
           "mean=%.5f" % np.abs(e1 - e2).mean())
    # determinism
    e3 = run(model, make_inputs(model, shot, 0.5, seed=seed, controls=controls))
    report("deterministic (same bits twice)", np.array_equal(e1, e3))
    # seeds differ
    e4 = run(model, make_inputs(model, shot, 0.5, seed=seed + 1, controls=controls))
    report("seed changes the result", np.abs(e1 - e4).mean() > 1e-4, "mean=%.4f" % np.abs(e1 - e4).mean())
    # fp16 variant (name.fp16.onnx beside name.onnx): zero where it must be, close to fp32
    p16 = os.path.splitext(model.path)[0] + ".fp16.onnx"
    if not model.fp16 and os.path.exists(p16):
        m16 = Model(p16, model.threads)
        z = run(m16, make_inputs(m16, shot, -0.1, seed=seed, controls=controls))
        worst, mean, fin = 0.0, 0.0, True
        for p in (0.3, 0.8, 1.3):
            a = run(model, make_inputs(model, shot, p, seed=seed, controls=controls))
            b = run(m16, make_inputs(m16, shot, p, seed=seed, controls=controls))
            fin &= bool(np.all(np.isfinite(b)))
            worst = max(worst, float(np.abs(b[outside]).max()))
            mean = max(mean, float(np.abs(composite(a, shot.rgba) - composite(b, shot.rgba)).mean()))
        report("fp16 variant: 0 before start/outside, ~fp32", np.all(z == 0) and worst == 0 and fin and mean < 2e-3,
               "mean|comp diff| %.5f" % mean)
    return ok


def timing(model, seed, controls, n=5):
    img, matte, _ = make_plate.make_plate(1920, 1080, "day", 1)
    rgba = np.concatenate([img, np.ones(img.shape[:2] + (1,))], 2)
    shot = Shot(rgba, [480.0, 141.0, 960.0, 540.0])
    ts = []
    for p in np.linspace(0.1, 1.2, n):
        f = make_inputs(model, shot, p, seed=seed, controls=controls)
        model.sess.run(["element"], f)
        t = time.perf_counter()
        model.sess.run(["element"], f)
        ts.append(time.perf_counter() - t)
    print("time per frame 1920x1080, region 960x540, %s: mean %.0f ms, max %.0f ms" %
          ("fp16" if model.fp16 else "fp32", 1000 * np.mean(ts), 1000 * np.max(ts)))
    # as a host that asks for tiles gets it: the affected window (region grown by reach,
    # inside the frame) in tiles of at most 512x512 output pixels, one model run each (the
    # plugin itself runs a whole 1920x1080 window in one run)
    rx, ry, rw, rh = shot.region
    L, B, R, T = model.reach
    c0, c1 = max(0, int(math.floor(rx - L * rw))), min(shot.W, int(math.ceil(rx + rw + R * rw)))
    r0 = max(0, int(math.floor(shot.H - (ry + rh + T * rh))))
    r1 = min(shot.H, int(math.ceil(shot.H - (ry - B * rh))))
    tt = []
    for p in np.linspace(0.1, 1.2, n):
        tiles = [make_inputs(model, shot, p, seed=seed, controls=controls,
                             out_cols=np.arange(x, min(x + 512, c1)), out_rows=np.arange(y, min(y + 512, r1)))
                 for y in range(r0, r1, 512) for x in range(c0, c1, 512)]
        for f in tiles:
            model.sess.run(["element"], f)
        t = time.perf_counter()
        for f in tiles:
            model.sess.run(["element"], f)
        tt.append(time.perf_counter() - t)
    print("  in %d tiles of <= 512x512 (one run each): mean %.0f ms, max %.0f ms" %
          (len(tiles), 1000 * np.mean(tt), 1000 * np.max(tt)))
    return float(np.mean(ts))


def main():
    ap = argparse.ArgumentParser(description="preview / check a collapse model")
    ap.add_argument("--model", default=os.path.join(ROOT, "bundle/Contents/Resources/collapse_default.onnx"))
    ap.add_argument("--plate")
    ap.add_argument("--region", help='"x y w h" canonical, y = bottom edge (up)')
    ap.add_argument("--mask")
    ap.add_argument("--background")
    ap.add_argument("--variant", default="day", choices=sorted(make_plate.PALETTES))
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--plate-seed", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], help="control=value")
    ap.add_argument("--progress", default="-0.1,0.08,0.2,0.35,0.5,0.7,0.95,1.3")
    ap.add_argument("--out")
    ap.add_argument("--frame", type=float, help="also write one full-size frame at this progress")
    ap.add_argument("--check", action="store_true", help="run the contract checks and timing")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    model = Model(args.model, args.threads)
    controls = {kv.split("=")[0]: float(kv.split("=")[1]) for kv in args.set}
    print("metadata:", {k: v for k, v in model.meta.items() if k != "collapse.description"})
    shot = load_shot(args)
    if args.check:
        ok = checks(model, shot, args.seed, controls)
        timing(model, args.seed, controls)
        sys.exit(0 if ok else 1)
    out = args.out or os.path.join(ROOT, "target/preview_%s.png" % args.variant)
    progs = [float(v) for v in args.progress.split(",")]
    contact_sheet(model, shot, progs, out, args.seed, controls)
    if args.frame is not None:
        e = run(model, make_inputs(model, shot, args.frame, seed=args.seed, controls=controls))
        fo = os.path.splitext(out)[0] + "_p%03d.png" % int(round(args.frame * 100))
        Image.fromarray(lin_to_srgb8(composite(e, shot.rgba)[:, :, :3])).save(fo)
        print("wrote", fo)


if __name__ == "__main__":
    main()
