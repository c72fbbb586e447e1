"""A preview renderer for the reference state (numpy): only for looking at the
simulation. It reads only the exported state tensors (state.py), as the product's
per-tile renderer will.

  * backdrop: a procedural sky and ground, or a given plate (the building's region
    then filled from the columns beside it);
  * fragments: their rest polygons moved rigidly, antialiased, filled with a
    facade texture sampled at rest coordinates (procedural windows and floors, or
    the plate's own building pixels), toned by tilt once released, dark cracks
    along their outline;
  * dust: alpha = 1 - exp(-density), lit by a key light from the upper left
    attenuated by the optical depth marched toward it on the density grid (self
    shadow), plus ambient sky light; warm grey.
Pixel coordinates follow OFX: the region box (L, B, W, H) is in pixels with the
origin at the image's bottom-left, y up.
"""

import numpy as np
from scipy import ndimage

from . import EXPORT_COLS, EXPORT_ROWS, affected_box

DUST_RGB = np.array([0.72, 0.66, 0.58])
KEY_RGB = np.array([1.0, 0.94, 0.84])
SKY_RGB = np.array([0.52, 0.58, 0.68])
LIGHT_DIR = np.array([-0.8, 1.0])       # toward the light: up and to the left
SHADOW_SIGMA = 0.12                     # optical depth per unit density per export cell
SHADOW_STEPS = 24


def _hash01(*ints):
    """Deterministic per-integer-coordinate pseudo random numbers in [0, 1)."""
    h = np.uint64(1469598103934665603)
    with np.errstate(over="ignore"):
        for v in ints:
            h = (h ^ np.asarray(v).astype(np.int64).astype(np.uint64)) * np.uint64(1099511628211)
            h ^= h >> np.uint64(29)
    return (h & np.uint64(0xFFFFFF)).astype(np.float64) / float(0x1000000)


def value_noise(x, y, seed=0):
    xi, yi = np.floor(x), np.floor(y)
    fx, fy = x - xi, y - yi
    fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    a = _hash01(xi, yi, seed)
    b = _hash01(xi + 1, yi, seed)
    c = _hash01(xi, yi + 1, seed)
    d = _hash01(xi + 1, yi + 1, seed)
    return (a + (b - a) * fx) + ((c + (d - c) * fx) - (a + (b - a) * fx)) * fy


class Camera:
    def __init__(self, width, height, region):
        self.w, self.h = int(width), int(height)
        self.L, self.B, self.W, self.H = (float(v) for v in region)
        self.aspect = self.W / self.H

    @classmethod
    def default(cls, aspect, px_per_height=200):
        bx0, by0, bx1, by1 = affected_box(aspect)
        m = 0.08
        w = int(round((bx1 - bx0 + 2 * m) * px_per_height))
        h = int(round((by1 - by0 + 2 * m + 0.06) * px_per_height))
        L = (-bx0 + m) * px_per_height
        B = (-by0 + m + 0.06) * px_per_height
        return cls(w, h, (L, B, aspect * px_per_height, px_per_height))

    def iso(self, px, py):
        """Isotropic (x, y) of pixel centres (px right, py down from the top)."""
        return (px + 0.5 - self.L) / self.H, (self.h - py - 0.5 - self.B) / self.H

    def pixel(self, x, y):
        return x * self.H + self.L - 0.5, self.h - (y * self.H + self.B) - 0.5


def facade_texture(u, v, aspect, n_floors, seed=0):
    """Procedural facade colour at rest coordinates (u = x / aspect, v = y)."""
    fv = v * n_floors
    fi = np.floor(fv)
    fr = fv - fi
    bays = max(2, int(round(aspect / 0.085)))
    bu = u * bays
    bi = np.floor(bu)
    br = bu - bi
    x = u * aspect
    n = 0.6 * value_noise(x * 40, v * 40, seed) + 0.4 * value_noise(x * 150, v * 150, seed + 1)
    wall = np.array([0.63, 0.60, 0.55])[None, :] * (0.86 + 0.2 * n)[:, None]
    ground = fi < 1
    win = np.where(ground, (br > 0.12) & (br < 0.88) & (fr > 0.12) & (fr < 0.86),
                   (br > 0.22) & (br < 0.78) & (fr > 0.3) & (fr < 0.8))
    r = _hash01(bi, fi, seed + 7)
    glass = np.array([0.16, 0.2, 0.25])[None, :] * (0.7 + 0.6 * r)[:, None]
    glass += (0.12 * (fr - 0.3))[:, None]
    lit = r > 0.93
    glass[lit] = np.array([0.75, 0.65, 0.42]) * (0.8 + 0.2 * r[lit])[:, None]
    col = np.where(win[:, None], glass, wall)
    slab = (fr < 0.07) & ~ground
    col[slab] *= 0.8
    sill = win & (fr < 0.34) & ~ground
    col[sill] = col[sill] * 0.6 + 0.25
    col[v > 0.975] *= 0.75
    return col


def procedural_backdrop(cam):
    py, px = np.mgrid[0:cam.h, 0:cam.w]
    x, y = cam.iso(px, py)
    t = np.clip(y / 1.8, 0, 1)[..., None]
    sky = (1 - t) * np.array([0.80, 0.80, 0.78]) + t * np.array([0.50, 0.62, 0.78])
    # a distant skyline
    sk = 0.25 + 0.2 * value_noise(x * 6, 0 * y, 91) + 0.1 * (value_noise(x * 25, 0 * y, 92) > 0.6)
    far = (y < sk) & (y >= 0)
    sky[far] = sky[far] * 0.75 + np.array([0.45, 0.48, 0.52]) * 0.25
    g = np.clip(-y / 0.3, 0, 1)[..., None]
    ground = (1 - g) * np.array([0.45, 0.43, 0.40]) + g * np.array([0.33, 0.31, 0.29])
    ground = ground * (0.92 + 0.1 * value_noise(x * 30, y * 90, 93))[..., None]
    return np.where((y < 0)[..., None], ground, sky)


def painted_plate(cam, backdrop, n_floors):
    """The backdrop with the procedural facade painted into the region: the plate of a
    shot without a photograph."""
    py, px = np.mgrid[0:cam.h, 0:cam.w]
    x, y = cam.iso(px, py)
    u = x / cam.aspect
    inside = ((u >= 0) & (u < 1) & (y >= 0) & (y < 1))[..., None]
    facade = facade_texture(u.ravel(), y.ravel(), cam.aspect, n_floors).reshape(cam.h, cam.w, 3)
    return np.where(inside, facade, backdrop)


def plate_backdrop(plate, cam):
    """The plate with the region filled from the columns just left and right of
    it (a preview-grade clean plate)."""
    out = plate.copy()
    top = int(round(cam.h - cam.B - cam.H))
    bot = int(round(cam.h - cam.B))
    l = int(round(cam.L))
    r = int(round(cam.L + cam.W))
    top, bot = max(top, 0), min(bot, cam.h)
    lc = plate[top:bot, max(l - 4, 0):max(l - 1, 1)].mean(1)
    rc = plate[top:bot, min(r + 1, cam.w - 1):min(r + 4, cam.w)].mean(1)
    lc = ndimage.gaussian_filter1d(lc, 6, axis=0)
    rc = ndimage.gaussian_filter1d(rc, 6, axis=0)
    s = np.linspace(0, 1, max(r - l, 1))[None, :, None]
    out[top:bot, l:r] = (1 - s) * lc[:, None] + s * rc[:, None]
    return out


def draw_fragments(img, cam, table, rest_polys, rest_nverts, aspect, n_floors, plate=None):
    a = aspect
    for i in np.nonzero(table[:, 6] > 0.5)[0]:
        k = int(rest_nverts[i])
        P = rest_polys[i, :k].astype(np.float64) * (a, 1.0)
        c = table[i, :2].astype(np.float64) * (a, 1.0)
        d = table[i, 2:4].astype(np.float64) * (a, 1.0)
        th = float(table[i, 4])
        ct, st = np.cos(th), np.sin(th)
        R = np.array([[ct, -st], [st, ct]])
        W = (P - c) @ R.T + c + d
        qx, qy = cam.pixel(W[:, 0], W[:, 1])
        x0, x1 = int(max(np.floor(qx.min()) - 1, 0)), int(min(np.ceil(qx.max()) + 2, cam.w))
        y0, y1 = int(max(np.floor(qy.min()) - 1, 0)), int(min(np.ceil(qy.max()) + 2, cam.h))
        if x0 >= x1 or y0 >= y1:
            continue
        py, px = np.mgrid[y0:y1, x0:x1]
        px, py = px.ravel().astype(float), py.ravel().astype(float)
        # signed distance (pixels) inside the convex polygon, y down in pixels
        ex, ey = np.roll(qx, -1) - qx, np.roll(qy, -1) - qy
        el = np.hypot(ex, ey) + 1e-12
        sgn = 1.0 if np.sum(qx * np.roll(qy, -1) - np.roll(qx, -1) * qy) > 0 else -1.0
        cross = ex[None] * (py[:, None] - qy[None]) - ey[None] * (px[:, None] - qx[None])
        sd = (sgn * cross / el[None]).min(axis=1)
        # antialiased edges once released; the intact cells are grown by half a
        # pixel so that neighbours close without seams
        released = table[i, 5] > 0.5
        cov = np.clip(sd + (0.5 if released else 1.0), 0, 1)
        m = cov > 0
        if not m.any():
            continue
        px, py, cov, sd = px[m], py[m], cov[m], sd[m]
        X, Y = cam.iso(px, py)
        rx, ry = X - c[0] - d[0], Y - c[1] - d[1]
        u = (ct * rx + st * ry + c[0]) / a
        v = -st * rx + ct * ry + c[1]
        if plate is None:
            col = facade_texture(u, v, a, n_floors)
        else:
            sx, sy = cam.pixel(u * a, v)
            col = np.stack([ndimage.map_coordinates(plate[..., ch], [sy, sx], order=1, mode="nearest")
                            for ch in range(3)], -1)
        if released:
            tilt = th + 0.7 * (_hash01(i, 5) - 0.5)
            col = col * (0.8 + 0.2 * np.cos(tilt) + 0.1 * np.sin(tilt))
            col = col * np.clip(0.55 + 0.45 * (sd - 0.5) / 1.5, 0.55, 1.0)[:, None]
        iy, ix = py.astype(int), px.astype(int)
        img[iy, ix] = img[iy, ix] * (1 - cov[:, None]) + col * cov[:, None]


def dust_layers(density):
    """Per export cell: (alpha, rgb) of the dust, with the self-shadow."""
    d = np.maximum(density.astype(np.float64), 0)
    L = LIGHT_DIR / np.abs(LIGHT_DIR).max()
    rows, cols = np.mgrid[0:EXPORT_ROWS, 0:EXPORT_COLS].astype(float)
    tau = np.zeros_like(d)
    for k in range(1, SHADOW_STEPS + 1):
        tau += ndimage.map_coordinates(d, [rows - k * L[1], cols + k * L[0]], order=1,
                                       mode="constant", cval=0.0)
    tau *= SHADOW_SIGMA * np.hypot(*L) * 0.5
    light = np.exp(-tau)[..., None]
    rgb = DUST_RGB * (0.55 * SKY_RGB / SKY_RGB.mean() + 0.6 * light * KEY_RGB)
    return 1 - np.exp(-d), rgb


def composite_dust(img, cam, density, aspect):
    alpha, rgb = dust_layers(density)
    bx0, by0, bx1, by1 = affected_box(aspect)
    py, px = np.mgrid[0:cam.h, 0:cam.w]
    X, Y = cam.iso(px, py)
    fc = (X - bx0) / (bx1 - bx0) * EXPORT_COLS - 0.5
    fr = (by1 - Y) / (by1 - by0) * EXPORT_ROWS - 0.5
    inside = (X >= bx0) & (X <= bx1) & (Y >= by0) & (Y <= by1)
    A = ndimage.map_coordinates(alpha, [fr, fc], order=1, mode="nearest") * inside
    C = np.stack([ndimage.map_coordinates(rgb[..., ch], [fr, fc], order=1, mode="nearest")
                  for ch in range(3)], -1)
    return img * (1 - A[..., None]) + C * A[..., None]


def render(state, k, cam=None, plate=None, backdrop=None):
    """RGB float image [h, w, 3] of frame k of a state dict (see state.py)."""
    aspect = float(state["aspect"])
    cam = cam or Camera.default(aspect)
    if backdrop is None:
        backdrop = procedural_backdrop(cam) if plate is None else plate_backdrop(plate, cam)
    img = backdrop.copy()
    draw_fragments(img, cam, state["fragments"][k], state["rest_polys"], state["rest_nverts"],
                   aspect, int(state.get("n_floors", 10)), plate)
    img = composite_dust(img, cam, state["density"][k], aspect)
    return np.clip(img, 0, 1)


def to_uint8(img):
    return (np.clip(img, 0, 1) ** (1 / 1.0) * 255 + 0.5).astype(np.uint8)


def contact_sheet(frames, labels, cols=4, scale=0.5):
    from PIL import Image, ImageDraw
    ims = [Image.fromarray(to_uint8(f)) for f in frames]
    w, h = ims[0].size
    tw, th = int(w * scale), int(h * scale)
    rows = (len(ims) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * tw, rows * th), (20, 20, 20))
    dr = ImageDraw.Draw(sheet)
    for n, (im, lab) in enumerate(zip(ims, labels)):
        x, y = (n % cols) * tw, (n // cols) * th
        sheet.paste(im.resize((tw, th), Image.LANCZOS), (x, y))
        dr.text((x + 4, y + 3), lab, fill=(255, 255, 255))
    return sheet
