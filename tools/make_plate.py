#!/usr/bin/env python3
"""Write a synthetic city plate (8-bit sRGB PNG) for tests and contact sheets.

A street-level shot: sky gradient with clouds, a hazy distant skyline,
neighbouring buildings, a tall central building with a window grid and
shading, and a street.  Prints the suggested collapse region around the central
building in canonical pixels (x right, y UP from the bottom edge):

    region x=<left> y=<bottom> w=<width> h=<height>

Usage:
    python3 tools/make_plate.py out.png [--width 1920] [--height 1080]
                                [--variant day|dusk|overcast] [--seed N]
                                [--mask mask.png]

--mask also writes a matte of the central building (white = building).
Deterministic: the same arguments give the same bytes.
"""
import argparse

import numpy as np
from PIL import Image

PALETTES = {
    "day": dict(sky_top=(0.10, 0.22, 0.55), sky_bot=(0.55, 0.68, 0.85), cloud=(0.95, 0.95, 0.97),
                clouds=0.55, sun=1.0, haze=(0.50, 0.58, 0.70), ground=(0.09, 0.09, 0.10),
                lit_windows=0.0, amb=1.0),
    "dusk": dict(sky_top=(0.06, 0.06, 0.20), sky_bot=(0.95, 0.45, 0.20), cloud=(0.80, 0.38, 0.30),
                 clouds=0.4, sun=0.45, haze=(0.45, 0.28, 0.25), ground=(0.035, 0.03, 0.035),
                 lit_windows=0.35, amb=0.45),
    "overcast": dict(sky_top=(0.45, 0.48, 0.52), sky_bot=(0.70, 0.72, 0.74), cloud=(0.80, 0.81, 0.83),
                     clouds=0.85, sun=0.35, haze=(0.55, 0.57, 0.60), ground=(0.08, 0.08, 0.085),
                     lit_windows=0.05, amb=0.8),
}


def value_noise(rng, h, w, cell):
    gh, gw = h // cell + 2, w // cell + 2
    lat = rng.random((gh, gw))
    y = np.arange(h) / cell
    x = np.arange(w) / cell
    y0 = np.floor(y).astype(int)
    x0 = np.floor(x).astype(int)
    fy = y - y0
    fx = x - x0
    fy = fy * fy * (3 - 2 * fy)
    fx = fx * fx * (3 - 2 * fx)
    a = lat[y0][:, x0] * (1 - fx) + lat[y0][:, x0 + 1] * fx
    b = lat[y0 + 1][:, x0] * (1 - fx) + lat[y0 + 1][:, x0 + 1] * fx
    return a * (1 - fy)[:, None] + b * fy[:, None]


def fbm(rng, h, w, cell, octaves=5):
    out = np.zeros((h, w))
    amp = 1.0
    tot = 0.0
    for _ in range(octaves):
        out += amp * value_noise(rng, h, w, max(cell, 2))
        tot += amp
        amp *= 0.5
        cell //= 2
    return out / tot


def srgb_encode(lin):
    lin = np.clip(lin, 0, 1)
    return np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.power(lin, 1 / 2.4) - 0.055)


def draw_building(img, rng, x0, x1, ytop, ybot, base, pal, floors_px, win_cols, detail=1.0,
                  lit_frac=0.0, mask=None):
    """Draw a facade into img (rows top-first, pixel coords) with windows and shading."""
    H, W, _ = img.shape
    x0, x1, ytop, ybot = int(x0), int(x1), int(ytop), int(ybot)
    x0c, x1c = max(x0, 0), min(x1, W)
    if x1c <= x0c:
        return
    ys = np.arange(ytop, ybot)
    xs = np.arange(x0c, x1c)
    u = (xs - x0) / max(x1 - x0, 1)
    v = (ys - ytop) / max(ybot - ytop, 1)
    base = np.array(base)
    # side light: lit from the left, darker to the right, slightly darker at the bottom
    shade = (1.05 - 0.35 * u)[None, :] * (0.85 + 0.2 * (1 - v))[:, None] * pal["sun"] + 0.25 * pal["amb"]
    tex = 0.9 + 0.2 * value_noise(rng, len(ys), len(xs), 7)
    col = base[None, None, :] * (shade * tex)[:, :, None]
    # window grid
    fl = ((ys - ytop) % floors_px) / floors_px
    bay_w = (x1 - x0) / win_cols
    bx = ((xs - x0) % bay_w) / bay_w
    win = ((fl > 0.28) & (fl < 0.82))[:, None] & ((bx > 0.18) & (bx < 0.82))[None, :]
    ground_floor = (ys > ybot - floors_px * 1.3)[:, None]
    win = win & ~ground_floor
    # glass colour: reflects sky, some lit windows
    fidx = ((ys - ytop) // floors_px)[:, None]
    bidx = ((xs - x0) // bay_w).astype(int)[None, :]
    rnd = np.sin(fidx * 12.9898 + bidx * 78.233) * 43758.5453
    rnd = rnd - np.floor(rnd)
    glass = np.array(pal["haze"]) * 0.35 + np.array(pal["sky_bot"]) * 0.15
    glass = glass[None, None, :] * (0.6 + 0.8 * rnd[:, :, None]) * (1.0 - 0.5 * v)[:, None, None]
    lit = (rnd > 1 - lit_frac)[:, :, None] * np.array([1.0, 0.75, 0.4]) * 0.9
    wcol = glass + lit
    col = np.where(win[:, :, None], wcol * detail + col * (1 - detail), col)
    # floor slab lines
    slab = (fl < 0.06)[:, None] & ~ground_floor
    col = np.where(slab[:, :, None], col * 0.8, col)
    # ground floor shopfronts
    gf = ground_floor & ((bx > 0.1) & (bx < 0.9))[None, :] & (ys > ybot - floors_px * 1.1)[:, None]
    col = np.where(gf[:, :, None], np.array([0.05, 0.05, 0.055]) + lit_frac * np.array([0.5, 0.4, 0.25]), col)
    # roof parapet
    par = (ys < ytop + max(3, floors_px * 0.25))[:, None]
    col = np.where(par[:, :, None], col * 0.75, col)
    yy0 = max(ytop, 0)
    img[yy0:ybot, x0c:x1c] = col[yy0 - ytop:]
    if mask is not None:
        mask[yy0:ybot, x0c:x1c] = 1.0


def make_plate(W, H, variant="day", seed=1):
    pal = PALETTES[variant]
    rng = np.random.default_rng(seed * 7919 + {"day": 0, "dusk": 1, "overcast": 2}[variant])
    img = np.zeros((H, W, 3))
    # sky
    t = (np.arange(H) / H)[:, None, None]
    sky = np.array(pal["sky_top"]) * (1 - t) + np.array(pal["sky_bot"]) * t
    img[:] = sky
    cl = fbm(rng, H, W, max(8, W // 6))
    cl = np.clip((cl - (1.0 - pal["clouds"] * 0.6)) * 3.0, 0, 1)
    cl *= np.clip(1.2 - t[:, :, 0] * 1.1, 0, 1)
    img = img * (1 - cl[:, :, None] * 0.85) + np.array(pal["cloud"]) * cl[:, :, None] * 0.85

    ground_y = int(H * 0.87)   # street level (row index)
    # distant hazy skyline
    x = 0
    haze = np.array(pal["haze"])
    while x < W:
        bw = int(rng.integers(W // 40, W // 12))
        bh = int(rng.integers(int(H * 0.12), int(H * 0.40)))
        c = haze * (0.75 + 0.2 * rng.random())
        img[max(ground_y - bh, 0):ground_y, x:x + bw] = c
        x += bw
    # neighbours
    cx = W // 2
    bw_main = int(W * 0.24)
    mx0, mx1 = cx - bw_main // 2 - W // 40, cx + bw_main // 2 - W // 40
    m_top = int(H * 0.08)
    floors_px = max(4, int(H * 0.045))
    neigh = []
    x = -int(rng.integers(0, W // 20))
    while x < mx0:
        bw = int(rng.integers(W // 10, W // 6))
        neigh.append((x, min(x + bw, mx0 - W // 60)))
        x += bw + int(rng.integers(W // 80, W // 30))
    x = mx1 + W // 60
    while x < W:
        bw = int(rng.integers(W // 10, W // 6))
        neigh.append((x, x + bw))
        x += bw + int(rng.integers(W // 80, W // 30))
    for (a, b) in neigh:
        if b - a < 10:
            continue
        top = int(H * (0.30 + 0.3 * rng.random()))
        base = np.array([0.45, 0.40, 0.34]) * (0.6 + 0.5 * rng.random()) * np.array(
            [1.0 + 0.2 * rng.random(), 1.0, 1.0 - 0.2 * rng.random()])
        draw_building(img, rng, a, b, top, ground_y, base, pal, floors_px,
                      max(2, (b - a) // max(8, W // 60)), detail=0.9, lit_frac=pal["lit_windows"])
    # main building
    mask = np.zeros((H, W))
    base = np.array([0.55, 0.50, 0.44])
    draw_building(img, rng, mx0, mx1, m_top, ground_y, base, pal, floors_px,
                  max(3, bw_main // max(8, W // 50)), detail=1.0, lit_frac=pal["lit_windows"], mask=mask)
    # rooftop block
    rb0, rb1 = mx0 + bw_main // 4, mx0 + bw_main // 2
    rtop = m_top - int(H * 0.035)
    img[rtop:m_top, rb0:rb1] = base * 0.5 * pal["sun"] + 0.05
    mask[rtop:m_top, rb0:rb1] = 1.0
    # street and sidewalk
    gy = np.arange(ground_y, H)
    tt = ((gy - ground_y) / max(H - ground_y, 1))[:, None, None]
    street = np.array(pal["ground"]) * (1.0 + 0.6 * tt) * (0.9 + 0.2 * value_noise(rng, len(gy), W, 3))[:, :, None]
    img[ground_y:] = street
    sw = ground_y + max(2, int(H * 0.015))
    img[ground_y:sw] = np.array([0.25, 0.24, 0.23]) * (0.5 + 0.5 * pal["sun"])
    lane = (np.arange(W) // max(1, W // 16)) % 2 == 0
    ly = ground_y + int((H - ground_y) * 0.6)
    img[ly:ly + max(1, H // 200), lane] = np.array([0.6, 0.6, 0.55]) * (0.5 + 0.5 * pal["sun"])
    region = dict(x=mx0 - W // 100, y=H - ground_y, w=(mx1 - mx0) + W // 50, h=ground_y - rtop + H // 100)
    return img, mask, region


def main():
    ap = argparse.ArgumentParser(description="synthetic city plate")
    ap.add_argument("out")
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--variant", choices=sorted(PALETTES), default="day")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mask", help="also write the central building's matte here")
    a = ap.parse_args()
    img, mask, r = make_plate(a.width, a.height, a.variant, a.seed)
    Image.fromarray((srgb_encode(img) * 255 + 0.5).astype(np.uint8)).save(a.out)
    if a.mask:
        Image.fromarray((mask * 255).astype(np.uint8)).save(a.mask)
    print("region x=%d y=%d w=%d h=%d" % (r["x"], r["y"], r["w"], r["h"]))


if __name__ == "__main__":
    main()
