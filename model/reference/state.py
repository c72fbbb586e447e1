"""The per-frame state of the reference simulation: the fixed-size tensors the
generator network learns from and the per-tile renderer consumes.

Per frame:
  density    float32 [64, 96]  dust optical depth (alpha = 1 - exp(-density)) on a
                               fixed grid over the affected area: cell centres,
                               row 0 at the top (y = 1.6), last row at the bottom
                               (y = -0.06); column 0 at the left (x = -0.75 a),
                               last at the right (x = 1.75 a). Each value is the
                               box-filter average of the simulation grid over the
                               cell, faded to 0 toward the side and top edges
                               (smoothstep over 30% of the side reach and of
                               the top reach; the simulation also absorbs dust
                               there). Below the ground line (y < 0) the simulation
                               has no cells: the rows there hold the density just
                               above the ground (the dust in front of the base).
  fragments  float32 [256, 8]  one row per fragment slot, columns FRAG_COLUMNS:
     0 rest_x    rest centroid x in region units (x / aspect: facade = [0, 1])
     1 rest_y    rest centroid y in region units (ground 0, region top 1)
     2 dx        centroid displacement, x / aspect
     3 dy        centroid displacement, y
     4 angle     rotation about the centroid, radians, counter-clockwise, applied in
                 ISOTROPIC units (x multiplied by aspect): a rest point P maps to
                 c + d + R(angle) (P - c) with P, c, d scaled by (aspect, 1)
     5 released  1 once the fragment has broken free (moving rigid body), else 0
     6 alive     1 for real cells, 0 for unused slots (their other columns are 0)
     7 area      cell area as a fraction of the facade (alive areas sum to 1)
Per simulation:
  rest_polys  float32 [256, 16, 2]  rest polygons in region units (x / aspect, y),
                                    counter-clockwise, convex, padded by repeating
                                    the last vertex
  rest_nverts int32 [256]           vertex counts (0 for unused slots)
  meta: seed, controls (CONTROL_NAMES order), aspect, progress per frame.
Slots are ordered by rest centroid (bottom rows first, then left to right).
"""

import io
import zipfile

import numpy as np

from . import EXPORT_COLS, EXPORT_ROWS, MAX_FRAGMENTS, affected_box

FRAG_COLUMNS = ("rest_x", "rest_y", "dx", "dy", "angle", "released", "alive", "area")


def _overlap_matrix(out_edges, in_edges):
    """Box-filter resampling: R[o, i] = |out cell o  n  in cell i| / |out cell o|,
    with the parts of out cells beyond the input range given to the edge cells."""
    n_out, n_in = len(out_edges) - 1, len(in_edges) - 1
    R = np.zeros((n_out, n_in))
    lo_in, hi_in = in_edges[0], in_edges[-1]
    for o in range(n_out):
        a, b = sorted((out_edges[o], out_edges[o + 1]))
        length = b - a
        if a < lo_in:
            R[o, 0] += min(b, lo_in) - a
        if b > hi_in:
            R[o, -1] += b - max(a, hi_in)
        lo = np.maximum(in_edges[:-1], a)
        hi = np.minimum(in_edges[1:], b)
        R[o] += np.maximum(hi - lo, 0)
        R[o] /= length
    return R


class Exporter:
    """Resamples the simulation grid (rows up from the ground) to the fixed
    [64, 96] export grid (rows top-first)."""

    def __init__(self, aspect, x0, nx, ny, h, window=(0.0, 0.0)):
        """window: (side, top) widths over which the density is faded to zero at
        the box's side and top edges (smoothstep), so it ends before the edges."""
        bx0, by0, bx1, by1 = affected_box(aspect)
        out_y = np.linspace(by1, by0, EXPORT_ROWS + 1)        # top first
        out_x = np.linspace(bx0, bx1, EXPORT_COLS + 1)
        in_y = np.arange(ny + 1) * h
        in_x = x0 + np.arange(nx + 1) * h
        self.Ry = _overlap_matrix(out_y, in_y)                # [64, ny]
        self.RxT = _overlap_matrix(out_x, in_x).T.copy()      # [nx, 96]
        xc, yc = export_centres(aspect)
        ws, wt = window

        def ramp(dist, width):
            if width <= 0:
                return np.ones_like(dist)
            t = np.clip(dist / width, 0, 1)
            return t * t * (3 - 2 * t)
        self.Ry *= ramp(by1 - yc, wt)[:, None]
        self.RxT *= ramp(np.minimum(xc - bx0, bx1 - xc), ws)[None, :]

    def density(self, d):
        return (self.Ry @ d @ self.RxT).astype(np.float32)


def export_centres(aspect):
    """(x [96], y [64]) of the export grid's cell centres, isotropic units."""
    bx0, by0, bx1, by1 = affected_box(aspect)
    x = bx0 + (np.arange(EXPORT_COLS) + 0.5) * (bx1 - bx0) / EXPORT_COLS
    y = by1 - (np.arange(EXPORT_ROWS) + 0.5) * (by1 - by0) / EXPORT_ROWS
    return x, y


def fragment_table(frac, pos, ang, released):
    """[256, 8] float32 fragment state (see FRAG_COLUMNS) from the rigid state in
    isotropic units."""
    a = frac.aspect
    n = frac.count
    t = np.zeros((MAX_FRAGMENTS, len(FRAG_COLUMNS)), np.float32)
    c = frac.centroids
    t[:n, 0] = c[:, 0] / a
    t[:n, 1] = c[:, 1]
    t[:n, 2] = (pos[:, 0] - c[:, 0]) / a
    t[:n, 3] = pos[:, 1] - c[:, 1]
    t[:n, 4] = ang
    t[:n, 5] = released
    t[:n, 6] = 1.0
    t[:n, 7] = frac.areas / a
    return t


def fragment_world_polys(table, rest_polys, rest_nverts, aspect):
    """World polygons (isotropic units) of the alive fragments of one frame:
    list of (slot, [k, 2] vertices)."""
    out = []
    for i in np.nonzero(table[:, 6] > 0.5)[0]:
        k = int(rest_nverts[i])
        P = rest_polys[i, :k].astype(np.float64) * (aspect, 1.0)
        c = table[i, :2].astype(np.float64) * (aspect, 1.0)
        d = table[i, 2:4].astype(np.float64) * (aspect, 1.0)
        th = float(table[i, 4])
        R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        out.append((i, (P - c) @ R.T + c + d))
    return out


def save_npz(path, arrays):
    """Write arrays to an .npz (deflate) whose bytes depend only on the arrays:
    fixed member order, timestamps and permissions (np.savez stamps the time)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
            zf.writestr(info, buf.getvalue())
