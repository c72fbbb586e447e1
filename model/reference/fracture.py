"""Voronoi fracture of the facade rectangle [0, a] x [0, 1] (isotropic units).

Seeds are spread by dart throwing (a minimum distance that follows the local cell
size, so no slivers) from a density that makes cells smaller near the ground, in a
space stretched horizontally so the chunks come out a little wider than tall, like
broken floor slabs. The cells are clipped to the rectangle exactly by the mirror
trick: the Voronoi diagram of the seeds plus their reflections in the four sides has
the rectangle's sides as bisectors, so every original seed's cell is bounded and
already clipped. Cells are convex polygons, counter-clockwise.
"""

from dataclasses import dataclass

import numpy as np
from scipy.spatial import Voronoi

from . import MAX_FRAGMENTS, MAX_VERTS

BASE_CELL = 0.08     # mean cell size in region heights at fragment_size 1
STRETCH = 1.3        # cells are this much wider than tall on average
SIZE_BOTTOM, SIZE_TOP = 0.65, 1.35   # size factor at y = 0 and y = 1 (linear between)


@dataclass
class Fracture:
    aspect: float
    polys: list          # [n] arrays [k, 2], CCW, isotropic units
    centroids: np.ndarray  # [n, 2]
    areas: np.ndarray      # [n]
    n_floors: int

    @property
    def count(self):
        return len(self.polys)

    def padded(self):
        """Rest polygons as ([MAX_FRAGMENTS, MAX_VERTS, 2] float32 in region units
        (x / aspect, y), padded by repeating the last vertex; [MAX_FRAGMENTS] counts)."""
        verts = np.zeros((MAX_FRAGMENTS, MAX_VERTS, 2), np.float32)
        counts = np.zeros(MAX_FRAGMENTS, np.int32)
        for i, p in enumerate(self.polys):
            q = p / np.array([self.aspect, 1.0])
            verts[i, :len(q)] = q
            verts[i, len(q):] = q[-1]
            counts[i] = len(q)
        return verts, counts


def polygon_centroid_area(p):
    x, y = p[:, 0], p[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area = 0.5 * cross.sum()
    cx = ((x + xn) * cross).sum() / (6.0 * area)
    cy = ((y + yn) * cross).sum() / (6.0 * area)
    return np.array([cx, cy]), area


def _size_factor(y):
    return SIZE_BOTTOM + (SIZE_TOP - SIZE_BOTTOM) * y


def _sample_y(u):
    """Inverse CDF of the density proportional to 1 / size(y)^2 on [0, 1]."""
    b, k = SIZE_BOTTOM, SIZE_TOP - SIZE_BOTTOM
    inv = 1.0 / b - u * (1.0 / b - 1.0 / (b + k))
    return (1.0 / inv - b) / k


def target_count(aspect, fragment_size):
    s = BASE_CELL * fragment_size
    b, k = SIZE_BOTTOM, SIZE_TOP - SIZE_BOTTOM
    integral = (1.0 / b - 1.0 / (b + k)) / k      # integral of dy / size(y)^2
    n = int(round(aspect * integral / s ** 2))
    return int(np.clip(n, 2, MAX_FRAGMENTS))


def _seeds(rng, aspect, n):
    """Dart throwing in the stretched space: candidates from the size density,
    accepted while farther than 0.75 local size from every accepted seed."""
    b, k = SIZE_BOTTOM, SIZE_TOP - SIZE_BOTTOM
    integral = (1.0 / b - 1.0 / (b + k)) / k
    s = np.sqrt(aspect * integral / n)            # mean size that gives n cells
    w = aspect / STRETCH
    m = 60 * n + 200
    cand = np.column_stack([rng.random(m) * w, _sample_y(rng.random(m))])
    r = 0.75 * s / np.sqrt(STRETCH) * _size_factor(cand[:, 1])
    acc = np.empty((n, 2))
    acc_r = np.empty(n)
    count = 0
    for c, rc in zip(cand, r):
        if count:
            d2 = ((acc[:count] - c) ** 2).sum(axis=1)
            lim = 0.5 * (rc + acc_r[:count])
            if np.any(d2 < lim * lim):
                continue
        acc[count], acc_r[count] = c, rc
        count += 1
        if count == n:
            break
    return acc[:count], w


def _reduce(poly, max_verts):
    """Drop the vertex of the shortest edge until the polygon fits (rare)."""
    while len(poly) > max_verts:
        e = np.linalg.norm(np.roll(poly, -1, axis=0) - poly, axis=1)
        poly = np.delete(poly, int(np.argmin(e)), axis=0)
    return poly


def fracture(seed, aspect, fragment_size=1.0):
    rng = np.random.default_rng([seed, 0xF2AC])
    n_floors = int(rng.integers(8, 15))
    n = target_count(aspect, fragment_size)
    pts, w = _seeds(rng, aspect, n)
    mirrored = [pts,
                np.column_stack([-pts[:, 0], pts[:, 1]]),
                np.column_stack([2 * w - pts[:, 0], pts[:, 1]]),
                np.column_stack([pts[:, 0], -pts[:, 1]]),
                np.column_stack([pts[:, 0], 2 - pts[:, 1]])]
    vor = Voronoi(np.concatenate(mirrored))
    polys, cents, areas = [], [], []
    for i in range(len(pts)):
        region = vor.regions[vor.point_region[i]]
        v = vor.vertices[region].copy()
        v[:, 0] = np.clip(v[:, 0], 0, w) * STRETCH
        v[:, 1] = np.clip(v[:, 1], 0, 1)
        c0 = v.mean(axis=0)
        v = v[np.argsort(np.arctan2(v[:, 1] - c0[1], v[:, 0] - c0[0]))]
        keep = np.linalg.norm(v - np.roll(v, 1, axis=0), axis=1) > 1e-9
        v = _reduce(v[keep], MAX_VERTS)
        c, area = polygon_centroid_area(v)
        polys.append(v)
        cents.append(c)
        areas.append(area)
    cents = np.array(cents)
    order = np.lexsort((cents[:, 0], cents[:, 1]))   # bottom rows first, then x
    return Fracture(aspect=float(aspect),
                    polys=[polys[i] for i in order],
                    centroids=cents[order],
                    areas=np.array(areas)[order],
                    n_floors=n_floors)
