#!/usr/bin/env python3
"""Build the bundled default "generative" collapse model (contract 1).

The model is a procedural generator written as an ONNX graph: no training, no
downloads.  It synthesizes a building collapse for the region the artist drew:

* the facade inside the building matte breaks into a brick grid of chunks whose
  boundaries are irregular crack lines (a seeded jitter of the rest position, shared
  with the hole, so chunks tile exactly at rest); lower floors give first, the upper
  mass drops as a rigid block (y = y0 - g t^2 / 2) and its rows break up one by one at
  the crush front; the pieces keep accelerating down, slide outward only a little (with
  `direction`), tumble, erode at their edges and sink into the rubble at the ground line; shading is a per-chunk tone from its tilt, a soft darkening toward its
  edges and thin dark cracks as it starts to move; gaps below the standing mass show the
  dark interior; rendering is a per-pixel *gather*: each output pixel tests 4 candidate
  chunks (two bracketing rows x own + nearer column), inverts the winner's rigid motion
  and samples the plate there (GridSample);
* without a Mask clip the building matte is estimated: pixels that match the
  background estimate and connect to the region's top through background stay
  the plate;
* the hole left behind shows the clean plate (`background`) or, without one, a
  Coons-like boundary interpolation of the plate just outside the left, right and
  top edges (faint distant silhouette and gentle noise fading toward the edges);
* a dust plume (on a lattice, sampled bilinearly) bursts from the base: billows of
  advected cauliflower noise (rounded puffs at several scales), a ground front rolling
  out faster than the fall, then a haze that thins slowly; its colour mixes the dust
  colour with the plate's ambient colour, lit by the plate's key light from above
  (leaning to the plate's brighter side) through its own shadow (lattice taps toward
  the light);
* three bursts of debris specks in the facade's colours are shed where it crushes and
  fall ballistically; a mounded rubble pile of stones grows on the ground, each stone its
  own rotated patch of the facade, dust-coated toward the top.

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
DUST_DENS = 100.0  # dust lattice points per region height
STAT_STEP = 8     # stride of the subsample the global statistics use

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


def make_puff_texture(seed=7, n=128):
    """Cauliflower texture: periodic height field of rounded puffs (sphere caps) at three
    scales, small puffs riding on big ones, normalised to [0,1] -> [1,1,n+1,n+1].
    (Its own generator, so the other baked tables do not change.)"""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    h = np.zeros((n, n))
    for count, r0, r1, amp in ((16, 16, 26, 1.0), (60, 7, 12, 0.55), (200, 3, 5.5, 0.3)):
        lvl = np.zeros((n, n))
        for _ in range(count):
            cx, cy = rng.random(2) * n
            r = r0 + (r1 - r0) * rng.random()
            dx = (xx - cx + n / 2) % n - n / 2
            dy = (yy - cy + n / 2) % n - n / 2
            lvl = np.maximum(lvl, np.sqrt(np.maximum(1 - (dx * dx + dy * dy) / (r * r), 0)) * r / r1)
        h += amp * lvl
    lo, hi = np.percentile(h, 0.5), np.percentile(h, 99.5)
    t = np.clip((h - lo) / (hi - lo), 0, 1)
    t = np.concatenate([t, t[:1, :]], axis=0)
    t = np.concatenate([t, t[:, :1]], axis=1)
    return t[None, None].astype(np.float32)


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

def build_core(g, plate, bg, mask, ox, oy, scene, ctrl, rng, finite, fp16=False):
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

    def sep_sample(img, tx, ty):
        """img [1,C,H,W] sampled at the separable taps tx (columns: i0, i1, w0, w1, each [w])
        and ty (rows, each [h]) -> [1,C,h,w]: columns of the small image first, then rows."""
        i0, i1, wx0, wx1 = tx
        j0, j1, wy0, wy1 = ty
        imt = g.op("Transpose", img, perm=[0, 1, 3, 2])     # columns as rows: gathers copy whole rows
        cols = g.add(g.mul(g.op("Gather", imt, i0, axis=2), g.unsq(wx0, [1])),
                     g.mul(g.op("Gather", imt, i1, axis=2), g.unsq(wx1, [1])))
        cols = g.op("Transpose", cols, perm=[0, 1, 3, 2])   # [1,C,H,w]
        return g.add(g.mul(g.op("Gather", cols, j0, axis=2), g.unsq(wy0, [1])),
                     g.mul(g.op("Gather", cols, j1, axis=2), g.unsq(wy1, [1])))

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
        # the rows lie close together: one slice of the rows they span, then a gather
        jj = g.cat([j0, j1], 0)
        jlo = g.op("ReduceMin", jj, keepdims=1)
        jhi = g.op("Add", g.op("ReduceMax", jj, keepdims=1), g.i([1]))
        r = finite(g.op("Gather", g.op("Slice", img, jlo, jhi, g.i([2])), g.op("Sub", jj, jlo), axis=2))
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
    # dust colour: its base colour mixed with the plate's ambient colour and scaled by its light
    light = g.clamp(g.div(amb_lum, 0.3), 0.12, 2.0)
    tint = g.lerp(col4(dust_rgb), g.mul(amb4, 1.1), dust_tint)
    tint = g.mul(tint, g.lerp(1.0, light, dust_tint))
    key_lum = g.op("ReduceSum", g.mul(key, lumw), g.i([0]), keepdims=0)
    keyn = col4(g.div(key, g.max(key_lum, 1e-3)))                      # key colour at unit luminance
    key_tint = g.lerp(g.c(1.0, shape=[1, 1, 1, 1]), keyn, g.mul(dust_tint, 1.2))

    # --- noise & randoms ----------------------------------------------------
    texs = make_noise_textures(rng) + [make_puff_texture()]   # 4: cauliflower puffs (dust)
    ntex = [g.init(t, "noise") for t in texs]
    rtab = g.init(rng.random((NRAND, NRCOL)).astype(np.float32), "rand")
    seed_m = g.op("Mod", g.cast(g.op("Clip", seed, g.c(-1e9), g.c(1e9)), I64), g.i(NRAND))
    seed_f = g.cast(seed_m, F)
    so_x = g.fract(g.mul(seed_f, 0.6180339))
    so_y = g.fract(g.mul(seed_f, 0.7548776))

    def noise2d(k, u, v):
        """Periodic noise texture k at coords (u,v) in texture periods -> [1,1,h,w]."""
        gx = g.sub(g.mul(g.fract(g.add(u, so_x)), 2.0), 1.0)
        gy = g.sub(g.mul(g.fract(g.add(v, so_y)), 2.0), 1.0)
        return gsample(ntex[k], gx, gy, align=1, pad="border")

    NT = texs[0].shape[-1] - 1            # texture period in texels (last row/col = first)

    def noise_taps(u, so):
        f = g.reshape(g.mul(g.fract(g.add(u, so)), float(NT)), [-1])
        i0 = g.op("Clip", g.floor(f), g.c(0.0), g.c(float(NT - 1)))
        w1 = g.sub(f, i0)
        i0i = g.cast(i0, I64)
        return i0i, g.op("Add", i0i, g.i(1)), g.sub(1.0, w1), w1

    def noise(k, u, v):
        """Separable lookup: u [1,w] (or [w]) depends on x only, v [h,1] on y only -> [1,1,h,w].
        Bilinear like noise2d, but a gather of the texture's columns, then of its rows."""
        return sep_sample(ntex[k], noise_taps(u, so_x), noise_taps(v, so_y))

    def frange(n):
        """[n] float 0..n-1 (n: int64 [1] or python int)."""
        n = g.i([n]) if isinstance(n, int) else n
        return g.cast(g.op("Range", g.i(0), g.sq(n, [0]), g.i(1)), F)

    # key light direction (the dust's self-shadowing): from above, leaning toward the side
    # of the plate around the building that is brighter (the luminance^2-weighted centroid
    # of the pixels outside the building against their plain centroid, in region widths);
    # upper-left when the plate is symmetric
    ws_s = g.op("Slice", g.op("Shape", plate_s), g.i([3]), g.i([4]), g.i([0]))
    xcol = g.add(sl, g.div(g.add(g.mul(frange(ws_s), g.cast(stp, F)), 0.5), scx))
    xrel = g.reshape(g.div(g.sub(xcol, g.add(rl, g.mul(rw, 0.5))), rw), [1, 1, 1, -1])
    wpl = g.mul(inv_m, pa)
    cen = lambda w: g.div(g.op("ReduceSum", g.mul(w, xrel), keepdims=0),
                          g.add(g.op("ReduceSum", w, keepdims=0), 1e-4))
    key_lean = g.clamp(g.sub(g.mul(g.sub(cen(wkey), cen(wpl)), 4.0), 0.3), -0.5, 0.5)   # -0.5 left .. 0.5 right

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
    ws_f = g.cast(g.op("Sub", c1s, c0s), F)
    hs_f = g.cast(g.op("Sub", r1s, r0s), F)
    c0f, r0f = g.cast(c0s, F), g.cast(r0s, F)
    # The estimate runs at half the resolution of the region's sub-image of S (every second
    # pixel, rows and columns); the plate's colour is sanitized through the distance below.
    psub = g.op("Slice", plate, g.cat([g.i([0]), st_], 0), g.cat([g.i([3]), en_], 0), g.i([1, 2, 3]),
                g.i([1, 2, 2]))
    if fp16:
        psub = g.cast(psub, F)
    hs2 = g.op("Div", g.op("Add", g.op("Sub", r1s, r0s), g.i(1)), g.i(2))
    ws2 = g.op("Div", g.op("Add", g.op("Sub", c1s, c0s), g.i(1)), g.i(2))
    hs2f, ws2f = g.cast(hs2, F), g.cast(ws2, F)
    # the fill lattice resampled to those pixel centres: an affine map per axis, done by a
    # separable Resize (tf_crop_and_resize) of the edge-padded lattice
    LTp = g.op("Pad", LT, g.i([0, 0, 2, 2, 0, 0, 2, 2]), mode="edge")       # [1,3,NYF+4,NXF+4]
    # lattice column of half-res column i: (sl + (c0 + 2i + 0.5)/scx - rl) / rw * (NXF-1) + 2
    ax_ = g.add(g.mul(g.div(g.sub(g.add(sl, g.div(g.add(c0f, 0.5), scx)), rl), rw), float(NXF - 1)), 2.0)
    bx_ = g.div(float(2 * (NXF - 1)), g.mul(scx, rw))
    # lattice row of half-res row j: (top - (st - (r0 + 2j + 0.5)/scy)) / rh * (NYF-1) + 2
    ay_ = g.add(g.mul(g.div(g.sub(top, g.sub(st, g.div(g.add(r0f, 0.5), scy))), rh), float(NYF - 1)), 2.0)
    by_ = g.div(float(2 * (NYF - 1)), g.mul(scy, rh))

    def roi_axis(a, b, n_sub, n_lat):
        s0 = g.div(a, float(n_lat - 1))
        s1 = g.add(s0, g.div(g.mul(b, g.max(g.sub(n_sub, 1.0), 1.0)), float(n_lat - 1)))
        return s0, s1
    ys0, ys1 = roi_axis(ay_, by_, hs2f, NYF + 4)
    xs0, xs1 = roi_axis(ax_, bx_, ws2f, NXF + 4)
    roi = g.cat([g.c([0.0, 0.0]), g.unsq(ys0, [0]), g.unsq(xs0, [0]), g.c([1.0, 1.0]),
                 g.unsq(ys1, [0]), g.unsq(xs1, [0])], 0)
    sizes = g.cat([g.i([1, 3]), v1(hs2), v1(ws2)], 0)
    PS = g.op("Resize", LTp, roi, "", sizes, mode="linear",
              coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=0.0)  # [1,3,hs2,ws2]
    dist = g.div(g.op("ReduceSum", g.abs(g.sub(psub, PS)), g.i([1]), keepdims=1),
                 g.add(g.op("ReduceSum", PS, g.i([1]), keepdims=1), 0.06))
    dist = g.op("Where", g.op("IsNaN", dist), g.c(1e3), dist)
    bgl = g.smooth(0.32, 0.14, dist)                   # 1: looks like the background estimate
    # background must be connected to the top of the region through background
    nonbg = g.mul(g.sub(1.0, bgl), g.div(2.0, g.mul(scy, rh)))
    run = g.exp(g.mul(g.op("CumSum", nonbg, g.i(2)), -1.0 / 0.006))
    bmat = g.sub(1.0, g.mul(bgl, run))
    # the building matte at half resolution: the mask input (region coverage times the Mask
    # clip) times the estimate when no Mask clip is connected
    mhalf = finite(g.op("Slice", mask, st_, en_, g.i([2, 3]), g.i([2, 2])), unit=True)
    est0 = g.lerp(bmat, 1.0, has_mask)
    est = g.mul(mhalf, est0)                           # [1,1,hs2,ws2]
    # the hole takes the estimate grown by one half-res pixel (so no building pixel is left
    # standing at its edge; just outside it the fill matches the plate anyway)
    est0d = g.op("MaxPool", est0, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    HT = g.cat([est0d, PS], 1)                         # [1,4,hs2,ws2] estimate, fill rgb

    def half_gx(x):  # canonical -> normalized grid coords of the half-res estimate
        u = g.sub(g.mul(g.sub(x, sl), scx), c0f)
        return g.sub(g.div(g.add(g.div(g.sub(u, 0.5), 2.0), 0.5), g.mul(ws2f, 0.5)), 1.0)

    def half_gy(y):
        u = g.sub(g.mul(g.sub(st, y), scy), r0f)
        return g.sub(g.div(g.add(g.div(g.sub(u, 0.5), 2.0), 0.5), g.mul(hs2f, 0.5)), 1.0)

    if fp16:   # GridSample runs in float32: the region's sub-image, cast
        ptex_src = g.cast(g.op("Slice", plate, st_, en_, g.i([2, 3])), F)
    else:      # float32: sampled straight from the plate over S, sanitized after sampling
        ptex_src = plate

    def ptex_sample(x, y):
        """Plate (RGBA) and building matte at canonical points x, y ([h,w]) -> [1,4,h,w], [1,1,h,w]."""
        grid = grid2(sub_gx(x), sub_gy(y)) if fp16 else grid2(sgx(x), sgy(y))
        gs = lambda t, gr: g.op("GridSample", t, gr, mode="bilinear", align_corners=0, padding_mode="zeros")
        rgba_ = gs(ptex_src, grid)
        rgba_ = g.op("Where", g.op("IsNaN", rgba_), g.c(0.0), rgba_)
        rgba_ = g.op("Clip", rgba_, g.c(-65504.0), g.c(65504.0))
        return rgba_, gs(est, grid2(half_gx(x), half_gy(y)))

    # for the falling chunks: the region's sub-image of the plate (sanitized) premultiplied by
    # the building matte (the half-res estimate, bilinearly upsampled to the pixels it came
    # from), so that one 4-channel GridSample gives plate x matte
    est_up = g.op("Resize", est, "", g.c([1.0, 1.0, 2.0, 2.0]), mode="linear",
                  coordinate_transformation_mode="asymmetric")
    est_up = g.op("Slice", est_up, g.i([0, 0]), g.cat([v1(g.op("Sub", r1s, r0s)), v1(g.op("Sub", c1s, c0s))], 0),
                  g.i([2, 3]))
    pm_tex = g.mul(finite(g.op("Slice", plate, st_, en_, g.i([2, 3]))), est_up)   # [1,4,hs,ws]

    def ptex_premul(x, y):
        """Plate x building matte (premultiplied RGBA) at canonical points x, y ([h,w]) -> [1,4,h,w]."""
        return g.op("GridSample", pm_tex, grid2(sub_gx(x), sub_gy(y)), mode="bilinear", align_corners=0,
                    padding_mode="zeros")

    def crop_px(img, xs_, ys_, off_x, off_y, post=None, use=None):
        """The pixels of img under the output grid xs_ [w] x ys_ [h] (pixel-aligned, inside img
        save for degenerate boxes): a slice, zero padded to [1,C,h,w]. off_*: img's first
        column/row in S."""
        k0x = g.cast(g.op("Round", g.sub(g.sub(g.mul(g.sub(g.op("Slice", xs_, g.i([0]), g.i([1]), g.i([0])), sl), scx),
                                                0.5), off_x)), I64)
        k0y = g.cast(g.op("Round", g.sub(g.sub(g.mul(g.sub(st, g.op("Slice", ys_, g.i([0]), g.i([1]), g.i([0]))), scy),
                                                0.5), off_y)), I64)
        k0x = g.op("Max", k0x, g.i([0]))
        k0y = g.op("Max", k0y, g.i([0]))
        wn, hn = g.op("Shape", xs_), g.op("Shape", ys_)
        hu = hn if use is None else g.op("Mul", hn, use)      # use = 0: nothing read, all zeros
        sl_ = g.op("Slice", img, g.cat([k0y, k0x], 0), g.cat([g.op("Add", k0y, hu), g.op("Add", k0x, wn)], 0),
                   g.i([2, 3]))
        if post is not None:
            sl_ = post(sl_)
        sh_ = g.op("Shape", sl_)
        padr = g.op("Sub", wn, g.op("Slice", sh_, g.i([3]), g.i([4]), g.i([0])))
        padb = g.op("Sub", hn, g.op("Slice", sh_, g.i([2]), g.i([3]), g.i([0])))
        return g.op("Pad", sl_, g.cat([g.i([0, 0, 0, 0, 0, 0]), padb, padr], 0), g.c(0.0), mode="constant")

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

    # release and fall (times in progress, lengths in region heights, g = 8 * gravity):
    # the lower floors give first (staggered, bottom up) and crumble as they fall; the upper
    # mass is released at once and drops as one rigid block, y = y0 - g tau^2 / 2 (tau: time
    # since release). Its rows break up one after the other as they reach the crush front
    # Y_LAND (the crushed lower floors): from then on each piece keeps falling at the same
    # accelerating speed and slides outward along a straight line whose slope is a fraction
    # of the fall (horizontal speed <= ~0.35 of the fall speed; with `direction`), tumbling
    # in proportion to the height fallen, until it sinks into the rubble at the ground line.
    rowfrac = g.div(rr, g.max(g.sub(Rf, 1.0), 1.0))
    lower = g.lt(cy, 0.34)                                          # [RMAX,1]
    t_row = g.where(lower, g.add(0.02, g.mul(0.22, rowfrac)), g.add(0.11, g.mul(0.015, rowfrac)))
    jit = g.where(lower, 0.05, 0.0)        # the upper block falls as one rigid piece
    t_rel = g.add(t_row, g.mul(rnd[0], jit))
    Gk = g.mul(grav, 8.0)
    Y_LAND = 0.17
    d_brk = g.where(lower, 0.0, g.relu(g.sub(g.div(rr, Rf), Y_LAND)))  # block row: drop until it lands
    tau = g.relu(g.sub(p, t_rel))
    drop = g.mul(g.mul(g.mul(tau, tau), Gk), 0.5)
    # fall since the break-up (the piece's own row lands; pieces of a lower floor at once)
    fall_b = g.relu(g.sub(drop, g.add(d_brk, g.mul(g.sub(rnd[7], 0.5), g.where(lower, 0.0, 0.03)))))
    tau_row = g.relu(g.sub(p, g.add(t_row, g.mul(jit, 0.5))))
    drop_row = g.mul(g.mul(g.mul(tau_row, tau_row), Gk), 0.5)     # [RMAX,1]
    fall_row = g.relu(g.sub(drop_row, d_brk))                      # [RMAX,1]
    DL = 0.3       # the outward slide saturates (pieces are in the ground by then)
    slide = lambda f: g.mul(DL, g.op("Tanh", g.div(f, DL)))
    SPREAD = 0.3   # outward slope of the outermost pieces (dx / dy)
    lean_b = g.mul(direction, 0.05)                                 # the block leans a little
    slope_r = g.mul(direction, 0.2)                                 # the pieces with `direction`
    slope = g.add(g.add(slope_r, g.mul(g.sub(xn_c, 0.5), 2.0 * SPREAD)), g.mul(g.sub(rnd[1], 0.5), 0.12))
    dx = g.add(g.mul(lean_b, drop), g.mul(slope, slide(fall_b)))
    DMAX = DL * (SPREAD + 0.26) + 0.06   # the largest drift: chunks stay inside the core box
    curx = g.add(cx, dx)
    cury = g.sub(cy, drop)
    # tumbling: angle in proportion to the height fallen since the break-up (spin outward,
    # with `direction`, and a random part)
    omega = g.add(g.mul(g.add(direction, g.mul(g.sub(xn_c, 0.5), 1.5)), -1.5),
                  g.mul(g.sub(rnd[2], 0.5), 5.0))
    theta = g.add(g.mul(omega, fall_b),
                  g.mul(g.sub(rnd[8], 0.5), g.mul(g.clip01(g.mul(fall_b, 8.0)), 0.12)))
    cth, sth = g.cos(theta), g.sin(theta)
    released = g.op("And", valid, g.gt(tau, 0.0))
    prio = g.where(released, g.add(1.0, rnd[3]), -10.0)      # > 0 only for released chunks
    # u = a1*X + a2*Y + a0 ; v = kk*(a1*Y - a2*X) + b0   (u,v in cell half-extents)
    a1 = g.div(cth, hw)
    a2 = g.div(sth, hw)
    a0 = g.neg(g.add(g.mul(a1, curx), g.mul(a2, cury)))
    kk = g.div(hw, hh)
    b0 = g.neg(g.mul(kk, g.sub(g.mul(a1, cury), g.mul(a2, curx))))
    flat = lambda t: g.reshape(g.add(t, g.mul(cx, 0.0)), [NCELL])
    # per-chunk shape and shading: size jitter; a tone from the chunk's tilt (its facade
    # turns out of the plane as it tumbles: faces turning away from the light darken
    # smoothly); a few chunks a little darker overall
    su = g.add(0.88, g.mul(rnd[9], 0.2))
    sv = g.add(0.88, g.mul(rnd[10], 0.2))
    pitch = g.mul(g.sub(rnd[5], 0.5), g.mul(g.clip01(g.mul(fall_b, 6.0)), 1.8))
    tilt = g.add(g.mul(theta, g.add(0.6, g.mul(rnd[4], 0.8))), pitch)
    tone = g.clamp(g.add(g.add(0.8, g.mul(g.cos(tilt), 0.2)), g.mul(g.sin(tilt), 0.12)), 0.5, 1.1)
    tone = g.mul(tone, g.where(g.gt(rnd[6], 0.8), 0.85, 1.0))
    # per-candidate tables (1-D gathers); the winner's extras come from one packed table [NCELL, NTW]
    # (as [RMAX, fields, CCOLS]: a pixel's candidates are picked by gathering its two rows,
    # then the column element-wise)
    rtab_ = lambda ts: g.cat([g.unsq(g.add(t, g.mul(cx, 0.0)), [1]) for t in ts], 1)
    TABC = rtab_((a1, a2, a0, b0, prio))                                   # [RMAX,5,CCOLS]
    TABW = rtab_((tone, rnd[4], rnd[5], cx, cy, tau, g.div(1.0, su), g.div(1.0, sv), fall_b))   # [RMAX,9,CCOLS]
    PRI = flat(prio)
    w_cx, w_cy, w_tau = flat(cx), flat(cy), flat(tau)
    w_rel = flat(g.cast(released, F))
    # row-level inversion for candidate columns: X = cx + dx is linear in cx per row:
    # X = cx * row_scale + row_off (the random part of the slope is left to the neighbour test)
    sl_row = slide(fall_row)
    row_scale = g.add(1.0, g.div(g.mul(sl_row, 2.0 * SPREAD), aspect))
    row_off = g.add(g.mul(lean_b, drop_row), g.mul(sl_row, g.sub(slope_r, SPREAD)))
    row_cury = g.sub(cy, drop_row)                                      # [RMAX,1]
    row_cury_v = g.where(row_valid, row_cury, 1e4)
    # crack jitter applies while the rows are still (nearly) rigid, then fades: after the
    # break-up the chunks are shaped by their own eroded outline
    row_fade = g.sub(1.0, g.smooth(0.0, 0.1, fall_row))                # [RMAX,1]
    # while the upper mass still stands (or drops as a block), a gap that opens below its
    # roof shows the building's dark interior; above the roof, and once the mass breaks
    # up, it shows what is behind the building
    top_i = g.cast(g.max(g.sub(Rf, 1.0), 0.0), I64)
    drop_top = g.op("Gather", g.reshape(drop_row, [RMAX]), top_i, axis=0)
    fb_top = g.op("Gather", g.reshape(fall_row, [RMAX]), top_i, axis=0)
    roof_now = g.sub(g.sub(1.0, g.div(1.3, Rf)), drop_top)         # below the top row's current bottom
    open_t = g.smooth(0.0, 0.12, fb_top)
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
    # the hole lies inside the region: matte, fill and background are cut out of their
    # images there (output grids are pixel-aligned with S)
    hxs, hys, pads_h, _ = box(fxs, fys, rl, g.add(rl, rw), rb, top)
    Xh = g.unsq(g.div(g.sub(hxs, rl), rh), [0])   # [1,w]
    Yh = g.unsq(g.div(g.sub(hys, rb), rh), [1])   # [h,1]
    Xn = g.div(Xh, aspect)
    # the half-res estimate and fill repeated 2x2 (nearest), then cut out under the hole box
    HT2 = g.op("Resize", HT, "", g.c([1.0, 1.0, 2.0, 2.0]), mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="floor")   # [1,4,2hs2,2ws2]
    ht_ = crop_px(HT2, hxs, hys, c0f, r0f)                                  # [1,4,h,w] nearest
    m_here = g.mul(crop_px(mask, hxs, hys, g.c(0.0), g.c(0.0), post=lambda t: finite(t, unit=True)), ch(ht_, 0))
    fill_rgb = ch(ht_, 1, 3)
    bg_here = crop_px(bg, hxs, hys, g.c(0.0), g.c(0.0), post=finite,      # read only when connected
                      use=g.unsq(g.cast(g.gt(has_bg, 0.0), I64), [0]))

    # crack lines: the boundaries between chunks are irregular (jittered per rest position,
    # the same function for the chunks and for the hole they leave, so at rest they tile
    # exactly and open along the same lines)
    ph = [g.mul(g.fract(g.mul(seed_f, k)), 6.2831853) for k in (0.3819660, 0.5698403, 0.7548776, 0.8685170)]

    q_j = g.div(Rf, 6.5)
    kx_j = [g.mul(q_j, v) for v in (13.0, -29.0, 37.0, 103.0)]
    ky_j = [g.mul(q_j, v) for v in (41.0, 117.0, 11.0, 23.0)]

    def crack_jit(Xr, Yr, fade=None):
        """(jx, jy) in cell units at rest position (Xr, Yr) (h-units, broadcastable), times fade:
        two sines each, sin(kx X + (ky Y + phase)) (the y part is formed on Yr's smaller shape)."""
        t = []
        for k, amp in enumerate((0.055, 0.04, 0.055, 0.04)):  # larger reads as jigsaw pieces
            a = amp if fade is None else g.mul(fade, amp)
            t.append(g.mul(g.sin(g.add(g.mul(Xr, kx_j[k]), g.add(g.mul(Yr, ky_j[k]), ph[k]))), a))
        return g.add(t[0], t[1]), g.add(t[2], t[3])

    # hole: rest cell of this pixel released? (the same jittered cell boundaries)
    jxh, jyh = crack_jit(Xh, Yh)
    r_here = g.clamp(g.min(g.floor(g.add(g.mul(Yh, Rf), jyh)), g.sub(Rf, 1.0)), 0, RMAX - 1)
    hrows = g.op("Shape", hys)
    per_row = lambda t, n: g.op("Expand", g.reshape(t, [1, n]), g.cat([hrows, g.i([n])], 0))   # [h,n]
    brick_here = g.op("GatherElements", per_row(brick, RMAX), g.cast(r_here, I64), axis=1)
    c_here = g.clamp(g.min(g.floor(g.add(g.sub(g.mul(Xn, Cf), brick_here), jxh)), g.sub(Cf, 1.0)), -1, CMAX)
    cell_here = g.cast(g.add(g.mul(r_here, float(CCOLS)), g.add(c_here, 1.0)), I64)
    hole_a = g.mul(m_here, g.op("GatherElements", per_row(w_rel, NCELL), cell_here, axis=1))
    h_open = g.max(g.smooth(-0.01, 0.03, g.sub(Yh, roof_now)), open_t)      # [h,1]
    h_open = g.max(h_open, g.smooth(0.08, 0.03, Yh))        # at the base the crushed floors are gone
    # only where the descending block's own material stands (the matte moved down with
    # it: a separable sample of the half-res estimate); what it does not cover is open
    fxh = g.div(g.sub(g.sub(g.mul(g.sub(hxs, sl), scx), c0f), 0.5), 2.0)
    fyh = g.div(g.sub(g.sub(g.mul(g.sub(st, g.add(hys, g.mul(drop_top, rh))), scy), r0f), 0.5), 2.0)
    m_blk = sep_sample(est, axis_taps(fxh, ws2f, None), axis_taps(fyh, hs2f, None))   # [1,1,h,w]
    h_open = g.max(h_open, g.sub(1.0, g.clip01(g.mul(m_blk, 1.5))))
    fill = g.cat([fill_rgb, g.add(g.mul(ch(fill_rgb, 0), 0.0), 1.0)], 1)
    fill = g.lerp(fill, bg_here, has_bg)
    # right after a chunk lets go, the gap shows the building's dark interior
    interior = g.cat([g.mul(col4(bld), 0.33), g.c(1.0, shape=[1, 1, 1, 1])], 1)
    fill = g.lerp(interior, fill, h_open)
    E = pad(g.mul(fill, hole_a), pads_h)        # -> core box

    # rubble pile at the base: mounds of varied size along x (random bumps that grow at
    # their own times), made of pieces of the building's own facade, dusted and lit from above
    NM = 24
    grow = g.smooth(0.12, 1.0, p)
    midx = g.op("Mod", g.add(g.c(np.arange(NM, dtype=np.int64) * 11 + 500, np.int64), g.mul(seed_m, g.i(37))),
                g.i(NRAND))
    mr = g.op("Gather", rtab, midx, axis=0)                              # [NM,12]
    mcol = lambda k: g.reshape(g.op("Slice", mr, g.i([k]), g.i([k + 1]), g.i([1])), [NM, 1])
    m_x = g.mul(g.sub(g.mul(mcol(0), 1.1), 0.05), aspect)
    m_w = g.mul(g.add(0.04, g.mul(mcol(1), 0.12)), aspect)
    m_t = g.add(0.1, g.mul(mcol(3), 0.35))
    m_a = g.mul(g.add(0.004, g.mul(g.mul(mcol(2), mcol(2)), 0.022)), g.smooth(m_t, g.add(m_t, 0.45), p))
    pile_max = g.add(g.mul(grow, 0.035), g.op("ReduceSum", m_a, keepdims=0))
    rxs, rys, pads_rb, _ = box(fxs, fys, fx0, fx1, fy0, g.add(rb, g.mul(rh, g.add(pile_max, 0.01))))
    Xp = g.unsq(g.div(g.sub(rxs, rl), rh), [0])   # [1,w]
    Yp = g.unsq(g.div(g.sub(rys, rb), rh), [1])   # [h,1]
    Xpn = g.div(Xp, aspect)
    prof = g.clip01(g.sub(1.0, g.op("Pow", g.abs(g.mul(g.sub(Xpn, 0.5), 2.0 / 1.1)), g.c(4.0))))
    dm = g.div(g.sub(Xp, m_x), m_w)                                      # [NM,w]
    mounds = g.op("ReduceSum", g.mul(m_a, g.exp(g.neg(g.mul(dm, dm)))), g.i([0]), keepdims=1)
    pile_h = g.mul(prof, g.add(g.mul(grow, 0.035), mounds))              # [1,w]
    nr = g.sq(noise(1, g.mul(Xp, 4.0), g.mul(Yp, 4.0)), [0, 1])       # [h,w]
    pile_h = g.mul(pile_h, g.add(0.85, g.mul(nr, 0.3)))
    pile_a = g.mul(g.smooth(g.neg(px_h), px_h, g.sub(pile_h, Yp)), g.smooth(0.0, 0.01, pile_h))
    pile_a = g.mul(pile_a, g.smooth(-0.035, -0.005, g.add(Yp, g.mul(g.sub(nr, 0.5), 0.03))))
    # pieces: an irregular staggered grid of stones of three sizes (chosen by a coarse noise),
    # rows of varying width and stagger, cell coordinates warped by noise at the stone scale
    # (no grid look); each stone shows its own patch of the building's facade (taken from the
    # plate under the matte), rotated and flipped at random and a little magnified
    nsz = g.sq(noise(0, g.mul(Xp, 1.7), g.mul(Yp, 2.3)), [0, 1])
    nrs = g.sq(noise(2, g.mul(Xp, 3.0), g.mul(Yp, 3.0)), [0, 1])
    ssz = g.where(g.gt(nsz, 0.62), 0.05, g.where(g.gt(nsz, 0.42), 0.032, 0.02))
    wpx = g.sq(noise(3, g.mul(Xp, 0.45), g.mul(Yp, 0.45)), [0, 1])
    wpy = g.sq(noise(2, g.add(g.mul(Xp, 2.1), 0.31), g.add(g.mul(Yp, 2.1), 0.17)), [0, 1])
    # short runs of rows: every few stones the rows step by a random fraction (jumbled blocks)
    colq = g.floor(g.add(g.div(Xp, g.mul(ssz, 2.7)), g.mul(wpx, 1.5)))
    Ys = g.div(g.add(g.add(Yp, g.mul(g.sub(nr, 0.5), 0.02)), g.mul(g.sub(wpy, 0.5), g.mul(ssz, 0.9))), ssz)
    Ys = g.add(Ys, g.fract(g.mul(colq, 0.618034)))
    qy = g.floor(Ys)
    rw_ = g.mul(ssz, g.add(1.1, g.mul(g.fract(g.mul(qy, 0.7548777)), 0.8)))   # row's stone width
    Xs = g.add(g.div(g.add(Xp, g.mul(g.sub(wpx, 0.5), g.mul(ssz, 1.1))), rw_), g.fract(g.mul(qy, 0.618034)))
    qx = g.floor(Xs)
    lx, ly = g.sub(Xs, qx), g.sub(Ys, qy)
    sid = g.add(g.add(g.mul(g.cast(qx, I64), g.i(7)), g.mul(g.cast(qy, I64), g.i(131))),
                g.add(g.mul(seed_m, g.i(13)), g.cast(g.mul(ssz, 9000.0), I64)))
    srr = g.op("Gather", rtab, g.op("Mod", sid, g.i(NRAND)), axis=0)    # [h,w,12]
    sr = lambda k: g.sq(g.op("Slice", srr, g.i([k]), g.i([k + 1]), g.i([2])), [2])
    sr0, sr1, sr2, sr3, sr4, sr5 = (sr(k) for k in (9, 10, 11, 6, 7, 8))
    ang = g.mul(sr3, 6.2831853)
    ca, sa = g.cos(ang), g.sin(ang)
    flip = g.where(g.gt(sr4, 0.5), 1.0, -1.0)
    u_ = g.mul(g.mul(g.sub(lx, 0.5), rw_), flip)
    v_ = g.mul(g.sub(ly, 0.5), ssz)
    mag = 0.8                                                          # patch scale (x the stone)
    sx_ = g.add(g.mul(g.add(0.05, g.mul(sr0, 0.9)), aspect), g.mul(g.sub(g.mul(u_, ca), g.mul(v_, sa)), mag))
    sy_ = g.add(g.add(0.05, g.mul(sr1, 0.6)), g.mul(g.add(g.mul(u_, sa), g.mul(v_, ca)), mag))
    rsamp, rm = ptex_sample(g.add(rl, g.mul(sx_, rh)), g.add(rb, g.mul(sy_, rh)))
    stone = g.add(g.mul(ch(rsamp, 0, 3), rm), g.mul(col4(bld), g.sub(1.0, rm)))
    # each stone: its own brightness, a facet (a random tilt, lit from above), dark joints
    # at its outline, a soft shadow under it
    facet = g.add(0.82, g.add(g.mul(g.sub(ly, 0.5), g.add(0.15, g.mul(sr5, 0.3))),
                              g.mul(g.sub(lx, 0.5), g.mul(g.sub(sr2, 0.5), 0.6))))
    under = g.add(0.55, g.mul(g.smooth(0.0, 0.2, ly), 0.45))
    edge = g.min(g.min(lx, g.sub(1.0, lx)), g.min(ly, g.sub(1.0, ly)))
    joint = g.add(0.6, g.mul(g.smooth(0.0, 0.14, edge), 0.4))
    sshade = g.mul(g.mul(facet, g.mul(under, joint)), g.add(0.75, g.mul(sr2, 0.4)))
    sshade = g.mul(sshade, g.add(0.6, g.mul(g.clip01(g.div(Yp, g.max(pile_h, 1e-3))), 0.5)))
    # dust coating: thicker toward the top of the pile and as the pile settles, patchy
    hrel = g.clip01(g.div(Yp, g.max(pile_h, 1e-3)))
    coat = g.clip01(g.add(g.add(0.08, g.mul(g.smooth(0.35, 1.0, hrel), g.add(0.2, g.mul(grow, 0.35)))),
                          g.mul(g.sub(nrs, 0.5), 0.5)))
    rub_rgb = g.mul(g.lerp(stone, g.mul(tint, 0.85), coat), sshade)
    RUB = pad(rgba(rub_rgb, pile_a), pads_rb)     # drawn over the fragments: they sink into it

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
    k_drop, k_fade = gsc(drop_row), gsc(row_fade)
    X3 = g.unsq(fXh, [0])      # [1,w]
    Y3 = g.unsq(fYh, [1])      # [h,1]
    xrest = g.div(g.sub(X3, k_off), k_scale)                            # [2,h,w] row-level rest position
    yrest = g.add(Y3, k_drop)                                           # [2,h,1]
    jx2, jy2 = crack_jit(xrest, yrest, g.mul(k_fade, 2.0))             # [2,h,w], twice the jitter
    band_f = g.add(g.sub(g.mul(g.div(xrest, aspect), Cf), k_brick), g.mul(jx2, 0.5))
    band = g.floor(band_f)
    nbr = g.add(band, g.sub(g.mul(g.cast(g.op("GreaterOrEqual", g.sub(band_f, band), g.c(0.5)), F), 2.0), 1.0))
    colk = g.cat([g.clamp(band, -1, CMAX), g.clamp(nbr, -1, CMAX)], 0)   # [4,h,w]: own + nearer neighbour
    okk = g.cat([rows_ok] * 2, 0)
    kidx = g.cast(g.add(colk, 1.0), I64)                                 # [4,h,w] column slot
    rows_h = g.sq(rows_c, [2])                                           # [2,h]
    TC = g.op("Transpose", g.op("Gather", TABC, rows_h, axis=0), perm=[2, 0, 1, 3])   # [5,2,h,CCOLS]
    TC = g.cat([TC, TC], 1)                                              # [5,4,h,CCOLS]
    TC = [g.sq(t, [0]) for t in g.op("Split", TC, axis=0, outs=5, num_outputs=5)]
    TC[4] = g.where(okk, TC[4], -10.0)     # rows outside the grid: like unreleased chunks
    ga1, ga2, ga0, gb0, gpr = (g.op("GatherElements", t, kidx, axis=2) for t in TC)
    uu = g.add(g.add(g.mul(ga1, X3), g.mul(ga2, Y3)), ga0)
    vv = g.add(g.mul(g.sub(g.mul(ga1, Y3), g.mul(ga2, X3)), kk), gb0)
    # jittered (crack) outline: candidates (own, nbr) x (2 rows) take their row's jitter
    c4 = g.op("Shape", uu)
    addrow = lambda t, j: g.reshape(g.add(g.reshape(t, [2, 2, -1]), g.reshape(j, [2, -1])), c4)
    uj = addrow(uu, jx2)
    vj = addrow(vv, jy2)
    edge_w = g.div(px_h, g.min(hw, hh))          # one pixel in cell half-extents
    ew = g.mul(edge_w, 1.2)
    mm = g.max(g.abs(uj), g.abs(vj))
    # a pixel belongs to the chunk whose (jittered) cell holds it; the antialiased rim
    # just outside a chunk only wins where no chunk holds the pixel
    # (unreleased chunks have a negative priority: they never win with a positive score)
    score = g.where(g.lt(mm, g.add(1.0, ew)), g.add(gpr, g.mul(g.cast(g.lt(mm, 1.0), F), 2.0)), 0.0)
    win = g.op("ArgMax", score, axis=0, keepdims=1)                      # [1,h,w]
    wscore = g.op("ReduceMax", score, g.i([0]), keepdims=1)
    gel = lambda t, i: g.sq(g.op("GatherElements", t, i, axis=0), [0])
    # the winner's slot among its two rows' cells: row (candidates 0, 2: lower; 1, 3: upper)
    wslot = g.op("Add", g.op("Mul", g.op("Mod", win, g.i(2)), g.i(CCOLS)), g.op("GatherElements", kidx, win, axis=0))
    TW = g.op("Transpose", g.op("Gather", TABW, rows_h, axis=0), perm=[2, 1, 0, 3])   # [9,h,2,CCOLS]
    TW = g.reshape(TW, [9, 0, 2 * CCOLS])                                # [9,h,2*CCOLS]
    wtone, wr4, wr5, wcx, wcy, wtau, wisu, wisv, wfb = (
        g.sq(g.op("GatherElements", t, wslot, axis=2), [0]) for t in g.op("Split", TW, axis=0, outs=9, num_outputs=9))
    # the winner's chunk coordinates (plain and jittered), picked from the candidates'
    wu, wv, wuj, wvj = (gel(t, win) for t in (uu, vv, uj, vj))
    brk = g.clip01(g.mul(wfb, 8.0))        # chunks separate once they break up (height fallen since)
    wm = g.max(g.mul(g.abs(wuj), g.lerp(1.0, wisu, brk)), g.mul(g.abs(wvj), g.lerp(1.0, wisv, brk)))
    srcx = g.add(wcx, g.mul(wu, hw))             # rest position (h-units)
    srcy = g.add(wcy, g.mul(wv, hh))
    fsamp = ptex_premul(g.add(rl, g.mul(srcx, rh)), g.add(rb, g.mul(srcy, rh)))   # [1,4,h,w] x matte
    # jagged erosion of chunk edges once they break up, grows with time
    ne = noise2d(2, g.add(g.mul(wu, 0.3), wr4), g.add(g.mul(wv, 0.3), wr5))
    erode = g.add(g.mul(g.mul(g.relu(g.sub(ne, 0.35)), 0.45), brk), g.mul(g.clip01(g.mul(wfb, 1.5)), 0.18))
    thr = g.sub(1.0, erode)
    fa = g.clip01(g.div(g.sub(g.add(thr, ew), wm), ew))
    fa = g.mul(fa, g.cast(g.gt(wscore, 0.0), F))
    fa = g.mul(fa, g.smooth(-0.015, 0.03, Y3))               # vanish at the ground line
    # shading: thin dark cracks along the outline as the chunk starts to move (broken,
    # irregular), a soft darkening toward the chunk's edges once it breaks up, and a
    # uniform tone from its tilt
    dth = g.sub(thr, wm)                                     # distance inside the outline
    cline = g.smooth(g.mul(edge_w, 1.5), g.mul(edge_w, 0.2), dth)
    # cracks run up the facade: each chunk's crack darkens over a few frames, later the higher it sits
    crack_t = g.sub(wtau, g.mul(g.relu(g.sub(wcy, 0.34)), 0.12))
    cvis = g.mul(g.clip01(g.mul(crack_t, 10.0)), g.add(0.25, g.mul(g.lin01(0.3, 0.62, ne), 0.75)))
    soft = g.mul(g.smooth(0.35, 0.0, dth), g.smooth(0.0, 0.6, brk))
    shade = g.mul(g.sub(1.0, g.mul(cline, g.mul(cvis, 0.62))), g.sub(1.0, g.mul(soft, 0.3)))
    shade = g.mul(shade, g.lerp(1.0, wtone, g.smooth(0.0, 0.3, brk)))
    shade = g.mul(shade, g.sub(1.0, g.mul(g.clip01(g.mul(wfb, 3.0)), 0.2)))
    Fr = g.cat([g.mul(ch(fsamp, 0, 3), g.mul(fa, shade)), g.mul(ch(fsamp, 3), fa)], 1)
    E = over(pad(Fr, pads_g), E)
    E = over(RUB, E)
    E = pad(E, pads_f)                                       # -> reach box

    def dust_layer():
        """The dust, evaluated on a lattice in region units over the reach box (fixed per
        frame: the same for every tile and render scale), sampled bilinearly -> [1,4,h,w].

        Three layers: a billowing plume (a dome whose edge is displaced by cauliflower
        noise: a texture of rounded puffs at three scales, looked up at two scales, with
        coordinates that grow outward and rise with time), a low ground front that rolls
        out along the ground faster than the fall, and a haze that lingers after the fall
        and thins over a few durations.  Self-shadowing: the density at four lattice points
        toward the key light attenuates it (lit tops, dark undersides and cores)."""
        lim_x = g.mul(aspect, 0.5 + min(L, R_))
        lim_y = 1.0 + T
        nxd = g.cast(g.op("Ceil", g.mul(g.mul(lim_x, 2.0), DUST_DENS)), I64)
        nxd = g.unsq(g.op("Clip", nxd, g.i(16), g.i(4096)), [0])
        nyd = int(np.ceil((lim_y + B) * DUST_DENS))
        Xc = g.unsq(g.mul(g.sub(g.div(g.mul(frange(nxd), 2.0), g.sub(g.cast(nxd, F), 1.0)), 1.0), lim_x), [0])  # [1,nx]
        Yd = g.reshape(g.sub(lim_y, g.mul(g.div(frange(nyd), float(nyd - 1)), lim_y + B)), [nyd, 1])         # [ny,1]
        pd = g.relu(g.sub(p, 0.03))
        late = g.relu(g.sub(p, 0.85))
        grow = g.sub(1.0, g.exp(g.mul(pd, -2.5)))
        # plume: half width wd, height hd; ground front: half width wf (out fast), height hf
        # widths saturate smoothly inside the box (a narrow region's plume is not cut by it)
        softmin = lambda w, m: g.div(w, g.sqrt(g.sqrt(g.add(1.0, g.op("Pow", g.div(w, m), g.c(4.0))))))
        wd = g.add(g.mul(aspect, 0.5), g.mul(spread, g.add(0.05, g.mul(grow, 0.45))))
        wd = softmin(wd, g.mul(lim_x, 0.72))
        hd = g.add(0.12, g.mul(g.sub(1.0, g.exp(g.mul(pd, -2.6))), 1.05))
        hd = g.div(hd, g.add(1.0, g.mul(late, 0.5)))                         # slowly sinks
        wf = g.add(g.mul(aspect, 0.5), g.mul(spread, g.mul(g.sub(1.0, g.exp(g.mul(pd, -2.8))), 2.2)))
        wf = softmin(wf, g.mul(lim_x, 0.8))
        hf = g.add(0.05, g.mul(grow, 0.13))
        # haze: lingers after the fall, low and wide, thinning over several durations
        hz_amt = g.mul(g.smooth(0.4, 1.0, p), g.exp(g.mul(late, -0.65)))
        hz_h = g.sub(0.6, g.mul(g.smooth(0.9, 3.0, p), 0.22))
        wmax = g.max(wd, wf)
        dxa = g.min(g.mul(wmax, 1.3), lim_x)
        dya = g.min(g.mul(g.max(hd, hz_h), 1.3), lim_y)
        # cauliflower edge: rounded puffs, two scales, advected outward (growing) and up
        ex = g.add(1.0, g.mul(pd, g.add(0.5, g.mul(spread, 0.5))))
        ey = g.add(1.0, g.mul(pd, 0.5))
        soft = g.add(0.2, g.mul(late, 0.45))                                 # edge width, softens as it ages
        amt_p = g.mul(g.mul(dust_amt, g.smooth(0.03, 0.16, p)), g.exp(g.mul(late, -2.3)))

        def field():
            """Plume + ground-front density on the lattice, and the thickness it comes from."""
            X, Y = Xc, Yd
            u = g.div(X, ex)
            v = g.sub(g.div(Y, ey), g.mul(pd, 0.35))
            # a slow warp of the puff coordinates: the billows churn as they grow
            w1 = g.sq(noise(0, g.add(g.mul(u, 0.6), g.mul(pd, 0.05)), g.sub(g.mul(v, 0.6), g.mul(pd, 0.12))), [0, 1])
            uw = g.add(g.mul(u, 1.3), g.mul(w1, 0.35))
            vw = g.add(g.mul(v, 1.3), g.mul(w1, 0.25))
            P1 = noise2d(4, uw, vw)
            P2 = noise2d(4, g.add(g.mul(uw, 2.4), g.add(0.37, g.mul(pd, 0.1))), g.sub(g.mul(vw, 2.4), g.add(0.21, g.mul(pd, 0.4))))
            puff = g.add(g.mul(g.sub(P1, 0.42), 1.0), g.mul(g.sub(P2, 0.42), 0.45))
            puff = g.add(puff, g.mul(g.sub(noise(2, g.mul(u, 5.0), g.sub(g.mul(v, 5.0), g.mul(pd, 0.6))), 0.5), 0.2))
            Yp = g.relu(Y)
            qx = g.div(X, wd)
            qy = g.div(Yp, hd)
            dome = g.sub(1.0, g.add(g.mul(qx, qx), g.mul(qy, qy)))
            rho_p = g.smooth(0.0, soft, g.add(g.mul(dome, 1.2), g.mul(puff, 0.95)))
            # ground front: flat and wide, a raised head near its leading edge
            ax_ = g.div(g.abs(X), wf)
            head = g.add(0.7, g.mul(g.smooth(0.45, 0.92, ax_), 0.6))
            qg = g.div(Yp, g.mul(hf, head))
            a2 = g.mul(ax_, ax_)
            fr = g.sub(1.0, g.add(g.mul(a2, a2), g.mul(qg, qg)))
            rho_g = g.smooth(0.0, soft, g.add(g.mul(fr, 1.0), g.mul(puff, 0.8)))
            rho = g.sub(1.0, g.mul(g.sub(1.0, rho_p), g.sub(1.0, rho_g)))
            return rho, g.max(g.add(g.mul(dome, 1.2), g.mul(puff, 0.95)), g.add(fr, g.mul(puff, 0.8)))

        rho, H0 = field()
        # every layer fades smoothly to zero toward its box (no visible clipping)
        winx = g.smooth(dxa, g.mul(dxa, 0.72), g.abs(Xc))
        winy = g.mul(g.smooth(dya, g.mul(dya, 0.6), Yd), g.smooth(-B, 0.0, Yd))
        win = g.mul(winx, winy)
        dens_b = g.mul(rho, amt_p)
        # haze: a low layer with gentle large-scale variation, slowly drifting
        nh = noise(1, g.mul(g.div(Xc, ex), 0.35), g.sub(g.mul(Yd, 0.5), g.mul(pd, 0.05)))
        hz = g.mul(g.smooth(hz_h, 0.0, Yd), g.smooth(g.mul(wmax, 1.15), g.mul(wmax, 0.3), g.abs(Xc)))
        hz = g.mul(g.mul(hz, g.add(0.55, g.mul(nh, 0.9))), g.mul(hz_amt, g.mul(dust_amt, 0.9)))
        dens = g.clip01(g.mul(g.sub(1.0, g.mul(g.sub(1.0, g.clip01(dens_b)), g.sub(1.0, g.clip01(hz)))), win))
        # self-shadowing: optical depth of the plume a short way toward the key light: the
        # density there (the plume's own shadow: dark undersides and core) and how much the
        # puffs' thickness grows toward the light (each puff lit on its light side).  The
        # taps are the lattice itself shifted by whole cells (fixed offsets in region units)
        # toward the upper left and the upper right, blended by the key's lean.
        def shifted(t, dy, dx):   # t[i + dy, j + dx] (rows: dy < 0 is up), zero outside
            t = g.op("Slice", t, g.i([max(dy, 0), max(dx, 0)]), g.i([nyd + min(dy, 0), (1 << 40) if dx >= 0 else dx]),
                     g.i([2, 3]))
            return pad(t, g.i([0, 0, max(-dy, 0), max(-dx, 0), 0, 0, max(dy, 0), max(dx, 0)]))

        taus = []
        for side in (-1, 1):
            tau = None
            for s_ in (0.025, 0.06, 0.12, 0.24):
                dy, dx = -int(round(0.894 * s_ * DUST_DENS)), side * int(round(0.447 * s_ * DUST_DENS))
                t_ = g.add(g.mul(shifted(rho, dy, dx), 0.3), g.mul(g.clip01(g.sub(shifted(H0, dy, dx), H0)), 1.4))
                tau = t_ if tau is None else g.add(tau, t_)
            taus.append(tau)
        tau = g.lerp(taus[0], taus[1], g.clip01(g.add(0.5, key_lean)))
        tau = g.mul(g.mul(tau, amt_p), g.mul(winx, winy))
        trans = g.exp(g.mul(tau, -1.15))                                        # key light reaching the point
        age = g.smooth(0.85, 1.6, p)                       # the dispersing plume is lit more evenly
        trans = g.lerp(trans, 0.8, age)
        # sky light from above (more at the top), key light from its side, both plate colours
        height = g.clip01(g.div(Yd, g.max(hd, 0.2)))
        skyl = g.add(0.34, g.mul(height, 0.14))
        skyl = g.mul(skyl, g.sub(1.0, g.mul(g.smooth(0.3, 1.5, H0), g.mul(g.sub(1.0, age), 0.3))))  # deep: darker
        keyl = g.mul(trans, 0.85)
        # the haze is lit evenly
        hz_w = g.div(g.clip01(hz), g.add(g.add(g.clip01(hz), dens_b), 1e-3))
        dcol = g.add(g.mul(tint, skyl), g.mul(g.mul(tint, key_tint), keyl))
        dcol = g.lerp(dcol, g.mul(tint, g.add(0.62, g.mul(key_tint, 0.25))), hz_w)
        # a soft knee on the highlights: lit tops stay dust, not white puffs
        dcol = g.sub(dcol, g.mul(g.relu(g.sub(dcol, 0.9)), 0.6))
        DL = rgba(dcol, dens)                                                   # [1,4,ny,nx]
        cxm = g.add(rl, g.mul(rw, 0.5))
        dxs, dys, pads_d, _ = box(xs, ys, g.sub(cxm, g.mul(dxa, rh)), g.add(cxm, g.mul(dxa, rh)),
                                  ry0, g.add(rb, g.mul(dya, rh)))
        # lattice coordinates of the output columns / rows (bilinear, zero outside: separable)
        nxd_f = g.cast(g.sq(nxd, [0]), F)
        fdx = g.mul(g.add(g.div(g.div(g.sub(dxs, cxm), rh), lim_x), 1.0), g.mul(g.sub(nxd_f, 1.0), 0.5))
        fdy = g.mul(g.div(g.sub(lim_y, g.div(g.sub(dys, rb), rh)), lim_y + B), float(nyd - 1))
        return pad(sep_sample(DL, axis_taps(fdx, nxd_f, None), axis_taps(fdy, g.c(float(nyd)), None)), pads_d)

    # ======================= dust (on a lattice over the reach box) ===========
    D = dust_layer()

    # ======================= debris specks ====================================
    # Three bursts of specks shed where the building crushes (the lower floors giving, then
    # the crush front as the block comes down): each is a thresholded noise pattern (broken
    # up by a coarser noise, so no repeat shows) fixed in its launch coordinates (x0, y0),
    # moved ballistically with a small outward pop (x = x0 (1 + vx t), y = y0 + vy t - g t^2 / 2;
    # the horizontal speed stays small against the fall) and gone when it reaches the ground.
    # Each speck takes the facade's colour at its launch point (a coarse lattice of the
    # building's own colours), a little dust-tinted.
    bursts = [  # start, vx, vy, pattern scale, threshold, brightness, launch band (y0 lo, hi)
        (0.04, 0.35, 0.55, 5.3, 0.76, 0.85, (-0.02, 0.33)),
        (0.2, 0.45, 0.45, 7.1, 0.78, 1.0, (0.02, 0.36)),
        (0.34, 0.5, 0.35, 9.7, 0.75, 0.9, (0.02, 0.34)),
    ]
    Gd = g.mul(grav, 8.0)
    env_x = g.mul(aspect, 0.6)
    tmax = g.relu(g.sub(p, bursts[0][0]))
    ext_x = g.mul(env_x, g.add(1.0, g.mul(tmax, max(b_[1] for b_ in bursts))))
    peak = max(b_[2] ** 2 for b_ in bursts)
    ext_y = g.add(0.38, g.div(peak / 2.0, Gd))
    cxm = g.add(rl, g.mul(rw, 0.5))
    bxs, bys, pads_b, _ = box(xs, ys, g.sub(cxm, g.mul(ext_x, rh)), g.add(cxm, g.mul(ext_x, rh)),
                              g.sub(rb, g.mul(rh, 0.01)), g.add(rb, g.mul(ext_y, rh)))
    # the facade's colours: the plate x matte point-sampled on a 32x32 grid over the region,
    # 2x2 averaged, un-premultiplied (the building's mean colour where the matte is empty)
    NFL = 16
    gl = (np.arange(2 * NFL, dtype=np.float32) + 0.5) / NFL - 1.0
    flg = g.c(np.stack(np.meshgrid(gl, gl), -1)[None])                 # [1,32,32,2] region-relative
    fl_x = g.add(rl, g.mul(g.add(g.op("Slice", flg, g.i([0]), g.i([1]), g.i([3])), 1.0), g.mul(rw, 0.5)))
    fl_y = g.sub(top, g.mul(g.add(g.op("Slice", flg, g.i([1]), g.i([2]), g.i([3])), 1.0), g.mul(rh, 0.5)))
    flg = g.cat([sub_gx(fl_x), sub_gy(fl_y)], 3)
    FL = g.op("AveragePool", g.op("GridSample", pm_tex, flg, mode="bilinear", align_corners=0, padding_mode="zeros"),
              kernel_shape=[2, 2], strides=[2, 2])                          # [1,4,16,16]
    FL = g.div(g.add(ch(FL, 0, 3), g.mul(col4(bld), 0.03)), g.add(ch(FL, 3), 0.03))
    db_a, db_c = None, None
    life = g.mul(debris_amt, g.sub(1.0, g.smooth(0.9, 1.4, p)))
    for k, (t0, vx, vy, sc, th, br, (y0lo, y0hi)) in enumerate(bursts):
        tk = g.relu(g.sub(p, t0))
        lift = g.sub(g.mul(tk, vy), g.mul(g.mul(tk, tk), g.mul(Gd, 0.5)))      # y - y0
        sx_k = g.add(1.0, g.mul(tk, vx))
        # this burst's own box (inside the debris box): its launch band, moved
        kxs, kys, pads_k, _ = box(bxs, bys, g.sub(cxm, g.mul(g.mul(env_x, sx_k), rh)),
                                  g.add(cxm, g.mul(g.mul(env_x, sx_k), rh)),
                                  g.add(rb, g.mul(g.max(g.add(lift, y0lo), 0.0), rh)),
                                  g.add(rb, g.mul(g.max(g.add(lift, y0hi), 0.0), rh)))
        Xb = g.unsq(g.div(g.sub(kxs, cxm), rh), [0])
        Yb = g.unsq(g.div(g.sub(kys, rb), rh), [1])
        x0 = g.div(Xb, sx_k)
        y0 = g.sub(Yb, lift)
        nd = noise(3 if k != 1 else 2, g.add(g.mul(x0, sc), 0.37 * k), g.add(g.mul(y0, sc), 0.61 * k))
        brk_up = noise(1, g.add(g.mul(x0, 1.37), 0.23 * k), g.add(g.mul(y0, 1.37), 0.71 * k))
        speck = g.lin01(th, th + 0.05, g.add(nd, g.mul(g.sub(brk_up, 0.5), 0.25)))
        # launched from its band, across the building's width; only while in the air
        env = g.mul(g.smooth(env_x, g.mul(env_x, 0.7), g.abs(x0)),
                    g.mul(g.smooth(y0lo, y0lo + 0.05, y0), g.smooth(y0hi, y0hi - 0.13, y0)))
        env = g.mul(env, g.mul(g.smooth(0.0, 0.01, Yb), g.cast(g.gt(tk, 0.0), F)))
        a_k = pad(g.clip01(g.mul(g.mul(speck, env), life)), pads_k)
        # the facade's colour at the launch point, its own brightness per speck
        fx_l = g.clamp(g.sub(g.mul(g.add(g.div(x0, aspect), 0.5), float(NFL)), 0.5), 0.0, NFL - 1.0)
        fy_l = g.clamp(g.sub(g.mul(g.sub(1.0, y0), float(NFL)), 0.5), 0.0, NFL - 1.0)
        c_k = sep_sample(FL, axis_taps(g.reshape(fx_l, [-1]), g.c(float(NFL)), None),
                         axis_taps(g.reshape(fy_l, [-1]), g.c(float(NFL)), None))
        c_k = g.mul(c_k, g.mul(br, g.add(0.7, g.mul(brk_up, 0.5))))
        c_k = pad(c_k, pads_k)
        if db_a is None:
            db_a, db_c = a_k, g.mul(c_k, a_k)
        else:
            db_c = g.add(g.mul(c_k, a_k), g.mul(db_c, g.sub(1.0, a_k)))
            db_a = g.add(a_k, g.mul(db_a, g.sub(1.0, a_k)))
    db_c = g.lerp(db_c, g.mul(g.mul(tint, 0.7), db_a), 0.25)
    Db = pad(g.cat([db_c, db_a], 1), pads_b)
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
    E = build_core(g, "plate", "background", "mask", "out_x", "out_y", "scene", "controls", rng, finite, fp16)
    if fp16:
        E = g.cast(g.op("Clip", E, g.c(-65504.0), g.c(65504.0)), TensorProto.FLOAT16)
    g.nodes.append(helper.make_node("Identity", [E], ["element"]))
    outs = [helper.make_tensor_value_info("element", imdt, [1, 4, "Ho", "Wo"])]
    # drop what does not contribute to the element (helpers leave a few dead nodes)
    need, keep = {"element"}, []
    for n in reversed(g.nodes):
        if any(o in need for o in n.output):
            keep.append(n)
            need.update(n.input)
    nodes = keep[::-1]
    inits = [t for t in g.inits if t.name in need]
    graph = helper.make_graph(nodes, "collapse_default", ins, outs, inits)
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
