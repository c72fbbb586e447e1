#!/usr/bin/env python3
"""Build the bundled default "generative" collapse model (contract 1).

The model is a procedural generator written as an ONNX graph: no training, no
downloads.  It synthesizes a building collapse for the region the artist drew:

* the facade inside the mask breaks into a jittered brick grid of chunks; lower
  floors give first, the upper mass follows; chunks fall under gravity, drift
  with `direction`, tumble, erode at their edges and vanish at the ground line;
  rendering is a per-pixel *gather*: each output pixel tests a few candidate
  chunks (two bracketing rows x three columns), inverts the winner's rigid
  motion and samples the plate there (GridSample);
* the hole left behind shows the clean plate (`background`) or, without one, a
  fill synthesized from the surroundings (sky above the building, the colours
  left and right of it, a distant blocky skyline);
* a dust plume (advected periodic fBm noise, baked as an initializer) bursts
  from the base, rolls outward and upward, hides the fall, then thins to a haze;
  its colour mixes the dust colour with the plate's ambient colour;
* dark debris specks scatter around the base; a rubble pile grows on the ground.

Everything is expressed in canonical units relative to the region, so the output
is tile-invariant and render-scale consistent.  Run:

    python3 tools/make_default_model.py [--out-dir bundle/Contents/Resources]

It writes collapse_default.onnx (float32 images) and collapse_default.fp16.onnx
(float16 plate/background/mask/element).  Output bytes are deterministic.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
IR_VERSION = 8

# Geometry limits (static graph).
RMAX = 8          # max chunk rows
CMAX = 14         # max chunk columns
CCOLS = CMAX + 2  # column slots per row: c = -1 .. CMAX
NCELL = RMAX * CCOLS
NRAND = 1024      # per-cell random table length

# Contract metadata.
REACH = (0.75, 0.06, 0.75, 0.6)     # L B R T, fractions of region w/h
CONTEXT = (0.3, 0.05, 0.3, 0.35)    # L B R T
CONTROLS = [
    ("direction", -1.0, 1.0, 0.0),
    ("fragment_size", 0.25, 4.0, 1.0),
    ("gravity", 0.25, 4.0, 1.0),
    ("dust_amount", 0.0, 2.0, 1.0),
    ("dust_r", 0.0, 1.0, 0.62),
    ("dust_g", 0.0, 1.0, 0.58),
    ("dust_b", 0.0, 1.0, 0.52),
    ("dust_tint", 0.0, 1.0, 0.5),
    ("dust_spread", 0.0, 2.0, 1.0),
    ("debris_amount", 0.0, 2.0, 1.0),
]

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def fmt(v):
    return ("%.4f" % v).rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------
# Baked textures
# ---------------------------------------------------------------------------

def periodic_value_noise(rng, n, period):
    """Smooth periodic value noise on an n x n grid with `period` lattice cells."""
    lat = rng.random((period, period))
    t = np.arange(n) * period / n
    i0 = np.floor(t).astype(int)
    f = t - i0
    f = f * f * (3 - 2 * f)
    i1 = (i0 + 1) % period
    i0 = i0 % period
    a = lat[i0][:, i0] * (1 - f)[None, :] + lat[i0][:, i1] * f[None, :]
    b = lat[i1][:, i0] * (1 - f)[None, :] + lat[i1][:, i1] * f[None, :]
    return a * (1 - f)[:, None] + b * f[:, None]


def fbm(rng, n, base, octaves, gain=0.5):
    out = np.zeros((n, n))
    amp, tot = 1.0, 0.0
    for o in range(octaves):
        out += amp * periodic_value_noise(rng, n, base * 2 ** o)
        tot += amp
        amp *= gain
    out /= tot
    # normalise to roughly [0,1]
    lo, hi = np.percentile(out, 0.5), np.percentile(out, 99.5)
    return np.clip((out - lo) / (hi - lo), 0, 1)


def make_noise_texture(rng, n=128):
    chans = [
        fbm(rng, n, 4, 5),    # 0: billow fBm, low frequency
        fbm(rng, n, 4, 5),    # 1: independent fBm
        fbm(rng, n, 16, 3),   # 2: fine detail
        periodic_value_noise(rng, n, 32),  # 3: speck noise
    ]
    tex = np.stack(chans, 0)
    # wrap: append first row/col so that align_corners=1 sampling is periodic
    tex = np.concatenate([tex, tex[:, :1, :]], axis=1)
    tex = np.concatenate([tex, tex[:, :, :1]], axis=2)
    return tex[None].astype(np.float32)  # [1,4,n+1,n+1]


# ---------------------------------------------------------------------------
# Tiny graph builder
# ---------------------------------------------------------------------------

class G:
    def __init__(self):
        self.nodes = []
        self.inits = []
        self.n = 0
        self.consts = {}

    def name(self, hint="t"):
        self.n += 1
        return "%s_%d" % (hint, self.n)

    def op(self, typ, *ins, outs=1, hint=None, **attrs):
        names = [self.name(hint or typ.lower()) for _ in range(outs)]
        self.nodes.append(helper.make_node(typ, list(ins), names, **attrs))
        return names[0] if outs == 1 else names

    def init(self, arr, hint="w"):
        nm = self.name(hint)
        self.inits.append(numpy_helper.from_array(arr, nm))
        return nm

    def c(self, v, dtype=np.float32, shape=None):
        arr = np.array(v, dtype=dtype)
        if shape is not None:
            arr = arr.reshape(shape)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self.consts:
            self.consts[key] = self.init(arr, "k")
        return self.consts[key]

    def i(self, v):
        return self.c(v, np.int64)

    # arithmetic helpers (accept names or python floats)
    def _v(self, x):
        return self.c(float(x)) if isinstance(x, (int, float)) else x

    def add(self, a, b): return self.op("Add", self._v(a), self._v(b))
    def sub(self, a, b): return self.op("Sub", self._v(a), self._v(b))
    def mul(self, a, b): return self.op("Mul", self._v(a), self._v(b))
    def div(self, a, b): return self.op("Div", self._v(a), self._v(b))
    def max(self, a, b): return self.op("Max", self._v(a), self._v(b))
    def min(self, a, b): return self.op("Min", self._v(a), self._v(b))
    def neg(self, a): return self.op("Neg", a)
    def abs(self, a): return self.op("Abs", a)
    def floor(self, a): return self.op("Floor", a)
    def relu(self, a): return self.op("Relu", a)
    def exp(self, a): return self.op("Exp", a)
    def sqrt(self, a): return self.op("Sqrt", a)
    def cos(self, a): return self.op("Cos", a)
    def sin(self, a): return self.op("Sin", a)

    def clip01(self, a): return self.op("Clip", a, self.c(0.0), self.c(1.0))

    def clamp(self, a, lo, hi): return self.op("Clip", a, self.c(float(lo)), self.c(float(hi)))

    def lerp(self, a, b, t):  # a + (b-a)*t
        return self.add(a, self.mul(self.sub(b, a), t))

    def fract(self, a): return self.sub(a, self.floor(a))

    def smooth(self, e0, e1, x):
        """smoothstep(e0, e1, x), e0/e1 python floats or names."""
        t = self.clip01(self.div(self.sub(x, e0), self.sub(e1, e0)))
        return self.mul(self.mul(t, t), self.sub(3.0, self.mul(t, 2.0)))

    def lin01(self, e0, e1, x):
        return self.clip01(self.div(self.sub(x, e0), self.sub(e1, e0)))

    def scal(self, vec, idx):
        return self.op("Gather", vec, self.c(idx, np.int64), axis=0)

    def unsq(self, x, axes): return self.op("Unsqueeze", x, self.i(axes))

    def sq(self, x, axes): return self.op("Squeeze", x, self.i(axes))

    def cat(self, xs, axis): return self.op("Concat", *xs, axis=axis)

    def reshape(self, x, shape): return self.op("Reshape", x, shape if isinstance(shape, str) else self.i(shape))

    def cast(self, x, to): return self.op("Cast", x, to=to)

    def where(self, c, a, b): return self.op("Where", c, self._v(a), self._v(b))

    def gt(self, a, b): return self.op("Greater", self._v(a), self._v(b))

    def lt(self, a, b): return self.op("Less", self._v(a), self._v(b))


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------

def build_core(g, plate, bg, mask, ox, oy, scene, ctrl, rng):
    """Return the name of the float32 element [1,4,Ho,Wo]."""
    S = lambda i: g.scal(scene, i)
    K = lambda i: g.scal(ctrl, i)

    prog = S(0)
    seed = S(3)
    scx, scy = S(4), S(5)
    sl, st = S(6), S(7)
    rl, rb, rw, rh = S(8), S(9), S(10), S(11)
    has_bg = S(12)

    direction = g.clamp(K(0), -1, 1)
    fsize = g.clamp(K(1), 0.25, 4)
    grav = g.clamp(K(2), 0.25, 4)
    dust_amt = g.clamp(K(3), 0, 2)
    dust_rgb = g.op("Slice", ctrl, g.i([4]), g.i([7]), g.i([0]))  # [3]
    dust_rgb = g.clip01(dust_rgb)
    dust_tint = g.clip01(K(7))
    spread = g.clamp(K(8), 0, 2)
    debris_amt = g.clamp(K(9), 0, 2)

    rw = g.max(rw, 1e-3)
    rh = g.max(rh, 1e-3)
    aspect = g.div(rw, rh)               # region width in h-units
    p = prog

    # --- S sizes ------------------------------------------------------------
    shp = g.cast(g.op("Shape", plate), F)  # [4]
    Hs = g.scal(shp, 2)
    Ws = g.scal(shp, 3)

    # canonical -> normalized S grid coords (align_corners=0)
    def sgx(x):
        return g.sub(g.div(g.mul(g.mul(g.sub(x, sl), scx), 2.0), Ws), 1.0)

    def sgy(y):
        return g.sub(g.div(g.mul(g.mul(g.sub(st, y), scy), 2.0), Hs), 1.0)

    def grid2(gx, gy):
        """gx, gy broadcastable to [h,w] -> grid [1,h,w,2]."""
        z = g.add(g.mul(gx, 0.0), g.mul(gy, 0.0))
        gx = g.add(gx, z)
        gy = g.add(gy, z)
        return g.unsq(g.cat([g.unsq(gx, [-1]), g.unsq(gy, [-1])], -1), [0])

    def sample(img, gx, gy, mode="bilinear", align=0, pad="zeros"):
        return g.op("GridSample", img, grid2(gx, gy), mode=mode,
                    align_corners=align, padding_mode=pad)

    # S texture: plate(4) + mask(1) + background(4)
    stex = g.cat([plate, mask, bg], 1)
    ptex = g.cat([plate, mask], 1)

    # --- global statistics over S -------------------------------------------
    pa = g.op("Slice", plate, g.i([3]), g.i([4]), g.i([1]))     # [1,1,Hs,Ws]
    prgb = g.op("Slice", plate, g.i([0]), g.i([3]), g.i([1]))
    inv_m = g.sub(1.0, mask)
    w_amb = g.mul(inv_m, pa)
    amb = g.div(g.op("ReduceSum", g.mul(prgb, inv_m), g.i([0, 2, 3]), keepdims=0),
                g.add(g.op("ReduceSum", w_amb, g.i([0, 2, 3]), keepdims=0), 1e-4))  # [3]
    w_bld = g.mul(mask, pa)
    bld = g.div(g.op("ReduceSum", g.mul(prgb, mask), g.i([0, 2, 3]), keepdims=0),
                g.add(g.op("ReduceSum", w_bld, g.i([0, 2, 3]), keepdims=0), 1e-4))  # [3]
    lumw = g.c([0.2126, 0.7152, 0.0722])
    amb_lum = g.op("ReduceSum", g.mul(amb, lumw), g.i([0]), keepdims=0)
    bld_lum = g.op("ReduceSum", g.mul(bld, lumw), g.i([0]), keepdims=0)

    # --- noise & randoms ----------------------------------------------------
    ntex = g.init(make_noise_texture(rng), "noise")
    rtab = g.init(rng.random((NRAND, 8)).astype(np.float32), "rand")
    seed_m = g.op("Mod", g.cast(seed, I64), g.i(NRAND))      # 0..NRAND-1
    seed_f = g.cast(seed_m, F)
    so_x = g.fract(g.mul(seed_f, 0.6180339))
    so_y = g.fract(g.mul(seed_f, 0.7548776))

    def noise(u, v, hint_ch=None):
        """Periodic noise at texture coords (u,v) in periods; returns [1,4,h,w]."""
        gx = g.sub(g.mul(g.fract(g.add(u, so_x)), 2.0), 1.0)
        gy = g.sub(g.mul(g.fract(g.add(v, so_y)), 2.0), 1.0)
        return sample(ntex, gx, gy, align=1, pad="border")

    def rgba(rgb, a):
        prem = g.mul(rgb, a)
        return g.cat([prem, g.add(a, g.mul(ch(prem, 0), 0.0))], 1)

    def ch(t4, i):
        return g.op("Slice", t4, g.i([i]), g.i([i + 1]), g.i([1]))

    # --- chunk layout (per cell tables [RMAX, CCOLS]) ------------------------
    Rf = g.clamp(g.op("Round", g.div(g.mul(6.5, g.op("Pow", aspect, g.c(-0.2))), fsize)), 2, RMAX)
    Cf = g.clamp(g.op("Round", g.mul(g.mul(aspect, Rf), 0.85)), 1, CMAX)
    rr = g.c(np.arange(RMAX, dtype=np.float32).reshape(RMAX, 1))
    cc = g.c((np.arange(CCOLS, dtype=np.float32) - 1).reshape(1, CCOLS))
    cell_lin = g.c(np.arange(NCELL, dtype=np.int64).reshape(RMAX, CCOLS), np.int64)
    ridx = g.op("Mod", g.add(g.mul(cell_lin, g.i(7)), g.mul(seed_m, g.i(131))), g.i(NRAND))
    crnd = g.op("Gather", rtab, ridx, axis=0)   # [RMAX, CCOLS, 8]
    rnd = [g.sq(g.op("Slice", crnd, g.i([k]), g.i([k + 1]), g.i([2])), [2]) for k in range(8)]
    # per-row randoms: column slot 0 of each row
    rowr = [g.op("Slice", rnd[k], g.i([0]), g.i([1]), g.i([1])) for k in range(3)]  # [RMAX,1]

    brick = g.add(g.mul(g.op("Mod", rr, g.c(2.0), fmod=1), 0.5), g.mul(g.sub(rowr[0], 0.5), 0.3))
    brick = g.fract(g.add(brick, 1.0))                     # [RMAX,1] in [0,1)
    hw = g.div(g.mul(aspect, 0.5), Cf)                     # half width (h-units)
    hh = g.div(0.5, Rf)
    row_valid = g.lt(rr, Rf)                               # [RMAX,1]
    col_valid = g.op("And", g.op("GreaterOrEqual", cc, g.c(-1.0)), g.lt(cc, Cf))
    valid = g.op("And", row_valid, col_valid)              # [RMAX,CCOLS]

    cx = g.mul(g.div(g.add(g.add(cc, 0.5), brick), Cf), aspect)   # rest centre x (h-units)
    cy = g.div(g.add(rr, 0.5), Rf)                                 # rest centre y
    xn_c = g.div(cx, aspect)                                       # 0..1

    # release time: lower floors first
    rowfrac = g.div(rr, g.max(g.sub(Rf, 1.0), 1.0))
    t_row = g.add(0.02, g.mul(0.30, g.op("Pow", rowfrac, g.c(0.85))))
    t_rel = g.add(t_row, g.mul(rnd[0], 0.05))
    Gk = g.mul(grav, 8.0)
    tau = g.relu(g.sub(p, t_rel))
    drop = g.mul(g.mul(g.mul(tau, tau), Gk), 0.5)
    tau_row = g.relu(g.sub(p, g.add(t_row, 0.025)))
    drop_row = g.mul(g.mul(g.mul(tau_row, tau_row), Gk), 0.5)     # [RMAX,1]
    # drift: lean with direction, spread outward, per-cell random
    lean = g.sub(g.mul(direction, 0.3), 0.1)                       # dx = lean*d + out*(xn-.5)*d
    OUT = 0.22
    dx = g.add(g.mul(g.add(lean, g.mul(xn_c, OUT * 2)), drop),
               g.mul(g.sub(rnd[1], 0.5), g.mul(tau, 0.25)))
    curx = g.add(cx, dx)
    cury = g.sub(cy, drop)
    omega = g.add(g.mul(g.add(direction, g.mul(g.sub(xn_c, 0.5), 1.5)), -1.6),
                  g.mul(g.sub(rnd[2], 0.5), 5.0))
    theta = g.mul(omega, g.mul(tau, g.add(1.0, tau)))
    cth, sth = g.cos(theta), g.sin(theta)
    released = g.op("And", valid, g.gt(tau, 0.0))
    prio = g.where(released, g.add(1.0, rnd[3]), 0.0)
    # packed candidate table [7, NCELL]
    tabs = [curx, cury, g.div(cth, hw), g.div(sth, hw), g.div(g.neg(sth), hh), g.div(cth, hh), prio]
    ctab = g.cat([g.reshape(g.add(t, g.mul(cx, 0.0)), [1, NCELL]) for t in tabs], 0)
    # winner tables [NCELL]
    flat = lambda t: g.reshape(g.add(t, g.mul(cx, 0.0)), [NCELL])
    w_cx, w_cy, w_tau = flat(cx), flat(cy), flat(tau)
    w_rel = flat(g.cast(released, F))
    w_r4, w_r5 = flat(rnd[4]), flat(rnd[5])

    # row-level inversion for candidate columns: Xh = cx*(1+OUT*2*d/a) + (lean-OUT)*d
    row_scale = g.add(1.0, g.div(g.mul(drop_row, OUT * 2), aspect))   # [RMAX,1]
    row_off = g.mul(g.sub(lean, OUT), drop_row)
    row_cury = g.sub(g.div(g.add(rr, 0.5), Rf), drop_row)             # [RMAX,1]
    row_cury_v = g.where(row_valid, row_cury, 1e4)

    # --- boxes ----------------------------------------------------------------
    def box(xs, ys, xa, xb, yb, yt):
        W = g.op("Shape", xs)
        H = g.op("Shape", ys)
        c0 = g.op("ReduceSum", g.cast(g.lt(xs, xa), I64), keepdims=1)
        c1 = g.op("ReduceSum", g.cast(g.op("LessOrEqual", xs, xb), I64), keepdims=1)
        r0 = g.op("ReduceSum", g.cast(g.gt(ys, yt), I64), keepdims=1)
        r1 = g.op("ReduceSum", g.cast(g.op("GreaterOrEqual", ys, yb), I64), keepdims=1)
        c0 = g.op("Min", c0, g.op("Sub", W, g.i([1])))
        c1 = g.op("Max", c1, g.op("Add", c0, g.i([1])))
        r0 = g.op("Min", r0, g.op("Sub", H, g.i([1])))
        r1 = g.op("Max", r1, g.op("Add", r0, g.i([1])))
        xs2 = g.op("Slice", xs, c0, c1, g.i([0]))
        ys2 = g.op("Slice", ys, r0, r1, g.i([0]))
        z2 = g.i([0, 0])
        pads = g.cat([z2, r0, c0, z2, g.op("Sub", H, r1), g.op("Sub", W, c1)], 0)
        insx = g.cast(g.op("And", g.op("GreaterOrEqual", xs2, xa), g.op("LessOrEqual", xs2, xb)), F)
        insy = g.cast(g.op("And", g.op("GreaterOrEqual", ys2, yb), g.op("LessOrEqual", ys2, yt)), F)
        inside = g.mul(g.unsq(insy, [1]), g.unsq(insx, [0]))   # [h,w]
        return xs2, ys2, pads, inside

    def pad(t, pads):
        return g.op("Pad", t, pads, g.c(0.0), mode="constant")

    L, B, R_, T = REACH
    rx0 = g.sub(rl, g.mul(rw, L))
    rx1 = g.add(g.add(rl, rw), g.mul(rw, R_))
    ry0 = g.sub(rb, g.mul(rh, B))
    ry1 = g.add(g.add(rb, rh), g.mul(rh, T))
    xs, ys, pads_r, inside_r = box(ox, oy, rx0, rx1, ry0, ry1)

    # reach-box coordinates (h-units)
    Xh = g.unsq(g.div(g.sub(xs, rl), rh), [0])   # [1,w]
    Yh = g.unsq(g.div(g.sub(ys, rb), rh), [1])   # [h,1]
    Xn = g.div(Xh, aspect)                        # region-normalised x
    Xc = g.sub(Xh, g.mul(aspect, 0.5))            # centred x (h-units)
    px_h = g.div(1.0, g.mul(scx, rh))             # one output pixel in h-units

    # ---- sample S at every pixel: plate, mask, background ----------------------
    s9 = sample(stex, sgx(g.unsq(xs, [0])), sgy(g.unsq(ys, [1])))
    m_here = ch(s9, 4)
    bg_here = g.op("Slice", s9, g.i([5]), g.i([9]), g.i([1]))

    # ---- hole: rest cell of this pixel released? -------------------------------
    nh = noise(g.mul(Xh, 1.7), g.mul(Yh, 1.7))
    jx = g.sub(ch(nh, 2), 0.5)
    jy = g.sub(ch(nh, 3), 0.5)
    Yj = g.add(g.mul(Yh, Rf), g.mul(jy, 0.5))
    r_here = g.clamp(g.floor(Yj), 0, RMAX - 1)
    brick_here = g.op("Gather", g.reshape(brick, [RMAX]), g.cast(r_here, I64), axis=0)
    c_here = g.clamp(g.floor(g.sub(g.add(g.mul(Xn, Cf), g.mul(jx, 0.5)), brick_here)), -1, CMAX)
    cell_here = g.cast(g.add(g.mul(r_here, float(CCOLS)), g.add(c_here, 1.0)), I64)
    rel_here = g.op("Gather", w_rel, cell_here, axis=0)
    # the hole fades in through a thin crack-open time so nothing pops
    hole_a = g.mul(m_here, rel_here)                       # [1,1,h,w]

    # synthesized fill when there is no clean plate
    top = g.add(rb, rh)
    xsu = g.unsq(xs, [0])
    sky = g.mul(g.add(sample(ptex, sgx(xsu), sgy(g.add(top, g.mul(rh, 0.08)))),
                      sample(ptex, sgx(xsu), sgy(g.add(top, g.mul(rh, 0.2))))), 0.5)
    ysu = g.unsq(ys, [1])
    sides = []
    for off in (0.05, 0.12):
        lft = sample(ptex, sgx(g.sub(rl, g.mul(rw, off))), sgy(ysu))
        rgt = sample(ptex, sgx(g.add(g.add(rl, rw), g.mul(rw, off))), sgy(ysu))
        sides.append(g.lerp(lft, rgt, g.clip01(Xn)))
    side = g.mul(g.add(sides[0], sides[1]), 0.5)
    side = g.div(side, g.max(ch(side, 3), 1e-3))           # un-premultiply
    sky = g.div(sky, g.max(ch(sky, 3), 1e-3))
    sky_rgb = g.op("Slice", sky, g.i([0]), g.i([3]), g.i([1]))
    side_rgb = g.op("Slice", side, g.i([0]), g.i([3]), g.i([1]))
    # distant blocky skyline
    blk = g.floor(g.add(g.mul(Xn, 7.0), 0.0))
    bidx = g.cast(g.op("Mod", g.add(g.add(blk, 64.0), g.mul(seed_f, 13.0)), g.c(float(NRAND)), fmod=1), I64)
    bh = g.op("Gather", g.reshape(g.op("Slice", rtab, g.i([6]), g.i([7]), g.i([1])), [NRAND]), bidx, axis=0)
    sky_h = g.add(0.18, g.mul(bh, 0.35))                   # [1,w]
    below = g.smooth(0.0, g.mul(px_h, 1.5), g.sub(sky_h, Yh))   # 1 under the skyline
    haze = g.mul(g.add(sky_rgb, g.mul(side_rgb, 1.0)), 0.5)
    distant = g.lerp(side_rgb, haze, 0.55)
    vgrad = g.clip01(g.div(g.sub(Yh, sky_h), g.sub(1.0, sky_h)))
    sky_col = g.lerp(g.lerp(haze, sky_rgb, 0.6), sky_rgb, vgrad)
    fill_rgb = g.lerp(sky_col, g.mul(distant, 0.8), below)
    fill_rgb = g.mul(fill_rgb, g.add(0.92, g.mul(ch(nh, 1), 0.16)))
    fill = rgba(fill_rgb, g.add(g.mul(ch(fill_rgb, 0), 0.0), 1.0))
    fill = g.lerp(fill, bg_here, has_bg)
    E = g.mul(fill, hole_a)

    # ---- rubble pile ------------------------------------------------------------
    grow = g.smooth(0.15, 1.0, p)
    nr = noise(g.mul(Xh, 3.0), g.mul(Yh, 3.0))
    prof = g.clip01(g.sub(1.0, g.op("Pow", g.abs(g.mul(g.sub(Xn, 0.5), 2.0 / 1.08)), g.c(3.0))))
    pile_h = g.mul(g.mul(grow, prof), g.add(0.04, g.mul(ch(nr, 0), 0.09)))
    pile_a = g.mul(g.smooth(g.neg(px_h), px_h, g.sub(pile_h, Yh)), g.cast(g.gt(pile_h, 0.002), F))
    rub_rgb = g.mul(g.unsq(g.unsq(g.unsq(bld, [0]), [2]), [3]), g.add(0.25, g.mul(ch(nr, 2), 0.45)))
    rub_rgb = g.mul(rub_rgb, g.add(0.6, g.mul(g.clip01(g.div(Yh, g.max(pile_h, 1e-3))), 0.5)))
    rub = rgba(rub_rgb, pile_a)
    E = g.add(rub, g.mul(g.sub(1.0, ch(rub, 3)), E))

    # ---- fragments (gather) in their own box -----------------------------------
    fx0 = g.sub(rl, g.mul(rh, 0.5))
    fx1 = g.add(g.add(rl, rw), g.mul(rh, 0.5))
    fy0 = g.sub(rb, g.mul(rh, 0.05))
    fy1 = g.add(top, g.mul(rh, 0.02))
    fxs, fys, pads_f, _ = box(xs, ys, fx0, fx1, fy0, fy1)
    fXh = g.div(g.sub(fxs, rl), rh)        # [w]
    fYh = g.div(g.sub(fys, rb), rh)        # [h]
    # rows bracketing each pixel row
    below_cnt = g.op("ReduceSum", g.cast(g.op("LessOrEqual", g.reshape(row_cury_v, [1, RMAX]),
                                                g.unsq(fYh, [1])), I64), g.i([1]), keepdims=1)  # [h,1]
    rows = g.op("Add", g.unsq(below_cnt, [0]), g.c(np.array([-1, 0], np.int64).reshape(2, 1, 1), np.int64))  # [2,h,1]
    rows_ok = g.op("And", g.op("GreaterOrEqual", rows, g.i(0)), g.op("Less", rows, g.i(RMAX)))
    rows_c = g.op("Clip", rows, g.i(0), g.i(RMAX - 1))
    gsc = lambda t: g.op("Gather", g.reshape(t, [RMAX]), rows_c, axis=0)   # [2,h,1]
    k_scale, k_off, k_brick = gsc(row_scale), gsc(row_off), gsc(brick)
    xrest = g.div(g.sub(g.unsq(g.unsq(fXh, [0]), [0]), k_off), k_scale)  # [2,h,w]
    band = g.floor(g.sub(g.mul(g.div(xrest, aspect), Cf), k_brick))
    cands = []
    for dc in (-1.0, 0.0, 1.0):
        cands.append(g.clamp(g.add(band, dc), -1, CMAX))
    colk = g.cat(cands, 0)                                              # [6,h,w]
    rowk = g.cat([g.cast(rows_c, F)] * 3, 0)                             # [6,h,1]
    okk = g.cat([rows_ok] * 3, 0)
    cidx = g.cast(g.add(g.mul(rowk, float(CCOLS)), g.add(colk, 1.0)), I64)   # [6,h,w]
    prm = g.op("Gather", ctab, cidx, axis=1)                             # [7,6,h,w]
    P = g.op("Split", prm, axis=0, outs=7, num_outputs=7) if OPSET >= 18 else g.op("Split", prm, axis=0, outs=7)
    pcx, pcy, a1, a2, b1, b2, pprio = P
    ddx = g.sub(g.unsq(fXh, [0]), pcx)           # [1,6,h,w]
    ddy = g.sub(g.unsq(fYh, [1]), pcy)
    uu = g.add(g.mul(a1, ddx), g.mul(a2, ddy))
    vv = g.add(g.mul(b1, ddx), g.mul(b2, ddy))
    mm = g.max(g.abs(uu), g.abs(vv))
    inside = g.op("And", g.lt(mm, 1.0), okk)
    score = g.where(inside, pprio, 0.0)
    win = g.op("ArgMax", score, axis=1, keepdims=1)                      # [1,1,h,w]
    wscore = g.op("ReduceMax", score, g.i([1]), keepdims=1)
    wu = g.op("GatherElements", uu, win, axis=1)
    wv = g.op("GatherElements", vv, win, axis=1)
    wm = g.op("GatherElements", mm, win, axis=1)
    wcell = g.sq(g.op("GatherElements", g.unsq(cidx, [0]), win, axis=1), [0, 1])  # [h,w]
    wcx = g.op("Gather", w_cx, wcell, axis=0)
    wcy = g.op("Gather", w_cy, wcell, axis=0)
    wtau = g.op("Gather", w_tau, wcell, axis=0)
    wr4 = g.op("Gather", w_r4, wcell, axis=0)
    wr5 = g.op("Gather", w_r5, wcell, axis=0)
    wu, wv, wm = (g.sq(t, [0, 1]) for t in (wu, wv, wm))
    srcx = g.add(wcx, g.mul(wu, hw))             # rest position (h-units)
    srcy = g.add(wcy, g.mul(wv, hh))
    canx = g.add(rl, g.mul(srcx, rh))
    cany = g.add(rb, g.mul(srcy, rh))
    fsamp = sample(ptex, sgx(canx), sgy(cany))   # [1,5,h,w]
    frgba = g.op("Slice", fsamp, g.i([0]), g.i([4]), g.i([1]))
    fmask = ch(fsamp, 4)
    # jagged erosion of chunk edges, grows with time
    ne = noise(g.add(g.mul(wu, 0.35), wr4), g.add(g.mul(wv, 0.35), wr5))
    erode = g.add(g.mul(g.sub(ch(ne, 2), 0.3), 0.35), g.mul(g.clip01(g.mul(wtau, 1.2)), 0.25))
    thr = g.sub(1.0, erode)
    edge_w = g.div(px_h, g.min(hw, hh))
    fa = g.clip01(g.div(g.sub(thr, wm), g.mul(edge_w, 1.2)))
    fa = g.mul(fa, g.cast(g.gt(wscore, 0.0), F))
    fa = g.mul(fa, g.smooth(-0.01, 0.03, g.unsq(fYh, [1])))             # vanish at ground
    fa = g.mul(fa, fmask)
    # shading: crack darkening near the eroded edge, darker as they fall
    crack = g.add(0.55, g.mul(g.clip01(g.div(g.sub(thr, wm), 0.12)), 0.45))
    shade = g.mul(crack, g.sub(1.0, g.mul(g.clip01(g.mul(wtau, 1.5)), 0.3)))
    Fr = g.cat([g.mul(g.op("Slice", frgba, g.i([0]), g.i([3]), g.i([1])), g.mul(fa, shade)),
                g.mul(ch(frgba, 3), fa)], 1)
    Fr = pad(Fr, pads_f)
    E = g.add(Fr, g.mul(g.sub(1.0, ch(Fr, 3)), E))

    # ---- dust -------------------------------------------------------------------
    pd = g.relu(g.sub(p, 0.04))
    grow_d = g.sub(1.0, g.exp(g.mul(pd, -3.0)))
    wd = g.add(g.mul(aspect, 0.5), g.mul(spread, g.add(0.05, g.mul(grow_d, 0.75))))
    hd = g.add(0.08, g.mul(g.sub(1.0, g.exp(g.mul(pd, -4.5))), 1.0))
    # envelope
    qx = g.div(Xc, wd)
    qy = g.div(g.relu(Yh), hd)
    dome = g.sub(1.0, g.add(g.mul(qx, qx), g.mul(qy, qy)))
    # advected fbm
    ex = g.add(1.0, g.mul(pd, g.add(0.6, g.mul(spread, 0.6))))
    u1 = g.div(g.mul(Xc, 0.55), ex)
    v1 = g.sub(g.div(g.mul(Yh, 0.55), g.add(1.0, g.mul(pd, 0.5))), g.mul(pd, 0.25))
    n1 = noise(u1, v1)
    n1s = noise(u1, g.sub(v1, 0.02))              # shifted toward the light (up)
    u2 = g.add(g.mul(u1, 2.3), g.mul(pd, 0.13))
    v2 = g.sub(g.mul(v1, 2.3), g.mul(pd, 0.45))
    n2 = noise(u2, v2)
    fb = g.add(g.mul(ch(n1, 0), 0.65), g.mul(ch(n2, 1), 0.35))
    base_d = g.add(g.mul(dome, 1.6), g.mul(g.sub(fb, 0.5), 1.4))
    base_d = g.add(base_d, g.mul(g.smooth(0.25, 0.0, Yh), 0.35))         # dense at the ground
    rho = g.clip01(g.mul(base_d, 1.5))
    amount = g.mul(dust_amt, g.smooth(0.03, 0.2, p))
    settle = g.add(0.3, g.mul(0.7, g.exp(g.mul(g.relu(g.sub(p, 0.8)), -3.0))))
    # after the end, the haze sinks toward the ground
    sink = g.smooth(1.1, 0.0, g.mul(Yh, g.add(1.0, g.mul(g.relu(g.sub(p, 0.9)), 2.0))))
    amount = g.mul(amount, g.mul(settle, g.lerp(1.0, sink, g.clip01(g.mul(g.relu(g.sub(p, 0.9)), 2.0)))))
    # keep within the reach box with soft edges
    lim_x = g.sub(g.add(g.mul(aspect, 0.5 + min(L, R_)), 0.0), g.mul(px_h, 2.0))
    winx = g.smooth(lim_x, g.mul(lim_x, 0.8), g.abs(Xc))
    lim_y = 1.0 + T * 0.9
    winy = g.mul(g.smooth(lim_y, lim_y - 0.25, Yh), g.smooth(-B, 0.0, Yh))
    dens = g.mul(g.mul(rho, amount), g.mul(winx, winy))
    dens = g.clip01(dens)
    # colour & light
    d_rgb = g.unsq(g.unsq(g.unsq(dust_rgb, [0]), [2]), [3])
    light = g.clamp(g.div(amb_lum, 0.35), 0.15, 2.0)
    tint = g.lerp(d_rgb, g.mul(g.unsq(g.unsq(g.unsq(amb, [0]), [2]), [3]), 1.05),
                  dust_tint)
    tint = g.mul(tint, g.lerp(1.0, light, dust_tint))
    shadow = g.clamp(g.add(1.0, g.mul(g.sub(ch(n1, 0), ch(n1s, 0)), 9.0)), 0.6, 1.35)
    lit = g.mul(g.add(0.6, g.mul(g.clip01(g.div(Yh, hd)), 0.45)), shadow)
    lit = g.mul(lit, g.sub(1.0, g.mul(g.smooth(0.3, 1.0, rho), 0.15)))
    D = rgba(g.mul(tint, lit), dens)

    # ---- debris specks ----------------------------------------------------------
    tdb = g.relu(g.sub(p, 0.08))
    fallv = g.mul(g.mul(tdb, tdb), g.mul(Gk, 0.25))
    ds_u = g.div(g.mul(Xc, 7.0), g.add(1.0, g.mul(tdb, 1.2)))
    ds_v = g.add(g.mul(Yh, 7.0), g.sub(g.mul(fallv, 7.0), g.mul(tdb, 5.0)))
    nd = noise(g.mul(ds_u, 1.0), g.mul(ds_v, 1.0))
    speck = g.lin01(0.74, 0.8, ch(nd, 3))
    env_w = g.add(g.mul(aspect, 0.5), g.mul(spread, g.mul(grow_d, 0.45)))
    env_h = g.add(0.05, g.mul(g.mul(tdb, 1.2), g.exp(g.mul(tdb, -1.5))))
    denv = g.mul(g.smooth(env_w, g.mul(env_w, 0.7), g.abs(Xc)), g.smooth(env_h, g.mul(env_h, 0.3), Yh))
    denv = g.mul(denv, g.smooth(0.06, 0.2, p))
    db_a = g.clip01(g.mul(g.mul(speck, denv), g.mul(debris_amt, 0.9)))
    db_rgb = g.mul(g.unsq(g.unsq(g.unsq(bld, [0]), [2]), [3]), 0.3)
    Db = rgba(db_rgb, db_a)
    E = g.add(Db, g.mul(g.sub(1.0, ch(Db, 3)), E))
    E = g.add(D, g.mul(g.sub(1.0, ch(D, 3)), E))

    # ---- final: reach box, progress gate, pad to the output grid ---------------
    gate = g.cast(g.gt(p, 0.0), F)
    E = g.mul(E, g.mul(inside_r, gate))
    E = pad(E, pads_r)
    return E


def build(fp16=False):
    rng = np.random.default_rng(20251107)
    g = G()
    imdt = TensorProto.FLOAT16 if fp16 else F
    ins = [
        helper.make_tensor_value_info("plate", imdt, [1, 4, "Hs", "Ws"]),
        helper.make_tensor_value_info("background", imdt, [1, 4, "Hs", "Ws"]),
        helper.make_tensor_value_info("mask", imdt, [1, 1, "Hs", "Ws"]),
        helper.make_tensor_value_info("out_x", F, ["Wo"]),
        helper.make_tensor_value_info("out_y", F, ["Ho"]),
        helper.make_tensor_value_info("scene", F, [16]),
        helper.make_tensor_value_info("controls", F, [len(CONTROLS)]),
    ]
    plate, bg, mask = "plate", "background", "mask"
    if fp16:
        plate, bg, mask = (g.cast(x, F) for x in (plate, bg, mask))
    # sanitize non-finite inputs (NaN/Inf in the plate must not spread)
    def finite(x):
        x = g.op("Where", g.op("IsNaN", x), g.c(0.0), x)
        return g.op("Clip", x, g.c(-65504.0), g.c(65504.0))
    plate, bg, mask = finite(plate), finite(bg), g.clip01(finite(mask))
    E = build_core(g, plate, bg, mask, "out_x", "out_y", "scene", "controls", rng)
    if fp16:
        E = g.cast(g.op("Clip", E, g.c(-65504.0), g.c(65504.0)), TensorProto.FLOAT16)
    g.nodes.append(helper.make_node("Identity", [E], ["element"]))
    outs = [helper.make_tensor_value_info("element", imdt, [1, 4, "Ho", "Wo"])]
    graph = helper.make_graph(g.nodes, "collapse_default", ins, outs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="collapse-ofx make_default_model.py",
                              producer_version="1")
    model.ir_version = IR_VERSION
    meta = {
        "collapse.contract": "1",
        "collapse.kind": "generator",
        "collapse.name": "Procedural collapse (default)" + (" fp16" if fp16 else ""),
        "collapse.description": (
            "Procedural building collapse: the masked facade breaks into chunks that "
            "fall (lower floors first), drift and tumble; a dust plume bursts from the "
            "base, rolls out and up, then thins to a haze; debris and a rubble pile; the "
            "hole shows the clean plate or a fill synthesized from the surroundings."),
        "collapse.halo": "0",
        "collapse.reach": " ".join(fmt(v) for v in REACH),
        "collapse.context": " ".join(fmt(v) for v in CONTEXT),
        "collapse.controls": "; ".join(
            "%s %s %s %s" % (n, fmt(a), fmt(b), fmt(d)) for n, a, b, d in CONTROLS),
    }
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out-dir", default=os.path.join(here, "..", "bundle", "Contents", "Resources"))
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for fp16, fname in ((False, "collapse_default.onnx"), (True, "collapse_default.fp16.onnx")):
        m = build(fp16)
        path = os.path.join(args.out_dir, fname)
        data = m.SerializeToString()
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        print("wrote %s (%d bytes, %d nodes)" % (os.path.normpath(path), len(data), len(m.graph.node)))


if __name__ == "__main__":
    main()
