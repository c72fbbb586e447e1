#!/usr/bin/env python3
"""Build the bundled default "generative" collapse model (contract 1).

The model is a procedural generator written as an ONNX graph: no training, no
downloads.  It synthesizes a building collapse for the region the artist drew:

* the facade inside the building matte breaks into a jittered brick grid of
  chunks; lower floors give first, the upper mass drops as a block and breaks up
  when it lands; chunks fall under gravity, drift with `direction`, tumble, vary
  in size, erode at their edges (some with a shadowed face) and vanish at the
  ground line; rendering is a per-pixel *gather*: each output pixel tests 4
  candidate chunks (two bracketing rows x own + nearer column), inverts the
  winner's rigid motion and samples the plate there (GridSample);
* without a Mask clip the building matte is estimated: pixels that match the
  background estimate and connect to the region's top through background stay
  the plate;
* the hole left behind shows the clean plate (`background`) or, without one, a
  Coons-like boundary interpolation of the plate just outside the left, right and
  top edges (faint distant silhouette and gentle noise fading toward the edges);
* a dust plume (advected periodic fBm noise on a lattice, sampled bilinearly) bursts
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
NRCOL = 12        # random numbers per table row
NXF, NYF = 128, 96  # background-estimate lattice over the region
NBLUR = 9         # taps of the blur along each boundary band
DUST_DENS = 100.0 # dust lattice points per region height
STAT_STEP = 4     # stride of the subsample the global statistics use

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


def make_noise_textures(rng, n=128):
    """Four single-channel periodic noise textures [1,1,n+1,n+1] (last row/col = first)."""
    chans = [
        fbm(rng, n, 4, 5),                 # 0: billow fBm, low frequency
        fbm(rng, n, 4, 5),                 # 1: independent fBm
        fbm(rng, n, 8, 4),                 # 2: crack / edge jitter
        periodic_value_noise(rng, n, 32),  # 3: speck noise
    ]
    out = []
    for t in chans:
        t = np.concatenate([t, t[:1, :]], axis=0)
        t = np.concatenate([t, t[:, :1]], axis=1)
        out.append(t[None, None].astype(np.float32))
    return out


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

def build_core(g, plate, bg, mask, ox, oy, scene, ctrl, rng, finite):
    """Return the name of the float32 element [1,4,Ho,Wo]."""
    S = lambda i: g.scal(scene, i)
    K = lambda i: g.scal(ctrl, i)

    p = S(0)
    seed = S(3)
    scx, scy = g.max(S(4), 1e-3), g.max(S(5), 1e-3)
    sl, st = S(6), S(7)
    rl, rb = S(8), S(9)
    rw, rh = g.max(S(10), 1e-3), g.max(S(11), 1e-3)
    has_bg = g.clip01(S(12))
    has_mask = g.clip01(S(13))

    direction = g.clamp(K(0), -1, 1)
    fsize = g.clamp(K(1), 0.25, 4)
    grav = g.clamp(K(2), 0.25, 4)
    dust_amt = g.clamp(K(3), 0, 2)
    dust_rgb = g.clip01(g.op("Slice", ctrl, g.i([4]), g.i([7]), g.i([0])))  # [3]
    dust_tint = g.clip01(K(7))
    spread = g.clamp(K(8), 0, 2)
    debris_amt = g.clamp(K(9), 0, 2)

    aspect = g.div(rw, rh)               # region width in h-units (1 h-unit = region height)
    top = g.add(rb, rh)

    def ch(t4, i, n=1):
        return g.op("Slice", t4, g.i([i]), g.i([i + n]), g.i([1]))

    def col4(v3):  # [3] -> [1,3,1,1]
        return g.reshape(v3, [1, 3, 1, 1])

    def rgba(rgb, a):
        prem = g.mul(rgb, a)
        return g.cat([prem, g.add(a, g.mul(ch(prem, 0), 0.0))], 1)

    def over(a, b):
        return g.add(a, g.mul(g.sub(1.0, ch(a, 3)), b))

    # --- S window ---------------------------------------------------------------
    shp = g.op("Shape", plate)
    Hs_i = g.op("Slice", shp, g.i([2]), g.i([3]), g.i([0]))   # [1] int64
    Ws_i = g.op("Slice", shp, g.i([3]), g.i([4]), g.i([0]))
    Hs = g.cast(g.sq(Hs_i, [0]), F)
    Ws = g.cast(g.sq(Ws_i, [0]), F)

    def sgx(x):  # canonical -> normalized S grid coords (align_corners=0)
        return g.sub(g.div(g.mul(g.mul(g.sub(x, sl), scx), 2.0), Ws), 1.0)

    def sgy(y):
        return g.sub(g.div(g.mul(g.mul(g.sub(st, y), scy), 2.0), Hs), 1.0)

    def grid2(gx, gy):
        """gx, gy broadcastable to [h,w] -> grid [1,h,w,2]."""
        z = g.add(g.mul(gx, 0.0), g.mul(gy, 0.0))
        gx = g.add(gx, z)
        gy = g.add(gy, z)
        return g.unsq(g.cat([g.unsq(gx, [-1]), g.unsq(gy, [-1])], -1), [0])

    def gsample(img, gx, gy, mode="bilinear", align=0, pad="zeros"):
        return g.op("GridSample", img, grid2(gx, gy), mode=mode, align_corners=align, padding_mode=pad)

    def axis_taps(f, n_f, n_i):
        """continuous pixel coordinate f (centre of pixel k at k) -> 2 clamped taps + weights."""
        f0 = g.floor(f)
        w1 = g.sub(f, f0)
        w0 = g.sub(1.0, w1)
        f1 = g.add(f0, 1.0)
        ok0 = g.cast(g.op("And", g.op("GreaterOrEqual", f0, g.c(0.0)), g.lt(f0, n_f)), F)
        ok1 = g.cast(g.op("And", g.op("GreaterOrEqual", f1, g.c(0.0)), g.lt(f1, n_f)), F)
        lim = g.sub(n_f, 1.0)
        i0 = g.cast(g.op("Clip", f0, g.c(0.0), lim), I64)
        i1 = g.cast(g.op("Clip", f1, g.c(0.0), lim), I64)
        return i0, i1, g.mul(w0, ok0), g.mul(w1, ok1)

    def sample_sep(img, xc, yc, cols_first=False):
        """Bilinear (zero padded) sample of img [1,C,Hs,Ws] at canonical xc [w] x yc [h] -> [1,C,h,w].
        Gathers the few rows (or columns) first, then sanitizes only what was gathered."""
        fy = g.sub(g.mul(g.sub(st, yc), scy), 0.5)
        fx = g.sub(g.mul(g.sub(xc, sl), scx), 0.5)
        j0, j1, wy0, wy1 = axis_taps(fy, Hs, None)
        i0, i1, wx0, wx1 = axis_taps(fx, Ws, None)
        if cols_first:
            c = finite(g.op("Gather", img, g.cat([i0, i1], 0), axis=3))           # [1,C,Hs,2w]
            n = g.op("Shape", i0)
            ca = g.op("Slice", c, g.i([0]), n, g.i([3]))
            cb = g.op("Slice", c, n, g.i([1 << 40]), g.i([3]))
            cols = g.add(g.mul(ca, wx0), g.mul(cb, wx1))                          # [1,C,Hs,w]
            return g.add(g.mul(g.op("Gather", cols, j0, axis=2), g.unsq(wy0, [1])),
                         g.mul(g.op("Gather", cols, j1, axis=2), g.unsq(wy1, [1])))
        r = finite(g.op("Gather", img, g.cat([j0, j1], 0), axis=2))               # [1,C,2h,Ws]
        n = g.op("Shape", j0)
        ra = g.op("Slice", r, g.i([0]), n, g.i([2]))
        rb_ = g.op("Slice", r, n, g.i([1 << 40]), g.i([2]))
        rows = g.add(g.mul(ra, g.unsq(wy0, [1])), g.mul(rb_, g.unsq(wy1, [1])))   # [1,C,h,Ws]
        return g.add(g.mul(g.op("Gather", rows, i0, axis=3), wx0),
                     g.mul(g.op("Gather", rows, i1, axis=3), wx1))

    # --- global statistics over S -------------------------------------------
    # (on a strided subsample of S: every STAT_STEP-th pixel at full scale; tile-independent)
    stp = g.cast(g.op("Max", g.op("Round", g.mul(scx, float(STAT_STEP))), g.c(1.0)), I64)
    stp = g.unsq(stp, [0])
    stp2 = g.cat([stp, stp], 0)
    big = g.i([1 << 40, 1 << 40])
    z2s = g.i([0, 0])
    plate_s = finite(g.op("Slice", plate, z2s, big, g.i([2, 3]), stp2))
    mask_s = finite(g.op("Slice", mask, z2s, big, g.i([2, 3]), stp2), unit=True)
    pa = ch(plate_s, 3)
    prgb = ch(plate_s, 0, 3)
    inv_m = g.sub(1.0, mask_s)
    ax = g.i([0, 2, 3])
    amb = g.div(g.op("ReduceSum", g.mul(prgb, inv_m), ax, keepdims=0),
                g.add(g.op("ReduceSum", g.mul(inv_m, pa), ax, keepdims=0), 1e-4))  # [3]
    bld = g.div(g.add(g.op("ReduceSum", g.mul(prgb, mask_s), ax, keepdims=0), g.mul(amb, 1e-3)),
                g.add(g.op("ReduceSum", g.mul(mask_s, pa), ax, keepdims=0), 1e-3))  # [3]
    lumw = g.c([0.2126, 0.7152, 0.0722])
    amb_lum = g.op("ReduceSum", g.mul(amb, lumw), g.i([0]), keepdims=0)
    amb4 = col4(amb)
    # key light: the plate outside the building weighted by luminance^2 (sky glow, sun side)
    lum_s = g.op("ReduceSum", g.mul(prgb, g.reshape(lumw, [1, 3, 1, 1])), g.i([1]), keepdims=1)
    wkey = g.mul(g.mul(inv_m, pa), g.mul(lum_s, lum_s))
    key = g.div(g.add(g.op("ReduceSum", g.mul(prgb, wkey), ax, keepdims=0), g.mul(amb, 1e-4)),
                g.add(g.op("ReduceSum", g.mul(wkey, pa), ax, keepdims=0), 1e-4))
    key = g.div(key, g.max(g.op("ReduceMax", key, keepdims=0), 1e-3))   # normalised key colour [3]

    # --- noise & randoms ----------------------------------------------------
    texs = make_noise_textures(rng)
    ntex = [g.init(t, "noise") for t in texs]
    rtab = g.init(rng.random((NRAND, NRCOL)).astype(np.float32), "rand")
    seed_m = g.op("Mod", g.cast(g.op("Clip", seed, g.c(-1e9), g.c(1e9)), I64), g.i(NRAND))
    seed_f = g.cast(seed_m, F)
    so_x = g.fract(g.mul(seed_f, 0.6180339))
    so_y = g.fract(g.mul(seed_f, 0.7548776))

    def noise(k, u, v):
        """Periodic noise texture k at coords (u,v) in texture periods -> [1,1,h,w]."""
        gx = g.sub(g.mul(g.fract(g.add(u, so_x)), 2.0), 1.0)
        gy = g.sub(g.mul(g.fract(g.add(v, so_y)), 2.0), 1.0)
        return gsample(ntex[k], gx, gy, align=1, pad="border")

    def frange(n):
        """[n] float 0..n-1 (n: int64 [1] or python int)."""
        n = g.i([n]) if isinstance(n, int) else n
        return g.cast(g.op("Range", g.i(0), g.sq(n, [0]), g.i(1)), F)

    # ==================== background estimate (fill lattice) ==================
    # Boundary interpolation of the plate seen just outside the left, right and top
    # edges of the region (each band a few pixels deep, blurred along its edge),
    # computed on a small lattice over the region (X in [0,A], Y in [0,1]).
    Xl = g.mul(g.div(frange(NXF), float(NXF - 1)), aspect)                 # [NXF]
    Yl = g.sub(1.0, g.div(frange(NYF), float(NYF - 1)))                    # [NYF] top first
    depth = g.c([0.0015, 0.004, 0.008])                                   # band depth (h-units)
    blur = g.c(np.linspace(-0.035, 0.035, NBLUR).astype(np.float32).reshape(1, NBLUR))
    epsb = 0.05

    def band_norm(s4, axes):
        num = g.add(g.op("ReduceSum", ch(s4, 0, 3), g.i(axes), keepdims=0), g.mul(g.reshape(amb, [1, 3, 1]), epsb))
        den = g.add(g.op("ReduceSum", ch(s4, 3), g.i(axes), keepdims=0), epsb)
        return g.div(num, den)                                              # [1,3,n]

    def bands(bl):
        """Top band [1,3,1,NXF] and left/right bands [1,3,NYF,1] x2, blurred along the edge by bl."""
        xs_T = g.reshape(g.add(g.unsq(Xl, [1]), bl), [-1])                 # [NXF*NB]
        sT = sample_sep(plate, g.add(rl, g.mul(xs_T, rh)), g.add(top, g.mul(depth, rh)))   # [1,4,3,NXF*NB]
        sT = g.reshape(sT, [1, 4, 3, NXF, NBLUR])
        Tb = g.unsq(band_norm(sT, [2, 4]), [2])                            # [1,3,1,NXF]
        ys_S = g.reshape(g.add(g.unsq(Yl, [1]), bl), [-1])                 # [NYF*NB]
        xs_S = g.cat([g.sub(rl, g.mul(depth, rh)), g.add(g.add(rl, rw), g.mul(depth, rh))], 0)  # [6]
        sS = sample_sep(plate, xs_S, g.add(rb, g.mul(ys_S, rh)), cols_first=True)             # [1,4,NYF*NB,6]
        sS = g.reshape(sS, [1, 4, NYF, NBLUR, 2, 3])
        sS = g.op("ReduceSum", sS, g.i([3, 5]), keepdims=0)                  # [1,4,NYF,2]
        LRb = g.div(g.add(ch(sS, 0, 3), g.mul(amb4, epsb * 3)), g.add(ch(sS, 3), epsb * 3))
        Lb = g.op("Slice", LRb, g.i([0]), g.i([1]), g.i([3]))               # [1,3,NYF,1]
        Rb = g.op("Slice", LRb, g.i([1]), g.i([2]), g.i([3]))
        return Tb, Lb, Rb

    X2 = g.reshape(Xl, [1, 1, 1, NXF])
    Y2 = g.reshape(Yl, [1, 1, NYF, 1])
    Tf, Lf, Rf_ = bands(blur)
    Tc, Lc, Rc = bands(g.mul(blur, 3.0))
    # near each edge its finely blurred band (continuity), further in a broad average
    Tb = g.lerp(Tf, Tc, g.smooth(0.0, 0.25, g.sub(1.0, Y2)))
    Lb = g.lerp(Lf, Lc, g.smooth(0.0, 0.25, X2))
    Rb = g.lerp(Rf_, Rc, g.smooth(0.0, 0.25, g.sub(aspect, X2)))
    # Coons-like patch: sides interpolated across, top correction fading downward and
    # toward the side edges (so each edge reproduces its own band)
    sx = g.div(X2, aspect)
    side = g.lerp(Lb, Rb, sx)
    top_row = lambda t: g.op("Slice", t, g.i([0]), g.i([1]), g.i([2]))
    side_top = g.lerp(top_row(Lf), top_row(Rf_), sx)
    hx = g.mul(g.smooth(0.0, 0.06, X2), g.smooth(0.0, 0.06, g.sub(aspect, X2)))
    wy = g.mul(Y2, Y2)
    P = g.add(side, g.mul(g.sub(Tb, side_top), g.mul(wy, hx)))
    P = g.max(P, 0.0)
    # faint distant silhouette near the ground + gentle noise, both fading to zero at the edges
    Xnl = g.div(Xl, aspect)
    blk = g.floor(g.mul(Xnl, 9.0))
    bidx = g.cast(g.op("Mod", g.add(g.add(blk, 64.0), g.mul(seed_f, 13.0)), g.c(float(NRAND)), fmod=1), I64)
    bh = g.op("Gather", g.reshape(g.op("Slice", rtab, g.i([6]), g.i([7]), g.i([1])), [NRAND]), bidx, axis=0)
    sky_h = g.reshape(g.add(0.10, g.mul(bh, 0.22)), [1, 1, 1, NXF])
    sil = g.smooth(0.008, -0.008, g.sub(Y2, sky_h))
    ef = g.mul(g.smooth(0.0, 0.25, g.min(X2, g.sub(aspect, X2))), g.smooth(0.0, 0.12, g.sub(1.0, Y2)))
    lumP = g.op("ReduceSum", g.mul(P, g.reshape(lumw, [1, 3, 1, 1])), g.i([1]), keepdims=1)
    hazec = g.lerp(P, g.mul(lumP, 0.9), 0.5)
    Pf = g.lerp(P, hazec, g.mul(g.mul(sil, ef), 0.22))
    nf = noise(1, g.unsq(g.mul(Xl, 2.2), [0]), g.unsq(g.mul(Yl, 2.2), [1]))
    Pf = g.mul(Pf, g.add(1.0, g.mul(g.mul(g.sub(nf, 0.5), 0.07), ef)))
    LT = Pf                                                                # [1,3,NYF,NXF]

    # ---- per-frame building matte over the region's part of S ----------------
    c0s = g.cast(g.op("Clip", g.floor(g.mul(g.sub(rl, sl), scx)), g.c(0.0), Ws), I64)
    c1s = g.cast(g.op("Clip", g.op("Ceil", g.mul(g.sub(g.add(rl, rw), sl), scx)), g.c(0.0), Ws), I64)
    r0s = g.cast(g.op("Clip", g.floor(g.mul(g.sub(st, top), scy)), g.c(0.0), Hs), I64)
    r1s = g.cast(g.op("Clip", g.op("Ceil", g.mul(g.sub(st, rb), scy)), g.c(0.0), Hs), I64)
    c1s = g.op("Max", c1s, g.op("Add", c0s, g.i(1)))
    r1s = g.op("Max", r1s, g.op("Add", r0s, g.i(1)))
    Wsi = g.cast(Ws, I64)
    Hsi = g.cast(Hs, I64)
    c0s = g.op("Min", c0s, g.op("Sub", Wsi, g.i(1)))
    r0s = g.op("Min", r0s, g.op("Sub", Hsi, g.i(1)))
    c1s = g.op("Min", c1s, Wsi)
    r1s = g.op("Min", r1s, Hsi)
    v1 = lambda t: g.unsq(t, [0])
    st_ = g.cat([v1(r0s), v1(c0s)], 0)
    en_ = g.cat([v1(r1s), v1(c1s)], 0)
    psub = finite(g.op("Slice", plate, st_, en_, g.i([2, 3])))
    msub = finite(g.op("Slice", mask, st_, en_, g.i([2, 3])), unit=True)
    bsub = finite(g.op("Slice", bg, st_, en_, g.i([2, 3])))
    ws_f = g.cast(g.op("Sub", c1s, c0s), F)
    hs_f = g.cast(g.op("Sub", r1s, r0s), F)
    c0f, r0f = g.cast(c0s, F), g.cast(r0s, F)
    # the fill lattice resampled to the sub-image's pixel centres: an affine map per axis,
    # done by a separable Resize (tf_crop_and_resize) of the edge-padded lattice
    LTp = g.op("Pad", LT, g.i([0, 0, 2, 2, 0, 0, 2, 2]), mode="edge")       # [1,3,NYF+4,NXF+4]
    # lattice column of sub column i: (sl + (c0 + i + 0.5)/scx - rl) / rw * (NXF-1) + 2
    ax_ = g.add(g.mul(g.div(g.sub(g.add(sl, g.div(g.add(c0f, 0.5), scx)), rl), rw), float(NXF - 1)), 2.0)
    bx_ = g.div(float(NXF - 1), g.mul(scx, rw))
    # lattice row of sub row j: (top - (st - (r0 + j + 0.5)/scy)) / rh * (NYF-1) + 2
    ay_ = g.add(g.mul(g.div(g.sub(top, g.sub(st, g.div(g.add(r0f, 0.5), scy))), rh), float(NYF - 1)), 2.0)
    by_ = g.div(float(NYF - 1), g.mul(scy, rh))

    def roi_axis(a, b, n_sub, n_lat):
        s0 = g.div(a, float(n_lat - 1))
        s1 = g.add(s0, g.div(g.mul(b, g.max(g.sub(n_sub, 1.0), 1.0)), float(n_lat - 1)))
        return s0, s1
    ys0, ys1 = roi_axis(ay_, by_, hs_f, NYF + 4)
    xs0, xs1 = roi_axis(ax_, bx_, ws_f, NXF + 4)
    roi = g.cat([g.c([0.0, 0.0]), g.unsq(ys0, [0]), g.unsq(xs0, [0]), g.c([1.0, 1.0]),
                 g.unsq(ys1, [0]), g.unsq(xs1, [0])], 0)
    sizes = g.cat([g.i([1, 3]), v1(g.op("Sub", r1s, r0s)), v1(g.op("Sub", c1s, c0s))], 0)
    PS = g.op("Resize", LTp, roi, "", sizes, mode="linear",
              coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=0.0)  # [1,3,hs,ws]
    dist = g.div(g.op("ReduceSum", g.abs(g.sub(ch(psub, 0, 3), PS)), g.i([1]), keepdims=1),
                 g.add(g.op("ReduceSum", PS, g.i([1]), keepdims=1), 0.06))
    bgl = g.smooth(0.32, 0.14, dist)                   # 1: looks like the background estimate
    # background must be connected to the top of the region through background
    nonbg = g.mul(g.sub(1.0, bgl), g.div(1.0, g.mul(scy, rh)))
    run = g.exp(g.mul(g.op("CumSum", nonbg, g.i(2)), -1.0 / 0.006))
    bmat = g.sub(1.0, g.mul(bgl, run))
    msub = g.mul(msub, g.lerp(bmat, 1.0, has_mask))
    ptex = g.cat([psub, msub], 1)               # [1,5,hs,ws] plate + building matte (region sub-image)
    gtex = g.cat([msub, PS, bsub], 1)           # [1,8,hs,ws] matte, fill rgb, background rgba

    def gather_px(img, xc, yc):
        """Nearest sub-image pixel (output grids are pixel-aligned with S) -> [1,C,h,w], + validity."""
        fx = g.sub(g.op("Round", g.sub(g.mul(g.sub(xc, sl), scx), 0.5)), c0f)
        fy = g.sub(g.op("Round", g.sub(g.mul(g.sub(st, yc), scy), 0.5)), r0f)
        okx = g.cast(g.op("And", g.op("GreaterOrEqual", fx, g.c(0.0)), g.lt(fx, ws_f)), F)
        oky = g.cast(g.op("And", g.op("GreaterOrEqual", fy, g.c(0.0)), g.lt(fy, hs_f)), F)
        ix = g.cast(g.op("Clip", fx, g.c(0.0), g.sub(ws_f, 1.0)), I64)
        iy = g.cast(g.op("Clip", fy, g.c(0.0), g.sub(hs_f, 1.0)), I64)
        out = g.op("Gather", g.op("Gather", img, iy, axis=2), ix, axis=3)
        return out, g.mul(g.unsq(oky, [1]), g.unsq(okx, [0]))

    def sub_gx(x):  # canonical -> normalized sub-image grid coords (align_corners=0)
        return g.sub(g.div(g.mul(g.sub(g.mul(g.sub(x, sl), scx), c0f), 2.0), ws_f), 1.0)

    def sub_gy(y):
        return g.sub(g.div(g.mul(g.sub(g.mul(g.sub(st, y), scy), r0f), 2.0), hs_f), 1.0)

    # --- chunk layout (per cell tables [RMAX, CCOLS]) ------------------------
    Rf = g.clamp(g.op("Round", g.div(g.mul(6.5, g.op("Pow", aspect, g.c(-0.2))), fsize)), 2, RMAX)
    Cf = g.clamp(g.op("Round", g.mul(g.mul(aspect, Rf), 0.85)), 1, CMAX)
    rr = g.c(np.arange(RMAX, dtype=np.float32).reshape(RMAX, 1))
    cc = g.c((np.arange(CCOLS, dtype=np.float32) - 1).reshape(1, CCOLS))
    cell_lin = g.c(np.arange(NCELL, dtype=np.int64).reshape(RMAX, CCOLS), np.int64)
    ridx = g.op("Mod", g.add(g.mul(cell_lin, g.i(7)), g.mul(seed_m, g.i(131))), g.i(NRAND))
    crnd = g.op("Gather", rtab, ridx, axis=0)   # [RMAX, CCOLS, NRCOL]
    rnd = [g.sq(g.op("Slice", crnd, g.i([k]), g.i([k + 1]), g.i([2])), [2]) for k in range(NRCOL)]
    rowr = g.op("Slice", rnd[0], g.i([0]), g.i([1]), g.i([1]))  # [RMAX,1]

    brick = g.add(g.mul(g.op("Mod", rr, g.c(2.0), fmod=1), 0.5), g.mul(g.sub(rowr, 0.5), 0.3))
    brick = g.fract(g.add(brick, 1.0))                     # [RMAX,1] in [0,1)
    hw = g.div(g.mul(aspect, 0.5), Cf)                     # half width (h-units)
    hh = g.div(0.5, Rf)
    row_valid = g.lt(rr, Rf)                               # [RMAX,1]
    valid = g.op("And", row_valid, g.lt(cc, Cf))           # [RMAX,CCOLS]

    cx = g.mul(g.div(g.add(g.add(cc, 0.5), brick), Cf), aspect)   # rest centre x (h-units)
    cy = g.div(g.add(rr, 0.5), Rf)                                 # rest centre y
    xn_c = g.div(cx, aspect)                                       # 0..1

    # release: the lower floors give first (staggered), then the upper mass drops
    # as one block and breaks up when it lands on them
    rowfrac = g.div(rr, g.max(g.sub(Rf, 1.0), 1.0))
    lower = g.lt(cy, 0.34)                                          # [RMAX,1]
    t_row = g.where(lower, g.add(0.02, g.mul(0.22, rowfrac)), g.add(0.11, g.mul(0.015, rowfrac)))
    jit = g.where(lower, 0.05, 0.012)
    t_rel = g.add(t_row, g.mul(rnd[0], jit))
    t_brk = g.where(lower, 0.0, g.add(0.07, g.mul(rnd[7], 0.08)))     # block: rigid until it lands
    Gk = g.mul(grav, 8.0)
    tau = g.relu(g.sub(p, t_rel))
    tb = g.relu(g.sub(tau, g.div(t_brk, g.sqrt(grav))))            # time since break-up
    drop = g.mul(g.mul(g.mul(tau, tau), Gk), 0.5)
    tau_row = g.relu(g.sub(p, g.add(t_row, g.mul(jit, 0.5))))
    drop_row = g.mul(g.mul(g.mul(tau_row, tau_row), Gk), 0.5)     # [RMAX,1]
    lean = g.sub(g.mul(direction, 0.22), 0.08)
    OUT = 0.16
    DMAX = 0.22   # drift is limited so chunks stay inside the core box
    drift = lambda d: g.mul(DMAX, g.op("Tanh", g.div(d, DMAX)))
    dx = g.add(drift(g.mul(g.add(lean, g.mul(xn_c, OUT * 2)), drop)),
               g.mul(g.sub(rnd[1], 0.5), g.mul(tb, 0.35)))
    curx = g.add(cx, dx)
    cury = g.sub(cy, drop)
    omega = g.add(g.mul(g.add(direction, g.mul(g.sub(xn_c, 0.5), 1.5)), -1.4),
                  g.mul(g.sub(rnd[2], 0.5), 5.0))
    theta = g.add(g.mul(omega, g.mul(tb, g.add(1.0, g.mul(tb, 1.5)))),
                  g.mul(g.sub(rnd[8], 0.5), g.mul(g.clip01(g.mul(tau, 6.0)), 0.12)))
    cth, sth = g.cos(theta), g.sin(theta)
    released = g.op("And", valid, g.gt(tau, 0.0))
    prio = g.where(released, g.add(1.0, rnd[3]), 0.0)
    # u = a1*X + a2*Y + a0 ; v = kk*(a1*Y - a2*X) + b0   (u,v in cell half-extents)
    a1 = g.div(cth, hw)
    a2 = g.div(sth, hw)
    a0 = g.neg(g.add(g.mul(a1, curx), g.mul(a2, cury)))
    kk = g.div(hw, hh)
    b0 = g.neg(g.mul(kk, g.sub(g.mul(a1, cury), g.mul(a2, curx))))
    flat = lambda t: g.reshape(g.add(t, g.mul(cx, 0.0)), [NCELL])
    # per-chunk shape: size jitter, a shadowed face (split line), some darker chunks
    su = g.add(0.88, g.mul(rnd[9], 0.2))
    sv = g.add(0.88, g.mul(rnd[10], 0.2))
    fang = g.mul(rnd[11], 6.2831853)
    has_face = g.cast(g.gt(rnd[4], 0.45), F)
    face_c = g.add(0.15, g.mul(rnd[5], 0.5))
    dark = g.where(g.gt(rnd[6], 0.82), 0.6, 1.0)
    thr_face = g.where(g.gt(has_face, 0.5), face_c, 9.0)
    # per-candidate tables (1-D gathers); the winner's extras come from one packed table [NCELL, 12]
    TABC = [flat(t) for t in (a1, a2, a0, b0, prio)]
    TABW = g.cat([g.unsq(flat(t), [1]) for t in (g.cos(fang), g.sin(fang), thr_face, dark, rnd[4], rnd[5],
                                                  cx, cy, tau, g.div(1.0, su), g.div(1.0, sv), tb)], 1)
    PRI = flat(prio)
    w_cx, w_cy, w_tau = flat(cx), flat(cy), flat(tau)
    w_rel = flat(g.cast(released, F))
    # row-level inversion for candidate columns: X = cx + drift(...) ~ linear in cx
    row_drop_eff = drift(g.mul(drop_row, 0.5))
    row_scale = g.add(1.0, g.div(g.mul(g.div(row_drop_eff, g.max(g.mul(drop_row, 0.5), 1e-6)),
                                       g.mul(drop_row, OUT * 2)), aspect))
    row_off = g.mul(g.div(row_drop_eff, g.max(g.mul(drop_row, 0.5), 1e-6)), g.mul(g.sub(lean, OUT), drop_row))
    row_cury = g.sub(cy, drop_row)                                      # [RMAX,1]
    row_cury_v = g.where(row_valid, row_cury, 1e4)
    # bounding box of the released chunks (h-units), for the fragment layer
    ext = g.mul(g.sqrt(g.add(g.mul(hw, hw), g.mul(hh, hh))), 1.45)
    relv = g.op("And", released, valid)
    fr_x0 = g.op("ReduceMin", g.where(relv, g.sub(curx, ext), 1e4), keepdims=0)
    fr_x1 = g.op("ReduceMax", g.where(relv, g.add(curx, ext), -1e4), keepdims=0)
    fr_y1 = g.op("ReduceMax", g.where(relv, g.add(cury, ext), -1e4), keepdims=0)

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
    ry1 = g.add(top, g.mul(rh, T))
    xs, ys, pads_r, inside_r = box(ox, oy, rx0, rx1, ry0, ry1)
    px_h = g.div(1.0, g.mul(scx, rh))             # one output pixel in h-units

    # ======================= core box: hole, fill, rubble, fragments ==========
    fx0 = g.sub(rl, g.mul(rh, DMAX + 0.12))
    fx1 = g.add(g.add(rl, rw), g.mul(rh, DMAX + 0.12))
    fy0 = g.sub(rb, g.mul(rh, B))
    fy1 = g.add(top, g.mul(rh, 0.02))
    fxs, fys, pads_f, _ = box(xs, ys, fx0, fx1, fy0, fy1)
    Xh = g.unsq(g.div(g.sub(fxs, rl), rh), [0])   # [1,w]
    Yh = g.unsq(g.div(g.sub(fys, rb), rh), [1])   # [h,1]
    Xn = g.div(Xh, aspect)

    gt_, okp = gather_px(gtex, fxs, fys)          # matte, fill, background at the pixel
    m_here = g.mul(ch(gt_, 0), okp)
    fill_rgb = ch(gt_, 1, 3)
    bg_here = ch(gt_, 4, 4)

    # hole: rest cell of this pixel released? (jagged cell boundaries)
    nh = noise(2, g.mul(Xh, 1.3), g.mul(Yh, 1.3))
    jit = g.sub(nh, 0.5)
    Yj = g.add(g.mul(Yh, Rf), g.mul(jit, 0.6))
    r_here = g.clamp(g.min(g.floor(Yj), g.sub(Rf, 1.0)), 0, RMAX - 1)
    brick_here = g.op("Gather", g.reshape(brick, [RMAX]), g.cast(r_here, I64), axis=0)
    c_here = g.clamp(g.min(g.floor(g.sub(g.sub(g.mul(Xn, Cf), g.mul(jit, 0.6)), brick_here)), g.sub(Cf, 1.0)),
                     -1, CMAX)
    cell_here = g.cast(g.add(g.mul(r_here, float(CCOLS)), g.add(c_here, 1.0)), I64)
    hole_a = g.mul(m_here, g.op("Gather", w_rel, cell_here, axis=0))      # [1,1,h,w]
    fill = g.cat([fill_rgb, g.add(g.mul(ch(fill_rgb, 0), 0.0), 1.0)], 1)
    fill = g.lerp(fill, bg_here, has_bg)
    E = g.mul(fill, hole_a)

    # rubble pile at the base
    grow = g.smooth(0.12, 1.0, p)
    nr = noise(1, g.mul(Xh, 2.5), g.mul(Yh, 2.5))
    prof = g.clip01(g.sub(1.0, g.op("Pow", g.abs(g.mul(g.sub(Xn, 0.5), 2.0 / 1.1)), g.c(4.0))))
    pile_h = g.mul(g.mul(grow, prof), g.add(0.03, g.mul(nr, 0.08)))
    pile_a = g.mul(g.smooth(g.neg(px_h), px_h, g.sub(pile_h, Yh)), g.smooth(0.0, 0.01, pile_h))
    pile_a = g.mul(pile_a, g.smooth(-0.035, -0.005, g.add(Yh, g.mul(g.sub(nr, 0.5), 0.03))))
    rub_shade = g.add(0.35, g.mul(g.clip01(g.div(Yh, g.max(pile_h, 1e-3))), 0.5))
    rub_rgb = g.mul(col4(bld), g.mul(rub_shade, g.add(0.5, g.mul(nh, 0.8))))
    E = over(rgba(rub_rgb, pile_a), E)

    # fragments (inside the released chunks' bounding box): 2 bracketing rows x 2 columns
    gxs_, gys_, pads_g, _ = box(fxs, fys, g.add(rl, g.mul(fr_x0, rh)), g.add(rl, g.mul(fr_x1, rh)),
                                g.sub(rb, g.mul(rh, 0.02)), g.add(rb, g.mul(fr_y1, rh)))
    fXh = g.div(g.sub(gxs_, rl), rh)       # [w]
    fYh = g.div(g.sub(gys_, rb), rh)       # [h]
    below_cnt = g.op("ReduceSum", g.cast(g.op("LessOrEqual", g.reshape(row_cury_v, [1, RMAX]),
                                                g.unsq(fYh, [1])), I64), g.i([1]), keepdims=1)  # [h,1]
    rows = g.op("Add", g.unsq(below_cnt, [0]), g.c(np.array([-1, 0], np.int64).reshape(2, 1, 1), np.int64))
    rows_ok = g.op("And", g.op("GreaterOrEqual", rows, g.i(0)), g.op("Less", rows, g.i(RMAX)))
    rows_c = g.op("Clip", rows, g.i(0), g.i(RMAX - 1))
    gsc = lambda t: g.op("Gather", g.reshape(t, [RMAX]), rows_c, axis=0)   # [2,h,1]
    k_scale, k_off, k_brick = gsc(row_scale), gsc(row_off), gsc(brick)
    X3 = g.unsq(fXh, [0])      # [1,w]
    Y3 = g.unsq(fYh, [1])      # [h,1]
    xrest = g.div(g.sub(X3, k_off), k_scale)                            # [2,h,w]
    band_f = g.sub(g.mul(g.div(xrest, aspect), Cf), k_brick)
    band = g.floor(band_f)
    nbr = g.add(band, g.sub(g.mul(g.cast(g.op("GreaterOrEqual", g.sub(band_f, band), g.c(0.5)), F), 2.0), 1.0))
    colk = g.cat([g.clamp(band, -1, CMAX), g.clamp(nbr, -1, CMAX)], 0)   # [4,h,w]: own + nearer neighbour
    rowk = g.cat([g.cast(rows_c, F)] * 2, 0)                             # [4,h,1]
    okk = g.cat([rows_ok] * 2, 0)
    cidx = g.cast(g.add(g.mul(rowk, float(CCOLS)), g.add(colk, 1.0)), I64)   # [4,h,w]
    ga1, ga2, ga0, gb0, gpr = (g.op("Gather", t, cidx, axis=0) for t in TABC)
    uu = g.add(g.add(g.mul(ga1, X3), g.mul(ga2, Y3)), ga0)
    vv = g.add(g.mul(g.sub(g.mul(ga1, Y3), g.mul(ga2, X3)), kk), gb0)
    mm = g.max(g.abs(uu), g.abs(vv))
    inside = g.op("And", g.lt(mm, 1.0), okk)
    score = g.where(inside, gpr, 0.0)
    win = g.op("ArgMax", score, axis=0, keepdims=1)                      # [1,h,w]
    wscore = g.op("ReduceMax", score, g.i([0]), keepdims=1)
    wu = g.sq(g.op("GatherElements", uu, win, axis=0), [0])
    wv = g.sq(g.op("GatherElements", vv, win, axis=0), [0])
    wcell = g.sq(g.op("GatherElements", cidx, win, axis=0), [0])        # [h,w]
    WT = g.op("Gather", TABW, wcell, axis=0)                             # [h,w,12]
    wcf, wsf, wthf, wdark, wr4, wr5, wcx, wcy, wtau, wisu, wisv, wtb = (
        g.sq(t, [2]) for t in g.op("Split", WT, axis=2, outs=12, num_outputs=12))
    brk = g.clip01(g.add(g.mul(wtb, 6.0), 0.1))        # chunks separate once the mass breaks up
    wm = g.max(g.mul(g.abs(wu), g.lerp(1.0, wisu, brk)), g.mul(g.abs(wv), g.lerp(1.0, wisv, brk)))
    srcx = g.add(wcx, g.mul(wu, hw))             # rest position (h-units)
    srcy = g.add(wcy, g.mul(wv, hh))
    fsamp = gsample(ptex, sub_gx(g.add(rl, g.mul(srcx, rh))), sub_gy(g.add(rb, g.mul(srcy, rh))))  # [1,5,h,w]
    # jagged erosion of chunk edges, grows with time
    ne = noise(2, g.add(g.mul(wu, 0.3), wr4), g.add(g.mul(wv, 0.3), wr5))
    erode = g.add(g.mul(g.mul(g.sub(ne, 0.4), 0.34), brk), g.mul(g.clip01(g.mul(wtb, 1.2)), 0.22))
    thr = g.sub(1.0, erode)
    edge_w = g.div(px_h, g.min(hw, hh))
    fa = g.clip01(g.div(g.sub(thr, wm), g.mul(edge_w, 1.2)))
    fa = g.mul(fa, g.cast(g.gt(wscore, 0.0), F))
    fa = g.mul(fa, g.smooth(-0.015, 0.03, Y3))               # vanish at the ground line
    fa = g.mul(fa, ch(fsamp, 4))                             # made of building pixels only
    crack = g.add(0.7, g.mul(g.clip01(g.div(g.sub(thr, wm), 0.12)), 0.3))
    face = g.smooth(-0.04, 0.04, g.sub(g.add(g.mul(wcf, wu), g.mul(wsf, wv)), wthf))
    shade = g.mul(g.mul(crack, wdark), g.sub(1.0, g.mul(face, 0.45)))
    shade = g.mul(shade, g.sub(1.0, g.mul(g.clip01(g.mul(wtau, 1.5)), 0.25)))
    Fr = g.cat([g.mul(ch(fsamp, 0, 3), g.mul(fa, shade)), g.mul(ch(fsamp, 3), fa)], 1)
    E = over(pad(Fr, pads_g), E)
    E = pad(E, pads_f)                                       # -> reach box

    # ======================= dust (on a lattice over the reach box) ===========
    # The density and colour are evaluated on a lattice in region units (fixed per
    # frame: the same for every tile and render scale) and sampled bilinearly.
    lim_x = g.mul(aspect, 0.5 + min(L, R_))
    lim_y = 1.0 + T
    nxd = g.cast(g.op("Ceil", g.mul(g.mul(lim_x, 2.0), DUST_DENS)), I64)
    nxd = g.unsq(g.op("Clip", nxd, g.i(16), g.i(4096)), [0])
    nyd = int(np.ceil((lim_y + B) * DUST_DENS))
    Xc = g.unsq(g.mul(g.sub(g.div(g.mul(frange(nxd), 2.0), g.sub(g.cast(nxd, F), 1.0)), 1.0), lim_x), [0])  # [1,nx]
    Yd = g.reshape(g.sub(lim_y, g.mul(g.div(frange(nyd), float(nyd - 1)), lim_y + B)), [nyd, 1])         # [ny,1]
    pd = g.relu(g.sub(p, 0.03))
    grow_d = g.sub(1.0, g.exp(g.mul(pd, -2.5)))
    wd = g.add(g.mul(aspect, 0.5), g.mul(spread, g.add(0.08, g.mul(grow_d, 0.7))))
    late = g.relu(g.sub(p, 0.7))
    hd = g.add(0.1, g.mul(g.sub(1.0, g.exp(g.mul(pd, -2.6))), 1.1))
    hd = g.div(hd, g.add(1.0, g.mul(late, 3.5)))                          # the haze sinks
    dxa = g.min(g.mul(wd, 1.3), lim_x)
    dya = g.min(g.mul(hd, 1.3), lim_y)
    qx = g.div(Xc, wd)
    qy = g.div(g.relu(Yd), hd)
    dome = g.sub(1.0, g.add(g.mul(qx, qx), g.mul(qy, qy)))
    ex = g.add(1.0, g.mul(pd, g.add(0.5, g.mul(spread, 0.5))))
    u1 = g.div(g.mul(Xc, 0.5), ex)
    v1 = g.sub(g.div(g.mul(Yd, 0.5), g.add(1.0, g.mul(pd, 0.6))), g.mul(pd, 0.3))
    n1 = noise(0, u1, v1)
    n2 = noise(1, g.add(g.mul(u1, 2.7), g.mul(pd, 0.17)), g.sub(g.mul(v1, 2.7), g.mul(pd, 0.55)))
    fb = g.add(g.mul(n1, 0.62), g.mul(n2, 0.38))
    base_d = g.add(g.mul(dome, 1.5), g.mul(g.sub(fb, 0.5), 2.6))
    base_d = g.add(base_d, g.mul(g.smooth(0.3, 0.0, Yd), g.mul(g.clip01(g.add(dome, 0.3)), 0.6)))
    rho = g.smooth(0.0, 0.55, base_d)
    amount = g.mul(dust_amt, g.smooth(0.03, 0.16, p))
    settle = g.add(0.08, g.mul(0.92, g.exp(g.mul(late, -4.0))))
    amount = g.mul(amount, settle)
    # every layer fades smoothly to zero toward its box (no visible clipping)
    winx = g.smooth(dxa, g.mul(dxa, 0.72), g.abs(Xc))
    winy = g.mul(g.smooth(dya, g.mul(dya, 0.6), Yd), g.smooth(-B, 0.0, Yd))
    dens = g.clip01(g.mul(g.mul(rho, amount), g.mul(winx, winy)))
    light = g.clamp(g.div(amb_lum, 0.3), 0.12, 2.0)
    tint = g.lerp(col4(dust_rgb), g.mul(amb4, 1.1), dust_tint)
    tint = g.mul(tint, g.lerp(1.0, light, dust_tint))
    # light from above: tops of billows bright, undersides and the core darker
    lit = g.add(0.55, g.mul(g.clip01(g.add(g.mul(g.div(Yd, hd), 0.6), g.mul(g.sub(n1, 0.5), 1.2))), 0.6))
    lit = g.mul(lit, g.sub(1.0, g.mul(g.smooth(0.4, 1.8, base_d), 0.25)))
    lit = g.mul(lit, g.add(0.8, g.mul(n2, 0.4)))
    DL = rgba(g.mul(tint, lit), dens)                                       # [1,4,ny,nx]
    cxm = g.add(rl, g.mul(rw, 0.5))
    dxs, dys, pads_d, _ = box(xs, ys, g.sub(cxm, g.mul(dxa, rh)), g.add(cxm, g.mul(dxa, rh)),
                              ry0, g.add(rb, g.mul(dya, rh)))
    gdx = g.div(g.div(g.sub(dxs, cxm), rh), lim_x)
    gdy = g.sub(g.mul(g.div(g.sub(lim_y, g.div(g.sub(dys, rb), rh)), lim_y + B), 2.0), 1.0)
    D = pad(gsample(DL, g.unsq(gdx, [0]), g.unsq(gdy, [1]), align=1, pad="zeros"), pads_d)

    # ======================= debris specks ====================================
    tdb = g.relu(g.sub(p, 0.06))
    env_w = g.add(g.mul(aspect, 0.5), g.mul(spread, g.add(0.05, g.mul(grow_d, 0.45))))
    env_h = g.add(0.05, g.mul(g.mul(tdb, 2.0), g.exp(g.mul(tdb, -3.0))))
    bxs, bys, pads_b, _ = box(xs, ys, g.sub(cxm, g.mul(env_w, rh)), g.add(cxm, g.mul(env_w, rh)),
                              ry0, g.add(rb, g.mul(env_h, rh)))
    Xb = g.unsq(g.div(g.sub(bxs, cxm), rh), [0])
    Yb = g.unsq(g.div(g.sub(bys, rb), rh), [1])
    fallv = g.mul(g.mul(tdb, tdb), g.mul(Gk, 0.2))
    ds_u = g.div(g.mul(Xb, 6.0), g.add(1.0, g.mul(tdb, 1.5)))
    ds_v = g.add(g.mul(Yb, 6.0), g.sub(g.mul(fallv, 6.0), g.mul(tdb, 4.0)))
    nd = noise(3, ds_u, ds_v)
    speck = g.lin01(0.72, 0.8, nd)
    denv = g.mul(g.smooth(env_w, g.mul(env_w, 0.6), g.abs(Xb)), g.smooth(env_h, g.mul(env_h, 0.3), Yb))
    denv = g.mul(denv, g.mul(g.smooth(0.05, 0.18, p), g.sub(1.0, g.mul(g.smooth(0.6, 1.2, p), 0.85))))
    db_a = g.clip01(g.mul(g.mul(speck, denv), g.mul(debris_amt, 0.9)))
    Db = pad(rgba(g.mul(col4(bld), 0.25), db_a), pads_b)
    E = over(Db, E)
    E = over(D, E)

    # ---- final: reach box, progress gate, pad to the output grid ---------------
    gate = g.cast(g.gt(p, 0.0), F)
    E = g.mul(E, g.mul(inside_r, gate))
    return pad(E, pads_r)


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
    # The images stay in their own dtype over S: only the slices the model reads
    # (region sub-image, boundary bands, a strided subsample for statistics) are
    # cast to float32 and sanitized (NaN/Inf in the plate must not spread).
    def finite(x, unit=False):
        if fp16:
            x = g.cast(x, F)
        x = g.op("Where", g.op("IsNaN", x), g.c(0.0), x)
        return g.clip01(x) if unit else g.op("Clip", x, g.c(-65504.0), g.c(65504.0))
    E = build_core(g, "plate", "background", "mask", "out_x", "out_y", "scene", "controls", rng, finite)
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
