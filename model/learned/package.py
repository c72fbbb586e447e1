"""The learned collapse as a contract-2 package (docs/MODEL_CONTRACT.md, "Contract 2").

    target/venv/bin/python -m model.learned.package --model target/learned \
        --out bundle/Contents/Resources/learned.collapse

A package is a folder: package.toml (what the plugin validates: the stages, their
files and every tensor passed between them) and one ONNX file per stage, each a
torch module below exported on its own:

  fracture  (per shot)   mask, scene, controls, noise
                         -> fragments_rest [256,4], fragment_labels [1,1,514,514],
                            fragment_extent [256,4], fragment_inward [1,2,514,514]
  reading   (per shot)   plate, background, scene, fragment_inward
                         -> fragment_read [1,3,514,514]
  light     (per shot)   plate, mask -> light [10]
  ground    (per shot)   plate, mask, scene -> ground [96]
  generator (per frame)  scene, controls, noise, fragments_rest
                         -> density [1,1,64,96], fragments [256,4]   (+ generator.fp16.onnx)
  lattice   (per frame)  scene, controls, noise, fragments_rest, fragment_extent, fragments,
                         ground -> motion [256,4], candidates [7,6144,4], settled [256],
                         heap [96], kept [256]
  dust      (per frame)  scene, controls, density, light
                         -> dust_colour [3,64,96], dust_depth [1,64,96], coat_colour [3]
  render    (per tile)   plate, background, mask, out_x, out_y, scene, controls and
                         the tensors above -> element [1,4,Ho,Wo]

The fracture is procedural (a jittered brick grid, the reference's cell sizes), the
generator is the trained network (model/learned/networks.py), the lattice a
procedural binning of the moving fragments (and the rubble heap they make), and the
renderer is the shared "density in, lit RGBA out" piece: dust lit with self-shadowing
toward the key light and carved into billows, each fragment's pixels gathered from the
plate through the inverse of its rigid motion, the rubble heap, and the clean plate
where the building stood.

Units as in model/reference: isotropic, region height 1, width a (the aspect), x to
the right, y up, ground at y = 0; "region units" divide x by a.
"""

import argparse
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from model.reference import CONTROL_NAMES, CONTROL_RANGES

from .networks import LATENT_DIM, MAX_FRAGMENTS, CollapseFrame

# Affected area and source window (fractions of region width L R, height B T).
REACH = (0.75, 0.06, 0.75, 0.6)
CONTEXT = (0.3, 0.05, 0.3, 0.35)
# Controls in the order the plugin passes them; the generator reads the first five.
CONTROLS = tuple((n, *CONTROL_RANGES[n]) for n in CONTROL_NAMES) + (
    ("dust_r", 0.0, 1.0, 0.62),
    ("dust_g", 0.0, 1.0, 0.58),
    ("dust_b", 0.0, 1.0, 0.52),
    ("dust_tint", 0.0, 1.0, 0.5),
    ("debris_amount", 0.0, 2.0, 1.0),     # scales the rubble heap (below 1: fewer landed pieces)
)
N_NOISE = LATENT_DIM + 2 * MAX_FRAGMENTS + MAX_FRAGMENTS  # latent, seed jitter, depth layer
LABELS = 512                  # fragment label map over the region, LABELS x LABELS
BIN_ROWS, BIN_COLS, CANDIDATES = 64, 96, 4
HEAP_SHARE = 0.2              # of the building's area that ends as the rubble heap
GRID_ROWS, GRID_COLS = 64, 96

# Fracture (model/reference/fracture.py): mean cell 0.08 x fragment_size, cells
# smaller toward the ground (size factor 0.65 at y = 0, 1.35 at y = 1), 1.3x wider
# than tall.
BASE_CELL, STRETCH, SIZE_BOTTOM, SIZE_TOP = 0.08, 1.3, 0.65, 1.35
MAX_ROWS, MAX_COLS = 40, 48


def scene_geometry(scene):
    """(progress, aspect) from the scene vector (contract 1's slots)."""
    return scene[0], (scene[10] / scene[11]).clamp(0.05, 20.0)


# -- per shot: the fracture --------------------------------------------------------

class Fracture(nn.Module):
    """Voronoi cells of a jittered brick grid over the facade: rows whose height
    follows the reference's size profile, in each row as many columns as make the
    cells STRETCH times wider than tall, one seed per cell jittered from the noise.
    Cells the building matte does not cover are dropped (they would move nothing).

    Outputs fragments_rest [256, 4] (seed x / a, seed y, area, alive),
    fragment_labels [1, 1, L + 2, L + 2] (the slot of each texel of the region, rows
    top first, -1 where the matte is empty and on a one-texel border), fragment_extent
    [256, 4] (the cell's box around its seed, isotropic: min dx, max dx, min dy, max dy)
    and fragment_inward [1, 2, L + 2, L + 2] (`_inward`, the same border)."""

    def __init__(self):
        super().__init__()
        k = SIZE_TOP - SIZE_BOTTOM
        self.k_b = k / SIZE_BOTTOM
        self.row_integral = math.log(1.0 + self.k_b) / k       # integral of dy / size(y)
        self.register_buffer("rows", torch.arange(MAX_ROWS, dtype=torch.float32))
        self.register_buffer("slots", torch.arange(MAX_FRAGMENTS, dtype=torch.float32))
        self.register_buffer("texel", (torch.arange(LABELS, dtype=torch.float32) + 0.5) / LABELS)

    def y_of_v(self, v):
        """Height of the row coordinate v in [0, 1] (cells sized by the profile)."""
        return (torch.pow(1.0 + self.k_b, v) - 1.0) / self.k_b

    def v_of_y(self, y):
        return torch.log1p(self.k_b * y.clamp(0.0, 1.0)) / math.log1p(self.k_b)

    def layout(self, a, size):
        """Row count, per-row column counts [MAX_ROWS] and row heights for cell size `size`."""
        n_rows = torch.round(self.row_integral / size).clamp(1, MAX_ROWS)
        lo, hi = self.y_of_v(self.rows / n_rows), self.y_of_v((self.rows + 1) / n_rows)
        height = hi - lo
        cols = torch.round(a / (STRETCH * height)).clamp(1, MAX_COLS)
        return n_rows, cols * (self.rows < n_rows).float(), height

    def seeds(self, a, controls, noise):
        size = BASE_CELL * controls[1].clamp(0.25, 4.0)
        n_rows, cols, height = self.layout(a, size)
        for _ in range(2):      # too many cells: bigger ones (the count falls with size^2)
            size = size * torch.sqrt((cols.sum() / (0.97 * MAX_FRAGMENTS)).clamp(min=1.0))
            n_rows, cols, height = self.layout(a, size)
        start = torch.cumsum(cols, 0) - cols
        total = cols.sum().clamp(max=MAX_FRAGMENTS)
        j = self.slots
        in_row = (start[None, :] <= j[:, None]) & (self.rows[None, :] < n_rows)
        row = in_row.float().sum(1) - 1.0
        ri = row.clamp(min=0).long()
        col = j - start[ri]
        u = _uniform(noise[LATENT_DIM:LATENT_DIM + 2 * MAX_FRAGMENTS]).reshape(MAX_FRAGMENTS, 2)
        c_r = cols[ri].clamp(min=1.0)
        sx = a * (col + 0.2 + 0.6 * u[:, 0]) / c_r
        sy = self.y_of_v((row + 0.2 + 0.6 * u[:, 1]) / n_rows)
        area = height[ri] / c_r * (j < total).float()
        return sx, sy, area, total, n_rows, cols, start

    def labels(self, a, sx, sy, total, n_rows, cols, start):
        """Per texel (flattened, rows top first): x, y and the nearest seed in the
        stretched metric among the 3x3 grid neighbours."""
        y = (1.0 - self.texel)[:, None].expand(LABELS, LABELS).reshape(-1)
        x = (a * self.texel)[None, :].expand(LABELS, LABELS).reshape(-1)
        r0 = torch.floor(self.v_of_y(y) * n_rows)
        best = x * 0.0 + 1e9
        label = x * 0.0
        for dr in (-1.0, 0.0, 1.0):
            rr = r0 + dr
            ok_r = (rr >= 0) & (rr < n_rows)
            rri = rr.clamp(0, MAX_ROWS - 1).long()
            c_rr = cols[rri].clamp(min=1.0)
            c0 = torch.floor(x / a * c_rr)
            for dc in (-1.0, 0.0, 1.0):
                cc = c0 + dc
                slot = (start[rri] + cc).clamp(0, MAX_FRAGMENTS - 1)
                ok = ok_r & (cc >= 0) & (cc < c_rr) & (slot < total)
                si = slot.long()
                d2 = ((x - sx[si]) / STRETCH) ** 2 + (y - sy[si]) ** 2
                d2 = torch.where(ok, d2, 1e9)
                closer = d2 < best
                best = torch.where(closer, d2, best)
                label = torch.where(closer, slot, label)
        return x, y, label

    def forward(self, mask, scene, controls, noise):
        _, a = scene_geometry(scene)
        sx, sy, area, total, n_rows, cols, start = self.seeds(a, controls, noise)
        x, y, label = self.labels(a, sx, sy, total, n_rows, cols, start)
        li = label.long()
        # The matte over each texel (S's pixel under it), and each cell's share of it.
        scol, srow = _texel_pixels(scene, x, y)
        m = _sample(_finite(mask).clamp(0.0, 1.0), _unit(scol, mask.shape[3]), _unit(srow, mask.shape[2]))[0]
        covered = torch.zeros(MAX_FRAGMENTS).scatter_add(0, li, m)
        count = torch.zeros(MAX_FRAGMENTS).scatter_add(0, li, torch.ones_like(m))
        alive = ((self.slots < total) & (covered > 0.02 * count.clamp(min=1.0)) & (covered >= 1.0)).float()
        # The cell's box around its seed.
        ext = []
        for v, seed, red in ((x, sx, "amin"), (x, sx, "amax"), (y, sy, "amin"), (y, sy, "amax")):
            init = torch.zeros(MAX_FRAGMENTS)
            ext.append(init.scatter_reduce(0, li, v - seed[li], reduce=red, include_self=True))
        extent = torch.stack(ext, 1) * alive[:, None]
        rest = torch.stack([sx / a * alive, sy * alive, area * alive, alive], 1)
        # The labels the renderer reads: -1 off the building and on a one-texel border.
        solid = torch.where(m > 0.5, label, -1.0).reshape(1, 1, LABELS, LABELS)
        inward = _inward(mask, scol, srow, scene[4:6]).reshape(1, 2, LABELS, LABELS)
        return rest, F.pad(solid, (1, 1, 1, 1), value=-1.0), extent, F.pad(inward, (1, 1, 1, 1))


def _texel_pixels(scene, x, y):
    """S's pixel coordinates (columns, rows top first) of region points (x, y)."""
    return ((scene[8] + x * scene[11] - scene[6]) * scene[4],
            (scene[7] - (scene[9] + y * scene[11])) * scene[5])


def _crop(t, r0, r1, c0, c1):
    """Rows r0 to r1 and columns c0 to c1 (exclusive ends, tensors) of t [N, C, H, W]."""
    return torch.narrow(torch.narrow(t, 2, r0, r1 - r0), 3, c0, c1 - c0)


INWARD = 3.0                 # canonical pixels a moved piece's colour is read inward from its outline


def _inward(mask, scol, srow, scale):
    """Per label texel, at S's pixels (scol, srow) [L * L]: within two pixels of where the
    matte [1, 1, Hs, Ws] is not full (the building's outline, which in a photograph blends
    with the sky and carries its sharpening halo), the offset (S's columns, rows) INWARD
    canonical pixels (`scale`: S's pixels per canonical pixel) toward the full matte, where
    a moved piece reads its colour; none elsewhere and where that point is not on the full
    matte (a spire too thin). [2, L * L]. Worked out on the region's part of S."""
    hs, ws = mask.shape[2], mask.shape[3]
    c0 = (scol.min() - 8.0).floor().long().clamp(min=0)
    r0 = (srow.min() - 8.0).floor().long().clamp(min=0)
    c1 = (scol.max() + 9.0).ceil().long().clamp(max=ws)
    r1 = (srow.max() + 9.0).ceil().long().clamp(max=hs)
    m = _finite(_crop(mask, r0, r1, c0, c1)).clamp(0.0, 1.0)
    scol, srow = scol - c0.float(), srow - r0.float()
    # The matte eroded by 2 pixels, and the gradient of its 5x5 mean (central differences,
    # over 2 pixels), read at the texels together.
    full = -F.max_pool2d(F.max_pool2d(-m, (1, 5), stride=1, padding=(0, 2)), (5, 1), stride=1,
                         padding=(2, 0))
    soft = F.avg_pool2d(F.avg_pool2d(m, (1, 5), stride=1, padding=(0, 2), count_include_pad=False),
                        (5, 1), stride=1, padding=(2, 0), count_include_pad=False)
    gc = F.pad(soft[:, :, :, 2:] - soft[:, :, :, :-2], (1, 1))
    gr = F.pad(soft[:, :, 2:, :] - soft[:, :, :-2, :], (0, 0, 1, 1))
    hc, wc = m.shape[2], m.shape[3]
    at = lambda image, dc, dr: _sample(image, _unit(scol + dc, wc), _unit(srow + dr, hc))
    gc, gr, eroded = at(torch.cat([gc, gr, full], 1), 0.0, 0.0).unbind(0)
    norm = torch.sqrt(gc * gc + gr * gr)
    near = ((eroded < 0.99) & (norm > 1e-3)).float()
    oc = gc * (INWARD * scale[0] / norm.clamp(min=1e-6)) * near
    orow = gr * (INWARD * scale[1] / norm.clamp(min=1e-6)) * near
    ok = (at(m, oc, orow)[0] >= 0.99).float()
    return torch.stack([oc * ok, orow * ok])


class Reading(nn.Module):
    """Per shot, beside the fracture (it reads the plate, which on a sequence changes every
    frame; the fracture does not): how a piece reads each label texel once it moves,
    `fragment_read` [1, 3, L + 2, L + 2] (rows top first, a one-texel border of 0): the
    fracture's `fragment_inward` offsets (its outline's colour read inward), and 1 where
    the texel goes with its piece, 0 where it stays: where the plate has the clean plate's
    colour, it is what the matte took for the building but stands behind it (the sky seen
    between a dome's statues), and the piece leaves it behind."""

    def __init__(self):
        super().__init__()
        self.register_buffer("texel", (torch.arange(LABELS, dtype=torch.float32) + 0.5) / LABELS)

    def forward(self, plate, background, scene, fragment_inward):
        _, a = scene_geometry(scene)
        # S's pixel under each texel centre (as the fracture's labels).
        scol, srow = _texel_pixels(scene, (a * self.texel)[None, :].expand(LABELS, LABELS).reshape(-1),
                                   (1.0 - self.texel)[:, None].expand(LABELS, LABELS).reshape(-1))
        hs, ws = plate.shape[2], plate.shape[3]
        gx, gy = _unit(scol, ws), _unit(srow, hs)
        seen, behind = _finite(_sample(plate, gx, gy))[:3], _finite(_sample(background, gx, gy))[:3]
        apart = (seen - behind).abs().amax(0) / ((seen + behind).sum(0) / 6.0 + 0.02)
        # (Decided over 7x7 texels: a textured pocket, twigs against the sky, goes or stays
        # whole rather than as specks.)
        share = F.avg_pool2d(_smoothstep(0.05, 0.15, apart).reshape(1, 1, LABELS, LABELS), 7,
                             stride=1, padding=3, count_include_pad=False)
        inward = fragment_inward[:, :, 1:-1, 1:-1]
        moved_in = (inward.abs().amax(1, keepdim=True) > 0).float()
        goes = torch.maximum(_smoothstep(0.35, 0.65, share), moved_in)
        return F.pad(torch.cat([inward, goes], 1), (1, 1, 1, 1))


def _uniform(n):
    """Standard normals -> uniforms in (0, 1)."""
    return 0.5 * (1.0 + torch.erf(n / math.sqrt(2.0)))


# -- per frame: the generator and the fragments' lattice -----------------------------

class Generator(nn.Module):
    """The trained network (model/learned/networks.py): the frame's dust density and
    every fragment's motion from the progress, the latent (the first LATENT_DIM
    numbers of the noise), the controls and the aspect. Only this stage has an fp16
    variant."""

    def __init__(self, model):
        super().__init__()
        self.frame = CollapseFrame(model)

    def forward(self, scene, controls, noise, fragments_rest):
        progress, a = scene_geometry(scene)
        t = progress.clamp(0.0, 1.25).reshape(1)
        return self.frame(t, noise[:LATENT_DIM], controls[:5], a.reshape(1), fragments_rest)


class Lattice(nn.Module):
    """For the renderer, per frame: the motion (zero before the start), and for each
    cell of a lattice over the affected area its candidate fragments, front to back (the
    cells' boxes against each moving fragment's box), each with its inverse rigid motion
    as an affine map from canonical output coordinates to label texels:
    candidates [7, cells, K] holds the slots (-1: none) in plane 0 and the maps in planes 1-6.
    And the rubble: each fragment's settled share, the heap over the lattice's columns and
    which pieces stay once landed (`debris`; none where the region's bottom line is no
    ground, `Ground`: there the pieces go on down into the dust as they land)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("slots", torch.arange(MAX_FRAGMENTS, dtype=torch.float32))
        self.register_buffer("rows", torch.arange(BIN_ROWS, dtype=torch.float32))
        self.register_buffer("cols", torch.arange(BIN_COLS, dtype=torch.float32))
        # Each slot's share (the golden-ratio sequence: any share of the slots is spread
        # evenly): the piece stays while `debris_amount` is above it.
        self.register_buffer("share", torch.remainder(self.slots * 0.6180339887 + 0.5, 1.0))

    def forward(self, scene, controls, noise, fragments_rest, fragment_extent, fragments, ground):
        progress, a = scene_geometry(scene)
        frag = fragments * (progress > 0).float()
        alive = fragments_rest[:, 3] > 0.5
        # Rigid motion, isotropic: rest point P -> c + d + R(angle) (P - c).
        c0x, c0y = fragments_rest[:, 0] * a, fragments_rest[:, 1]
        cx = c0x + frag[:, 0] * a
        cos, sin = torch.cos(frag[:, 2]), torch.sin(frag[:, 2])
        # The moving box of each piece (its rest box rotated), centre (mx, my) and half
        # sizes (rx, ry).
        e = fragment_extent
        hx, hy = 0.5 * (e[:, 1] - e[:, 0]), 0.5 * (e[:, 3] - e[:, 2])
        ox, oy = 0.5 * (e[:, 1] + e[:, 0]), 0.5 * (e[:, 3] + e[:, 2])
        mx = cx + cos * ox - sin * oy
        rx = cos.abs() * hx + sin.abs() * hy + 1e-3
        ry = sin.abs() * hx + cos.abs() * hy + 1e-3
        x0, y0, x1, y1 = -REACH[0] * a, -REACH[1], (1 + REACH[2]) * a, 1 + REACH[3]
        w, h = (x1 - x0) / BIN_COLS, (y1 - y0) / BIN_ROWS
        px = x0 + (self.cols + 0.5) * w                                  # [BIN_COLS]
        py = y1 - (self.rows + 0.5) * h                                  # [BIN_ROWS]
        settled, heap = self.rubble(fragments_rest, frag, a, cx, c0y, px, alive)
        amount = controls[9].clamp(0.0, 2.0)
        # (Where the line under a piece is no ground, nothing stays: it goes on down and
        # into the dust as it lands, and no heap builds there.)
        under = ground[((cx - x0) / w).floor().clamp(0, BIN_COLS - 1).long()]     # [256]
        kept = (self.share < amount).float() * (under > 0.5).float()
        my = c0y + frag[:, 1] + sin * ox + cos * oy
        landed = _landed(settled, progress, frag[:, 3])
        drop = self.lowered(amount, kept, landed, frag, my, ry) + 0.08 * (1.0 - under) * landed
        frag = torch.stack([frag[:, 0], frag[:, 1] - drop, frag[:, 2], frag[:, 3]], 1)
        cy, my = c0y + frag[:, 1], my - drop
        # Its inverse from canonical (X, Y): p = ((X - rl) / rh, (Y - rb) / rh),
        # q = c0 + R(-angle) (p - c).
        rl, rb, rh = scene[8], scene[9], scene[11]
        qxx, qxy = cos / rh, sin / rh
        qyx, qyy = -sin / rh, cos / rh
        px0, py0 = -rl / rh - cx, -rb / rh - cy
        qx0 = c0x + cos * px0 + sin * py0
        qy0 = c0y - sin * px0 + cos * py0
        L = float(LABELS)
        maps = torch.stack([qxx * L / a, qxy * L / a, qx0 * L / a,        # label column
                            -qyx * L, -qyy * L, L - qy0 * L], 1)           # label row
        # The moving boxes against the lattice cells.
        over_x = (px[:, None] - mx[None, :]).abs() < rx[None, :] + 0.5 * w
        over_y = ((py[:, None] - my[None, :]).abs() < ry[None, :] + 0.5 * h) & alive[None, :]
        hit = (over_y[:, None, :] & over_x[None, :, :]).reshape(BIN_ROWS * BIN_COLS, MAX_FRAGMENTS)
        # Front to back: released fragments before standing ones, then by depth layer.
        layer = torch.floor(4.0 * _uniform(noise[-MAX_FRAGMENTS:])).clamp(0, 3)
        order = 1.0 + 2.0 * frag[:, 3] + 0.2 * layer + self.slots / (16 * MAX_FRAGMENTS)
        score = hit.float() * order[None, :]
        value, index = torch.topk(score, CANDIDATES, dim=1)
        slots = torch.where(value > 0, index.float(), -1.0)                # [cells, K]
        # Each cell's candidates' maps. (Zero where there is no candidate: ties among the
        # empty ones fall either way.)
        maps = maps[index].permute(2, 0, 1) * (value > 0).float()[None]     # [6, cells, K]
        # (The heap slopes down to nothing over the three columns before the ground ends.)
        slope = torch.minimum(ground, F.avg_pool1d(ground[None, None], 7, stride=1, padding=3,
                                                   count_include_pad=False)[0, 0])
        heap = self.debris(amount, kept, settled, heap, px, mx, my, rx, ry, w) * slope
        return frag, torch.cat([slots[None], maps], 0), settled, heap, kept

    @staticmethod
    def lowered(amount, kept, landed, frag, my, ry):
        """How far each piece the debris control keeps comes down below where the generator
        puts it. Below 1 the pieces it lay on are gone too, evenly spread (a share
        `amount` of them stay): what held a piece at some height is that share of what
        held it, so its height over the ground (with a quarter of it sunk in) is scaled by
        `amount`, as the heap's is. It comes down as it lands (once the fall is over, every
        released piece has landed: `landed`), so nothing jumps; at 1 and above, nothing
        moves."""
        rest = (my - 0.5 * ry).clamp(min=0.0)
        return (1.0 - amount).clamp(min=0.0) * rest * landed * kept

    def debris(self, amount, kept, settled, heap, px, mx, my, rx, ry, w):
        """The rubble heap's height under the `debris_amount` control, which keeps a share
        `amount` of the pieces once landed (`kept`: spread evenly over the facade, each
        piece whole or gone, never a half-transparent ghost): scaled by it. Under a piece
        that stays the heap keeps up to its full height, enough to hold the piece where it
        came to rest (a quarter of its height sunk in), so no piece floats over a lower heap."""
        hold = kept * settled * (my - 0.5 * ry)                          # [256]
        # (Under the piece, and sloping away over as far again to either side.)
        under = (2.0 - ((px[:, None] - mx[None, :]).abs() - 0.5 * w) / rx[None, :]).clamp(0.0, 1.0)
        need = (under * hold[None, :]).amax(1)                           # [BIN_COLS]
        return torch.maximum(amount * heap, torch.minimum(need, heap))

    @staticmethod
    def rubble(rest, frag, a, cx, c0y, px, alive):
        """How far each fragment has come down (0 standing, 1 landed), and the rubble heap's
        height over the lattice's columns: a share of the landed pieces' area, most of it a
        mound over the building's footprint, the rest spread around where each piece lies
        (wider for bigger pieces), so the heap grows under the fall."""
        fall = (-frag[:, 1] / c0y.clamp(min=0.05)).clamp(0.0, 1.0)
        settled = _smoothstep(0.35, 0.95, fall) * alive.float()
        area = rest[:, 2] * a
        landed = area * settled
        sigma = 0.05 + 0.6 * torch.sqrt(area)
        g = torch.exp(-0.5 * ((px[:, None] - cx[None, :]) / sigma[None, :]) ** 2) / (sigma * 2.5066283)
        # (The mound: (1 - x^2)^2 over 1.3 footprints, or a tall building's fall, of unit area.)
        half = torch.maximum(0.65 * a, a * 0.0 + 0.4)
        mound = (1.0 - ((px - 0.5 * a) / half) ** 2).clamp(min=0.0) ** 2 / (16.0 / 15.0 * half)
        heap = 0.7 * landed.sum() * mound + 0.3 * (g * landed[None, :]).sum(1)
        # (Down to nothing toward the lattice's sides: the affected area ends there.)
        side = torch.minimum(px - px[0], px[-1] - px) / (0.6 * a)
        return settled, HEAP_SHARE * heap * _smoothstep(0.0, 1.0, side)


# -- per tile: the renderer ----------------------------------------------------------

def _unit(v, n):
    """Normalised GridSample coordinate (align_corners=False) of pixel position v in [0, n]."""
    return 2.0 * v / n - 1.0


def _sample(image, gx, gy):
    """image [1, C, H, W] at normalised coordinates gx, gy (same shape [...]) -> [C, ...]."""
    shape = gx.shape
    grid = torch.stack([gx.reshape(1, 1, -1), gy.reshape(1, 1, -1)], -1)
    out = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.reshape((image.shape[1],) + tuple(shape))


def _finite(x):
    """NaN and infinities read as 0 (an image may hold them)."""
    return torch.where(x - x == 0, x, 0.0)          # (x - x is NaN exactly when x is not finite)


def _bspline(d):
    """The cubic B-spline kernel (smooth, support |d| < 2)."""
    d = d.abs()
    near = (4.0 - 6.0 * d * d + 3.0 * d * d * d) / 6.0
    f = (2.0 - d).clamp(min=0.0)
    far = f * f * f / 6.0
    return torch.where(d < 1.0, near, far)


def _weights(pos, n, period=None):
    """[len(pos), n] cubic B-spline weights of lattice cells 0..n-1 (centres at i + 0.5)
    at positions `pos` in cell units; periodic when `period` is set."""
    d = pos[:, None] - (torch.arange(n, dtype=torch.float32) + 0.5)[None, :]
    if period is not None:
        d = torch.remainder(d + 0.5 * period, period) - 0.5 * period
    return _bspline(d)


def _at_least_one(flags):
    """`flags`, with the first one set when none is (so no tensor derived from it is
    empty: ONNX Runtime cannot reshape an empty tensor by -1)."""
    first = torch.zeros_like(flags)
    first[0] = True
    return flags | (first & ~flags.any())


def _box(inside):
    """The indices of the contiguous run of True in a monotonic mask (at least one)."""
    return torch.nonzero(_at_least_one(inside))[:, 0]


def _reached(pos, cells):
    """Which positions `pos` (in lattice cells, centres at i + 0.5) a cubic B-spline of any
    of the flagged `cells` reaches (with half a cell to spare)."""
    i = torch.arange(cells.shape[0], dtype=torch.float32)
    lo = torch.where(cells, i, i[-1] + 1.0).min()
    hi = torch.where(cells, i, -1.0).max()
    return (pos > lo - 2.0) & (pos < hi + 3.0)


def _widened(run):
    """A run of True one longer at each end."""
    return run | torch.cat([run[1:], run[-1:]]) | torch.cat([run[:1], run[:-1]])


def _pad_box(t, inside, dim):
    """`t`, cut to the run `_box(inside)` along `dim`, padded back to len(inside) with
    zeros. (The pads' lengths come from shapes, so they stay dynamic in ONNX.)"""
    sel = _at_least_one(inside)
    run = torch.cumsum(sel.long(), 0)
    before = torch.nonzero(run == 0)[:, 0]
    after = torch.nonzero((run == run[-1]) & ~sel)[:, 0]
    shape = lambda n: [n if k == dim else t.shape[k] for k in range(t.dim())]
    return torch.cat([t.new_zeros(shape(before.shape[0])), t, t.new_zeros(shape(after.shape[0]))], dim)


def _half_grid(coord, scale, descending):
    """The half-resolution grid under the output pixels' centres `coord` (canonical, one
    axis): a point at the centre of every pair of pixels 2j, 2j + 1 of the render-scale
    grid, the same points whatever the tile. -> the points' canonical coordinates (in
    `coord`'s order) that span the tile with one to spare at either end, and where the
    tile's first pixel is in their 2x upsampling (`_upsampled`)."""
    p = torch.round(coord * scale - 0.5)                   # the pixels' indices
    parity = lambda q: q - 2.0 * torch.floor(0.5 * q)
    lo, hi = torch.floor(0.5 * p.min()) - 1.0, torch.floor(0.5 * p.max()) + 1.0
    j = torch.arange(0, hi - lo + 1.0, dtype=torch.float32)
    if descending:
        return (2.0 * (hi - j) + 1.0) / scale, (3.0 - parity(p[0])).long()
    return (2.0 * (lo + j) + 1.0) / scale, (2.0 + parity(p[0])).long()


def _upsampled(t, ho, wo, row, col):
    """t [C, Hh, Wh] on `_half_grid`s at the output pixels [C, ho, wo]: bilinear (each
    pixel from the four points around it with weights 1/16 to 9/16, the same bits whatever
    the tile: the grids' spare points keep the tile's edge pixels off the clamped border)."""
    up = F.interpolate(t[None], scale_factor=2.0, mode="bilinear", align_corners=False)
    return torch.narrow(torch.narrow(up, 2, row, ho), 3, col, wo).squeeze(0)


def _pixels(coord, start, scale, size, flip):
    """S's pixel index (clamped) and validity of output coordinates on S's grid."""
    f = ((start - coord) if flip else (coord - start)) * scale - 0.5
    i = torch.round(f)
    ok = (i >= 0) & (i < size)
    return i.clamp(0, size - 1).long(), ok.float()


def _grown(mask, row, col):
    """The matte (NaN, inf -> 0) grown by 3 pixels (its maximum over 7x7 pixels, in two
    passes) at the pixels (row [h], col [w]) of the window: [1, h, w]. Worked out on the
    rows and columns they span and 3 more each side, not on the whole window."""
    r0, c0 = (row.min() - 3).clamp(min=0), (col.min() - 3).clamp(min=0)
    part = _crop(mask, r0, (row.max() + 4).clamp(max=mask.shape[2]), c0,
                 (col.max() + 4).clamp(max=mask.shape[3]))
    m = F.max_pool2d(_finite(part), (1, 7), stride=1, padding=(0, 3))
    m = F.max_pool2d(m, (7, 1), stride=1, padding=(3, 0))
    return m.squeeze(0)[:, row - r0][:, :, col - c0]


OUTLINE_CELL = 8               # pixels per cell of the renderer's outline test


def _outline(mask, row, col, reach_rows, reach_cols):
    """At the pixels (row [h], col [w]) of the window, from the matte's means over 8x8-pixel
    cells (from the window's corner): 1 where the building does not stand all around the
    pixel's cell, `reach` pixels above, to either side or diagonally above (that far from
    its outline a gap shows what is behind, not its interior), 0 deep inside, between where
    the cells are part full. [h, w]. Only the cells the pixels look up are worked out."""
    hs, ws = mask.shape[2], mask.shape[3]
    hq, wq = (hs + OUTLINE_CELL - 1) // OUTLINE_CELL, (ws + OUTLINE_CELL - 1) // OUTLINE_CELL
    di, dj = torch.round(reach_rows / OUTLINE_CELL), torch.round(reach_cols / OUTLINE_CELL)
    rows, cols = row // OUTLINE_CELL, col // OUTLINE_CELL
    # The cells looked up: from di above the first row's to the last row's, dj either side.
    r0 = (rows.min() - di.long()).clamp(min=0)
    c0 = (cols.min() - dj.long()).clamp(min=0)
    r1 = (rows.max() + 1).clamp(max=hq)
    c1 = (cols.max() + dj.long() + 1).clamp(max=wq)
    part = _crop(mask, r0 * OUTLINE_CELL, (r1 * OUTLINE_CELL).clamp(max=hs), c0 * OUTLINE_CELL,
                 (c1 * OUTLINE_CELL).clamp(max=ws))
    cells = F.avg_pool2d(_finite(part).clamp(0.0, 1.0), OUTLINE_CELL, stride=OUTLINE_CELL,
                         ceil_mode=True)[0, 0]                           # [r1 - r0, c1 - c0]
    # Worked out per cell the pixels are in, then spread over the pixels.
    lo_r, lo_c = rows.min(), cols.min()
    cr = torch.arange(lo_r, rows.max() + 1)
    cc = torch.arange(lo_c, cols.max() + 1)
    held = None
    for u, v in ((-1.0, 0.0), (0.0, -1.0), (0.0, 1.0), (-0.7, -0.7), (-0.7, 0.7)):
        r = (cr + torch.round(u * di)).clamp(0, hq - 1).long() - r0
        c = (cc + torch.round(v * dj)).clamp(0, wq - 1).long() - c0
        m = cells[r][:, c]
        held = m if held is None else torch.minimum(held, m)
    return ((1.0 - held) * 20.0).clamp(0.0, 1.0)[rows - lo_r][:, cols - lo_c]


PUFF_TEXELS = 128
BLUR = 25                     # taps of the dust lattice's blur (sigma 4 cells)
DUST_FLOOR = 1e-3             # optical depth below which the lattice holds no dust (alpha < 1e-3)
# The dust lattice's last row whose centre is on or above the ground line (y = 0).
GROUND_ROW = int((1 + REACH[3]) / ((1 + REACH[3] + REACH[1]) / GRID_ROWS) - 0.5)


def puff_texture(seed=11, n=PUFF_TEXELS):
    """A periodic n x n cauliflower height field in [0, 1]: rounded puffs (caps a little
    flatter than spheres, so their slopes stay finite) at three sizes, small ones riding
    on big ones. Float64 numpy, so the same bits on every machine."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64) + 0.5
    h = np.zeros((n, n))
    for count, r0, r1, amp in ((40, 8.0, 13.0, 1.0), (160, 3.5, 6.0, 0.5), (560, 1.6, 2.8, 0.25)):
        layer = np.zeros((n, n))
        for _ in range(count):
            cx, cy = rng.random(2) * n
            r = r0 + (r1 - r0) * rng.random()
            dx = (xx - cx + n / 2) % n - n / 2
            dy = (yy - cy + n / 2) % n - n / 2
            layer = np.maximum(layer, np.maximum(1.0 - (dx * dx + dy * dy) / (r * r), 0.0) ** 0.75 * r / r1)
        h += amp * layer
    lo, hi = np.percentile(h, 1.0), np.percentile(h, 99.0)
    return np.clip((h - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


STONE_TEXELS = 256            # the rubble texture's side: about a pixel a texel at 1080p


def stones_texture(seed=5, n=STONE_TEXELS, count=1700):
    """A periodic n x n rubble tone in [0, 1]: broken chunks of mixed sizes piled over each
    other (random convex polygons, each later one on top where it stands higher), each a
    low pyramid of flat facets lit from above and a little left (rows down), shaded in the
    crevices and where a higher chunk above casts its shadow; dark fines where no chunk
    lies; and [2, n, n]: where on the facade each chunk comes from (constant over a chunk).
    Float64 numpy."""
    rng = np.random.default_rng(seed)
    scale = n / 128.0                                    # (sizes are set for 128 texels)
    height = np.full((n, n), -np.inf)
    owner = np.full((n, n), -1, np.int64)
    slope = np.zeros((2, n, n))                          # each texel's facet: its rise, per texel
    radius = scale * (3.0 + 12.0 * rng.random(count) ** 1.6)   # many chips, a few slabs
    base = 0.6 * rng.random(count)
    for i in range(count):
        cx, cy, r = rng.random() * n, rng.random() * n, radius[i]
        k = rng.integers(4, 8)
        ang = np.sort(rng.random(k)) * 2.0 * np.pi + rng.random() * 2.0 * np.pi
        rad = r * (0.6 + 0.4 * rng.random(k))
        vx, vy = rad * np.cos(ang), rad * np.sin(ang) * (0.55 + 0.3 * rng.random())   # lying flat
        # The texels of its box (wrapped), offsets from its centre.
        cols = np.arange(int(cx - r) - 1, int(cx + r) + 2)
        rows = np.arange(int(cy - r) - 1, int(cy + r) + 2)
        dx, dy = np.meshgrid(cols + 0.5 - cx, rows + 0.5 - cy)
        at = np.ix_(rows % n, cols % n)
        # Distance inward from the nearest edge (negative outside), and that edge's normal.
        dist, inward = np.full(dx.shape, np.inf), np.zeros((2,) + dx.shape)
        for j in range(k):
            x0, y0, x1, y1 = vx[j], vy[j], vx[(j + 1) % k], vy[(j + 1) % k]
            length = math.hypot(x1 - x0, y1 - y0) + 1e-9
            nx, ny = -(y1 - y0) / length, (x1 - x0) / length
            d = (dx - x0) * nx + (dy - y0) * ny
            closer = d < dist
            dist = np.where(closer, d, dist)
            inward = np.where(closer, np.array([nx, ny])[:, None, None], inward)
        ridge = 0.45 * r
        z = base[i] + 0.05 / scale * np.minimum(dist, ridge)
        top = (dist > 0) & (z > height[at])
        height[at] = np.where(top, z, height[at])
        owner[at] = np.where(top, i, owner[at])
        for c in range(2):
            slope[c][at] = np.where(top, 0.4 * inward[c] * (dist < ridge), slope[c][at])
    empty = owner < 0
    normal = np.stack([-slope[0], -slope[1], np.ones((n, n))])
    normal /= np.linalg.norm(normal, axis=0)
    light = np.array([-0.35, -0.75, 0.55]) / np.linalg.norm([-0.35, -0.75, 0.55])
    shade = 0.3 + 0.85 * np.clip(np.tensordot(light, normal, 1), 0.0, 1.0)
    h = np.where(empty, 0.0, height)
    around = h
    for _ in range(round(3 * scale * scale)):
        around = (around + np.roll(around, 1, 0) + np.roll(around, -1, 0)
                  + np.roll(around, 1, 1) + np.roll(around, -1, 1)) / 5.0
    crevice = np.clip((around - h) * 6.0, 0.0, 1.0)
    shadow = np.zeros((n, n))
    for j in range(1, round(5 * scale)):                 # toward the light: up, a little left
        above = np.roll(np.roll(h, j, 0), -(-j // 2), 1)
        shadow = np.maximum(shadow, np.clip((above - h - 0.04 * j / scale) * 8.0, 0.0, 1.0))
    tone = (0.55 + 0.45 * rng.random(count))[np.maximum(owner, 0)]
    fines = 0.18 + 0.12 * rng.random((n, n))
    v = np.where(empty, fines, tone * shade) * (1.0 - 0.55 * crevice) * (1.0 - 0.5 * shadow)
    v = v / v.max() * (0.3 / np.mean(v / v.max()))       # (the renderer's level: a mean of 0.3)
    # (Each chunk's own place on the facade, two numbers in [0, 1), from another generator
    # so that the tone keeps its values.)
    where = np.random.default_rng(seed + 1).random((2, count))[:, np.maximum(owner, 0)]
    return np.clip(v, 0.0, 1.0).astype(np.float32), where.astype(np.float32)


SUM_SPAN = 128                 # the longest sum ONNX Runtime forms in one order whatever the tile


def _matmul(a, b, thin=True):
    """a @ b (the last two axes) in the order ONNX Runtime keeps whatever the tile, which
    must give the bits it gives inside a larger tile: `thin` (the product may have one row
    or one column, which ONNX Runtime sums in another order), never as such a product (a
    zero row and column are added, then cut); and a sum longer than SUM_SPAN (its order
    depends on the tile over a longer span) in spans of that many terms, one product
    each, added in order."""
    def mm(x, y):
        if not thin:
            return torch.matmul(x, y)
        return torch.matmul(F.pad(x, (0, 0, 0, 1)), F.pad(y, (0, 1)))[..., :-1, :-1]

    n = a.shape[-1]
    if n <= SUM_SPAN:
        return mm(a, b)
    total = None
    for k in range(0, n, SUM_SPAN):
        p = mm(a[..., k:k + SUM_SPAN], b[k:k + SUM_SPAN])
        total = p if total is None else total + p
    return total


def _lookup(texture, u, v, scale, thin=True):
    """A periodic texture at (u [Wo], v [Ho]), `scale` region heights per period, v up:
    separable cubic B-spline weights, two matrix products (`_matmul`) -> [Ho, Wo]. `thin`:
    the grid may be one pixel high or wide (the renderer's own grid never is)."""
    n = texture.shape[0]
    wx = _weights(u / scale * n, n, period=n)
    wy = _weights(-v / scale * n, n, period=n)
    return _matmul(wy, _matmul(texture, wx.t(), thin), thin)


# Per pixel, only + - * / and comparisons: ONNX Runtime computes exp, log, cos and pow in
# vector lanes and the leftover elements one by one, to other bits, so a pixel's bits would
# depend on where the tile puts it. (Per fragment or per lattice cell, the tensors are
# the same in every tile.)

def _square(x):
    return x * x


def _log_ratio(x, ref):
    """log(x / ref) by the atanh series to z^7 (z = (x - ref) / (x + ref)): within 1%
    over ref / 5 .. 5 ref (where the dust's edge is), 10% low at 20 ref."""
    z = (x - ref) / (x + ref)
    z2 = z * z
    return 2.0 * z * (1.0 + z2 * (1.0 / 3.0 + z2 * (0.2 + z2 / 7.0)))


def _one_minus_exp(x):
    """1 - exp(-x) for x >= 0, with exp(x) by its cubic Taylor polynomial (within 0.03)."""
    return 1.0 - 1.0 / (1.0 + x * (1.0 + x * (0.5 + x / 6.0)))


def _thinning(progress):
    """How much of the dust is left after the fall (1 until progress 0.9, then falling off;
    the generator's last frame is progress 1.25, the shot goes on)."""
    return torch.exp(-4.0 * (progress - 0.9).clamp(min=0.0))


def _smoothstep(e0, e1, x):
    t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _landed(settled, progress, released):
    """How far each piece has landed: its settled share, and once the fall is over (progress
    1 to 1.25) every released piece, also one that came to rest high on the heap."""
    return torch.maximum(settled, _smoothstep(1.0, 1.25, progress) * released)


LUMA = (0.2126, 0.7152, 0.0722)


class Light(nn.Module):
    """Per shot: the plate's light, from every 8th pixel of S (NaN, inf -> 0): `light` [10]
    = the key light's colour (luminance^2-weighted, outside the building) [3], the ambient
    (mean colour outside it) [3], the key's lean (0 left, 1 right: toward the brighter
    side) and the building's mean colour [3]."""

    def __init__(self):
        super().__init__()
        self.register_buffer("luma", torch.tensor(LUMA).reshape(1, 3, 1, 1))

    def forward(self, plate, mask):
        sub = _finite(plate[:, :, ::8, ::8])
        mask = _finite(mask[:, :, ::8, ::8]).clamp(0.0, 1.0)
        w = (1.0 - mask) * sub[:, 3:4].clamp(0, 1)
        rgb = sub[:, :3].clamp(0, 4)
        ambient = (rgb * w).sum((0, 2, 3)) / w.sum().clamp(min=1e-3)
        lum = (rgb * self.luma).sum(1, keepdim=True)
        lw = w * lum * lum
        key = (rgb * lw).sum((0, 2, 3)) / lw.sum().clamp(min=1e-6)
        cols = torch.arange(sub.shape[3], dtype=torch.float32)[None, None, None, :] / sub.shape[3]
        bright = (cols * lw).sum() / lw.sum().clamp(min=1e-6)
        plain = (cols * w).sum() / w.sum().clamp(min=1e-6)
        inner = (rgb * mask).sum((0, 2, 3)) / mask.sum().clamp(min=1e-3)
        lean = (0.5 + 2.0 * (bright - plain)).clamp(0.0, 1.0)
        return torch.cat([key, ambient, lean[None], inner])


class Ground(nn.Module):
    """Per shot: whether the region's bottom line holds what lands on it, over the lattice's
    columns: `ground` [BIN_COLS], 0 where just below the line the plate is as smooth as sky
    and of the colour seen just above it beside the building (sky on both sides: beside a
    statue's pedestal, over a cliff's edge, the line is no ground), 1 elsewhere and under
    the building. Columns beyond the source window's sides take the nearest seen column's;
    with no pixels below the line at all (the region's bottom on the frame's), all is ground."""

    SUB = 4                   # points across each column, and rows in each band

    def __init__(self):
        super().__init__()
        n = self.SUB
        self.register_buffer("across", (torch.arange(BIN_COLS * n, dtype=torch.float32) + 0.5) / n)
        self.register_buffer("below", -0.01 - 0.012 * torch.arange(n, dtype=torch.float32))
        self.register_buffer("above", 0.015 + 0.015 * torch.arange(n, dtype=torch.float32))
        self.register_buffer("luma", torch.tensor(LUMA).reshape(3, 1, 1))

    def forward(self, plate, mask, scene):
        _, a = scene_geometry(scene)
        hs, ws = plate.shape[2], plate.shape[3]
        bx0, bx1 = -REACH[0] * a, (1 + REACH[2]) * a
        u = bx0 + self.across * ((bx1 - bx0) / BIN_COLS)                 # [96 SUB]
        n = self.SUB

        def band(v):
            """The plate and matte at rows v (region units) under the columns:
            [C, SUB, 96, SUB]."""
            x, y = _texel_pixels(scene, u[None, :], v[:, None])
            gx, gy = _unit(x, ws).expand(n, -1), _unit(y, hs).expand(-1, n * BIN_COLS)
            at = lambda img: _finite(_sample(img, gx, gy))
            split = lambda t: t.reshape(t.shape[0], n, BIN_COLS, n)
            return split(at(plate)), split(at(mask).clamp(0.0, 1.0))

        low, _ = band(self.below)
        high, held = band(self.above)
        # Below: the plate's colour and how smooth it is (its luminance's spread), where
        # the plate has pixels there.
        seen = (low[3] > 0.5).all(2).all(0)                              # [96]
        rgb = low[:3].clamp(0.0, 4.0)
        mean = rgb.mean((1, 3))                                          # [3, 96]
        lum = (rgb * self.luma[:, :, :, None]).sum(0)                     # [SUB, 96, SUB]
        spread = (lum - lum.mean((0, 2), keepdim=True)).abs().mean((0, 2))
        smooth = 1.0 - _smoothstep(0.02, 0.05, spread / lum.mean((0, 2)).clamp(min=1e-3))
        # Above, beside the building (not on its matte): the colour there.
        w = (1.0 - held[0]) * (high[3] > 0.5).float()
        beside = (high[:3].clamp(0.0, 4.0) * w[None]).sum((1, 3)) / w.sum((0, 2)).clamp(min=1e-3)
        open_ = _smoothstep(0.3, 0.6, w.mean((0, 2)))                     # (not under the building)
        diff = (mean - beside).abs().sum(0) / beside.sum(0).clamp(min=1e-3)
        same = 1.0 - _smoothstep(0.06, 0.12, diff)
        # (Widened by two columns: no strip of ground a few columns wide in the air. Then
        # beyond the seen columns, the nearest one's.)
        sky = F.max_pool1d((smooth * same * open_ * seen.float())[None, None], 5, stride=1,
                           padding=2)[0, 0]
        i = torch.arange(BIN_COLS)
        lo = torch.where(seen, i, BIN_COLS - 1).min()
        hi = torch.where(seen, i, 0).max()
        return 1.0 - sky[torch.maximum(torch.minimum(i, hi), lo)] * seen.any().float()


class DustLattice(nn.Module):
    """Per frame: the dust on its lattice, lit (density in, lit lattice out; the per-pixel
    half is the renderer's `dust`): `dust_colour` [3, 64, 96] (not premultiplied),
    `dust_depth` [1, 64, 96] (optical depth, none below DUST_FLOOR), and `coat_colour`
    [3], the colour of settled dust (the rubble's coat)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("puffs", torch.from_numpy(puff_texture()))
        g = torch.exp(-0.5 * ((torch.arange(BLUR, dtype=torch.float32) - BLUR // 2) / 4.0) ** 2)
        self.register_buffer("blur", g / g.sum())
        self.register_buffer("light_steps", torch.arange(1, 13, dtype=torch.float32))
        self.register_buffer("below_ground", (torch.arange(GRID_ROWS) > GROUND_ROW).float())
        self.register_buffer("luma", torch.tensor(LUMA).reshape(1, 3, 1, 1))

    def forward(self, scene, controls, density, light):
        progress, a = scene_geometry(scene)
        density = density * (progress > 0).float()                      # nothing before the start
        key, ambient, lean = light[0:3], light[3:6], light[6]
        return self.lit(density, controls, key, ambient, lean, a, _thinning(progress), progress)

    def lit(self, density, controls, key, ambient, lean, a, thin, progress):
        """density [1, 1, 64, 96] optical depth -> the dust's lit colour (not premultiplied)
        [3, 64, 96] and its optical depth [1, 64, 96] (none below DUST_FLOOR), for the
        per-pixel billows (`dust`); and [3]: the colour of settled dust, for the rubble's
        coat. `thin`: `_thinning(progress)`."""
        # Blurred (sigma 4 cells): the dust's shape is carved by the puffs in `dust`, not by
        # the lattice's own steps.
        tau = density.clamp(min=0.0)
        tau = F.conv2d(F.conv2d(tau, self.blur.reshape(1, 1, -1, 1), padding=(BLUR // 2, 0)),
                       self.blur.reshape(1, 1, 1, -1), padding=(0, BLUR // 2))
        # Below the ground line, the dust of the row above it: the renderer's rolling base
        # shapes its bottom there, not the lattice's last rows.
        below = self.below_ground
        tau = torch.where(below[:, None] > 0, tau[:, :, GROUND_ROW:GROUND_ROW + 1], tau)
        tau = self.billow(tau, a, progress)
        tau = torch.where(tau > DUST_FLOOR, tau, 0.0)
        # Optical depth toward the key light (up, leaning left or right), 12 taps a cell apart.
        n = self.light_steps
        H, W = GRID_ROWS, GRID_COLS
        yy = (torch.arange(H, dtype=torch.float32) + 0.5)[:, None, None]
        xx = (torch.arange(W, dtype=torch.float32) + 0.5)[None, :, None]
        gx = _unit(xx + (-0.6 + 1.2 * lean) * n, W).expand(H, W, 12)
        gy = _unit(yy - 0.8 * n, H).expand(H, W, 12)
        # (Through the dust as `dust` thins it after the fall: thinned dust is lit through,
        # not a dark column of smoke.)
        toward = _sample(tau * thin, gx, gy)[0].sum(-1)[None]           # [1, H, W]
        base = controls[5:8].reshape(3, 1, 1)
        tint = controls[8]
        luma = self.luma.reshape(3, 1, 1)
        amb = ambient.reshape(3, 1, 1)
        grey = (amb * luma).sum(0, keepdim=True).clamp(min=1e-3)
        # The plate's hue, at the base's brightness, mixed in by `dust_tint`.
        colour = base + 0.5 * tint * (amb / grey * (base * luma).sum(0, keepdim=True) - base)
        # As the reference's preview: sky light (the plate's hue, a little) everywhere and the
        # key light where the way to it is clear, scaled by how bright the plate is.
        sky = 1.0 + 0.35 * (amb / grey - 1.0)
        k = key.reshape(3, 1, 1)
        k = k / (k * luma).sum(0, keepdim=True).clamp(min=1e-3)
        level = (grey / 0.45).clamp(0.15, 1.4)
        light = level * (0.5 * sky + 0.7 * torch.exp(-0.15 * toward) * k)
        # (And the settled dust's colour in the key light, the base's own hue: what coats
        # the rubble.)
        return colour * light, tau[0], (base * level * (0.45 + 0.55 * k)).reshape(3)

    def billow(self, tau, a, progress):
        """The lattice's dust warped into big rounded lobes (read a little way off, by the
        puff texture at a large scale, riding up with the plume) and into a dome (toward the
        region's sides it is read from higher up, so the plume's top falls away there)."""
        H, W = GRID_ROWS, GRID_COLS
        bx0, by0, bx1, by1 = -REACH[0] * a, -REACH[1], (1 + REACH[2]) * a, 1 + REACH[3]
        x = bx0 + (torch.arange(W, dtype=torch.float32) + 0.5) * ((bx1 - bx0) / W)
        y = by1 - (torch.arange(H, dtype=torch.float32) + 0.5) * ((by1 - by0) / H)
        rise = 0.3 * progress
        reach = 0.1 + 0.1 * _smoothstep(0.0, 0.5, progress)
        dx = reach * (_lookup(self.puffs, x + 0.13, y - rise, 1.3, thin=False) - 0.5)
        dy = reach * (_lookup(self.puffs, x - 0.29, y - rise + 0.41, 1.3, thin=False) - 0.5)
        side = ((x - 0.5 * a) / (0.5 * a + 0.4)).abs()
        dy = dy + (0.35 * side * side)[None, :]
        gx = _unit((x[None, :] + dx - bx0) / (bx1 - bx0) * W, W)
        gy = _unit((by1 - (y[:, None] + dy)) / (by1 - by0) * H, H)
        return _sample(tau, gx, gy)[None]


class Renderer(nn.Module):
    """Per tile: the dust (its lit lattice in, RGBA out) over the fragments over the hole."""

    def __init__(self):
        super().__init__()
        self.register_buffer("puffs", torch.from_numpy(puff_texture()))
        stones, where = stones_texture()
        self.register_buffer("stones", torch.from_numpy(stones))
        self.register_buffer("stone_from", torch.from_numpy(where))
        self.register_buffer("ranks", CANDIDATES - torch.arange(CANDIDATES, dtype=torch.float32))

    def puffs_sum(self, octaves, du=0.0, dv=0.0):
        """The sum of the puff texture's `octaves` ((u [Wo], v [Ho], scale, weight) each:
        `_lookup`s, weighted), each read at (u + du * scale, v + dv * scale): [Ho, Wo]
        (the renderer's grid: never one pixel high or wide). (One matrix product per
        octave: over all three at once, ONNX Runtime sums in an order that depends on
        the tile.)"""
        n = self.puffs.shape[0]
        total = None
        for u, v, k, w in octaves:
            wy = w * _weights(-(v + dv * k) / k * n, n, period=n)
            wx = _weights((u + du * k) / k * n, n, period=n)
            read = torch.matmul(wy, torch.matmul(self.puffs, wx.t()))
            total = read if total is None else total + read
        return total

    def rubble(self, u, v, a, heap, coat_colour, facade):
        """The rubble heap at the pixels (u [Wo], v [Ho]): its height over the lattice's
        columns (B-spline weights), a lumpy top, stones of two sizes from the stones
        texture, each big one a broken piece of the facade (`facade(x, y)`: the building's
        colour at region coordinates, [3, ...]), coated with dust toward the top, darker
        toward the ground. Premultiplied RGBA [4, Ho, Wo]."""
        bx0, bx1 = -REACH[0] * a, (1 + REACH[2]) * a
        h = _matmul(_weights((u - bx0) / (bx1 - bx0) * BIN_COLS, BIN_COLS), heap[:, None]).t()
        size = torch.sqrt(a).clamp(max=1.0)            # (stones no bigger in a tall region)
        big = _lookup(self.stones, u, v, 0.45 * size)
        small = _lookup(self.stones, u + 0.41, v + 0.23, 0.17 * size)
        # Where on the facade each big stone was: its own place, and the texture around it
        # at the plate's own scale.
        fx = _lookup(self.stone_from[0], u, v, 0.45 * size)
        fy = _lookup(self.stone_from[1], u, v, 0.45 * size)
        albedo = facade(a * (0.1 + 0.8 * fx) + 0.5 * (u[None, :] - 0.5 * a),
                        0.15 + 0.7 * fy + 0.5 * v[:, None])
        swell = _lookup(self.puffs, u, v[:1] * 0.0 + 0.3, 0.9)           # the top's undulation [1, Wo]
        top = h * (0.75 + 0.5 * swell) + 0.05 * (big - 0.5) * _smoothstep(0.0, 0.05, h)
        alpha = _smoothstep(-0.004, 0.004, top - v[:, None]) * _smoothstep(0.004, 0.02, h)
        # (Its foot spills a little below the ground line, along the stones' outlines: no
        # straight cut where the region's bottom is not the ground, in trees, say; and
        # no see-through band either.)
        alpha = alpha * _smoothstep(-0.022, -0.014, v[:, None] + 0.03 * (big - 0.5))
        rel = (v[:, None] / h.clamp(min=1e-3)).clamp(0.0, 1.0)
        coat = (0.45 + 0.35 * rel + 0.6 * (small - 0.5)).clamp(0.0, 1.0)
        rgb = albedo + coat * (coat_colour.reshape(3, 1, 1) - albedo)
        rgb = rgb * (0.5 + 0.7 * big * (0.6 + 0.4 * small)) * (0.75 + 0.25 * rel)
        return torch.cat([rgb * alpha, alpha[None]], 0)

    def dust(self, colour, tau, u, v, a, controls, progress, lean, thin):
        """The dust (`DustLattice`'s lattices) at the output pixels (u [Wo], v [Ho]):
        premultiplied RGBA [4, Ho, Wo]. Worked out only in the rows and columns that its
        lattice's dust reaches (`billows`); none elsewhere."""
        bx0, by0, bx1, by1 = -REACH[0] * a, -REACH[1], (1 + REACH[2]) * a, 1 + REACH[3]
        # Where the cubic B-splines of the cells with dust reach (a cell's reaches two cells
        # from its centre), inside the affected area.
        px = (u - bx0) / (bx1 - bx0) * GRID_COLS
        py = (by1 - v) / (by1 - by0) * GRID_ROWS
        has = tau[0] > 0.0
        xin = _reached(px, has.any(0)) & (u >= bx0) & (u <= bx1)
        yin = _reached(py, has.any(1)) & (v >= by0) & (v <= by1)
        # (Widened by a pixel: the run is never one pixel wide, see `_matmul`. Its pixels
        # outside the reach come out exactly 0, as the padding.)
        xin, yin = _widened(xin), _widened(yin)
        ci, ri = _box(xin), _box(yin)
        d = self.billows(colour, tau, px[ci], py[ri], u[ci], v[ri], a, controls, progress, lean, thin)
        return _pad_box(_pad_box(d, yin, 1), xin, 2)

    def billows(self, colour, tau, px, py, u, v, a, controls, progress, lean, thin):
        """The dust's lattices at pixels (px, py in lattice cells; u, v the same in
        region units; never one pixel high or wide) by separable cubic B-spline weights:
        two matrix products; then billows per pixel: the dust's edge is where its optical
        depth, on a log scale, plus a cauliflower texture of rounded puffs crosses a
        threshold, so the plume ends in crisp rounded lobes rather than a haze, and each
        puff is lit on its side toward the key light. Premultiplied RGBA [4, Ho, Wo]."""
        bx0, by0, bx1, by1 = -REACH[0] * a, -REACH[1], (1 + REACH[2]) * a, 1 + REACH[3]
        # (Zero outside the affected area: the weights there are.)
        in_x = ((u >= bx0) & (u <= bx1)).float()[:, None]
        in_y = ((v >= by0) & (v <= by1)).float()[:, None]
        wx = (_weights(px, GRID_COLS) * in_x).t()                           # [96, Wo]
        wy = _weights(py, GRID_ROWS) * in_y                                 # [Ho, 64]
        colour = torch.matmul(wy, torch.matmul(colour, wx))                 # [3, Ho, Wo]
        tau = torch.matmul(wy, torch.matmul(tau[0], wx)).clamp(min=0.0)     # [Ho, Wo]
        # The puffs ride outward from the region's centre and up as the plume grows.
        pd = (progress - 0.03).clamp(min=0.0)
        grow = 1.0 + pd * (0.4 + 0.3 * controls[4].clamp(0.0, 2.0))
        pu = (u - 0.5 * a) / grow
        pv = v / (1.0 + 0.35 * pd) - 0.3 * pd
        # Three octaves, and each again a little way toward the key light (a fraction of its
        # puffs' size, so that the difference is the puffs' slope: lit side up, shade under).
        octaves = ((pu, pv, 1.8, 1.0), (pu + 0.37, pv - 0.21 - 0.3 * pd, 0.66, 0.6),
                   (pu - 0.23, pv + 0.11 - 0.45 * pd, 0.24, 0.3))
        p = self.puffs_sum(octaves) - 0.86
        lit = self.puffs_sum(octaves, du=0.011 * (2.0 * lean - 1.0), dv=0.011 * 2.0) - 0.86
        # Fade toward the affected area's sides and top, and below the ground line, the
        # fades' ends pushed in and out by the puffs: lobes there too, never a straight cut.
        side = (torch.minimum(u - bx0, bx1 - u) / (0.5 * a))[None, :] + 0.35 * p
        top = ((by1 - v) / 0.45)[:, None] + 0.35 * p
        # Its base: lobes rolling along the ground, round below, notched between (a slice of
        # the puff texture along the ground, upside down), from the affected area's bottom
        # to a little above the ground line, lumpy with the puffs: not a straight cut where
        # the region's bottom is not the ground.
        roll = (0.65 * _lookup(self.puffs, pu, v[:1] * 0.0 + 0.37, 0.9)
                + 0.35 * _lookup(self.puffs, pu + 0.31, v[:1] * 0.0 + 0.11, 0.3))   # [1, Wo]
        lobe = (v - by0 - 0.004)[:, None] - 0.09 * _square(1.0 - roll) + 0.03 * p
        # (As the dust thins after the fall it settles onto the ground line and its base
        # softens: no faint round lobes left lying below the line.)
        gone = 1.0 - thin
        base = _smoothstep(0.0, 0.012 + 0.05 * gone, lobe - 0.06 * gone)
        fade = _square(side.clamp(0.0, 1.0)) * _square(top.clamp(0.0, 1.0)) * base
        # After the fall the plume thins and settles.
        tau = tau * fade * thin
        # Lobes: a smooth step of log depth + puffs; it softens as the dust ages. (No puffs
        # where the dust is all but gone: no lone blobs above the plume.)
        soft = 0.07 + 0.25 * (progress - 0.9).clamp(0.0, 1.0)
        # (And where the dust is thin, at the plume's margins, soft wisps: the puffs the
        # texture cuts off there read as lone cotton balls when crisp.)
        soft = soft + 0.25 * (1.0 - _smoothstep(0.1, 0.3, tau))
        # (And as it thins the puffs flatten: what is left is a haze, not lone puffs.)
        puffs = (0.35 + 1.05 * thin) * p * _smoothstep(0.01, 0.05, tau)
        edge = 0.8 * _log_ratio(tau + 1e-4, 0.12) + puffs
        # (Deep dust is solid whatever the puffs: no sky seen through the body of the plume.)
        rho = torch.maximum(_smoothstep(-soft, soft, edge), _smoothstep(0.15, 0.5, tau))
        alpha = torch.maximum(rho * _one_minus_exp(10.0 * tau), 0.15 * _one_minus_exp(4.0 * tau))
        # Each puff lit on its side toward the key light, shaded where a puff stands between.
        # (Less deep inside the dust, where the puffs' own shadows merge.)
        depth = _smoothstep(0.5, 3.0, edge)
        shade = ((1.0 - (1.0 - 0.5 * depth) * (lit - p)).clamp(0.84, 1.12)
                 * (0.9 + 0.1 * _smoothstep(-0.4, 0.2, p)))        # (and the hollows between puffs)
        # (The lobes' undersides in their own shade.)
        rgb = colour * (shade * (0.8 + 0.2 * _smoothstep(0.0, 0.06, lobe)))[None]
        # A soft knee on the highlights: lit tops stay dust, not white cloud.
        rgb = rgb - 0.6 * (rgb - 0.8).clamp(min=0.0)
        return torch.cat([rgb * alpha[None], alpha[None]], 0)

    def forward(self, plate, background, mask, out_x, out_y, scene, controls, light, dust_colour,
                dust_depth, coat_colour, motion, fragments_rest, fragment_labels, fragment_read,
                candidates, settled, heap, kept):
        progress, a = scene_geometry(scene)
        # The grid one pixel wider and higher (the last repeated, cut at the end): a tile one
        # pixel high or wide must give its bits inside a larger tile, and ONNX Runtime sums a
        # matrix product with one row or column in another order (see `_matmul`).
        out_x, out_y = torch.cat([out_x, out_x[-1:]]), torch.cat([out_y, out_y[-1:]])
        fragments = motion
        sx, sy, src_l, src_t = scene[4], scene[5], scene[6], scene[7]
        rl, rb, rh = scene[8], scene[9], scene[11]
        hs, ws = plate.shape[2], plate.shape[3]
        lean, inner = light[6], light[7:10]
        # (What is read of the images is made finite: NaN, inf -> 0.)

        u = (out_x - rl) / rh                         # [Wo], isotropic
        v = (out_y - rb) / rh                         # [Ho], ground 0, rows top first
        bx0, by0, bx1, by1 = -REACH[0] * a, -REACH[1], (1 + REACH[2]) * a, 1 + REACH[3]
        thin = _thinning(progress)
        # The dust at half resolution (its finest puffs are tens of pixels across), linear
        # between: a quarter of its per-pixel work.
        hx, col = _half_grid(out_x, sx, False)
        hy, row = _half_grid(out_y, sy, True)
        half = self.dust(dust_colour, dust_depth, (hx - rl) / rh, (hy - rb) / rh, a, controls,
                         progress, lean, thin)
        d = _upsampled(half, out_y.shape[0], out_x.shape[0], row, col)

        # Fragments and hole inside the box of the region and the moving fragments.
        alive = fragments_rest[:, 3] > 0.5
        cx = (fragments_rest[:, 0] + fragments[:, 0]) * a
        cy = fragments_rest[:, 1] + fragments[:, 1]
        big = cx * 0.0 + 1e6
        pad = 0.25
        edge = 4.0 / rh                               # (and the hole's 3 pixels beyond it)
        zero = a * 0.0 - edge
        fx0 = torch.minimum(torch.where(alive, cx, big).min() - pad, zero)
        fx1 = torch.maximum(torch.where(alive, cx, -big).max() + pad, a + edge)
        fy0 = torch.minimum(torch.where(alive, cy, big).min() - pad, zero)
        fy1 = torch.maximum(torch.where(alive, cy, -big).max() + pad, 1.0 + edge)
        # (And the rubble heap's columns, with the two more its B-splines reach.)
        step = (bx1 - bx0) / BIN_COLS
        cols = bx0 + (torch.arange(BIN_COLS, dtype=torch.float32) + 0.5) * step
        fx0 = torch.minimum(fx0, torch.where(heap > 0.004, cols, big[0]).min() - 2.0 * step)
        fx1 = torch.maximum(fx1, torch.where(heap > 0.004, cols, -big[0]).max() + 2.0 * step)
        cin = (u >= fx0) & (u <= fx1) & (u >= bx0) & (u <= bx1)
        rin = (v >= fy0) & (v <= fy1) & (v >= by0) & (v <= by1)
        ci, ri = _box(cin), _box(rin)
        bu, bv, bX, bY = u[ci], v[ri], out_x[ci], out_y[ri]
        hb, wb = bv.shape[0], bu.shape[0]
        # The hole: the clean plate where the building stood (the grids are pixel-aligned).
        col, col_ok = _pixels(bX, src_l, sx, ws, False)
        row, row_ok = _pixels(bY, src_t, sy, hs, True)
        inside = row_ok[:, None] * col_ok[None, :]
        # (With the matte grown by 3 pixels: the clean plate's hole, see below.)
        m_p = _finite(mask[:, :, row][:, :, :, col].squeeze(0)).clamp(0.0, 1.0) * inside   # [1, hb, wb]
        m_g = _grown(mask, row, col).clamp(0.0, 1.0) * inside
        # Until the piece that stood there has moved away, a gap shows the building's dark
        # interior rather than what is behind it (cracks read as cracks).
        rc = (bu / a * LABELS).floor().clamp(-1.0, float(LABELS)) + 1.0
        rr = ((1.0 - bv) * LABELS).floor().clamp(-1.0, float(LABELS)) + 1.0
        owner = fragment_labels.reshape(-1)[(rr[:, None] * (LABELS + 2) + rc[None, :]).long()]
        moved = torch.sqrt((fragments[:, 0] * a) ** 2 + fragments[:, 1] ** 2)   # [256]
        away = moved[owner.clamp(min=0).long()]                          # [hb, wb]
        # (Not along the outline: where no building stands a little way above or to either
        # side, above a dome, beside a tower or a spire, the gap is against the sky. Looked
        # up on the matte's 8x8 means, the cells counted from the window's corner: cheap, the
        # same for every tile.)
        outline = _outline(mask, row, col, 0.05 * rh * sy, 0.05 * rh * sx)
        # (Matte no fragment holds, a spire too thin for its cells: gone under the dust.)
        away = torch.where(owner < 0, 0.03 + 0.15 * _smoothstep(0.05, 0.3, progress), away)
        # (And once the building is down, no gap is left to show its interior.)
        reveal = torch.maximum(((away - 0.03) / 0.15).clamp(0.0, 1.0)[None], outline)
        reveal = torch.maximum(reveal, _smoothstep(0.7, 1.1, progress))
        interior = torch.cat([0.22 * inner, torch.ones_like(inner[:1])]).reshape(4, 1, 1)
        behind = _finite(background[:, :, row][:, :, :, col].squeeze(0))
        box = (interior + reveal * (behind - interior)) * m_p             # [4, hb, wb]
        # Around the matte, over the 3 pixels the clean plate's hole has beyond it, a
        # photograph keeps the building's anti-aliased edge and its sharpening halo: as the
        # building starts to come down the clean plate comes in there too, or a ghost of
        # its outline would stay where it stood.
        box = box + (m_g - m_p).clamp(min=0.0) * _smoothstep(0.1, 0.35, progress) * behind
        # Fragments: the pixels whose lattice cell has any candidate.
        bc = torch.floor((bu - bx0) / (bx1 - bx0) * BIN_COLS).clamp(0, BIN_COLS - 1)
        br = torch.floor((by1 - bv) / (by1 - by0) * BIN_ROWS).clamp(0, BIN_ROWS - 1)
        cell = (br[:, None] * BIN_COLS + bc[None, :]).reshape(-1).long()
        # (At least one; a pixel without candidates gets no fragment anyway. None where the
        # dust in front is opaque: what lies behind it cannot show.)
        live = (candidates[0, :, 0] >= 0)[cell] & (d[3][ri][:, ci] <= 0.999).reshape(-1)
        busy = torch.nonzero(_at_least_one(live))[:, 0]
        # (X and Y once per candidate, [P, K], read from tables that small: same-shape
        # products below are the fast ones, and spreading [P, 1] over K is not.)
        K = CANDIDATES
        X = bX[:, None].expand(-1, K)[busy % wb]
        Y = bY[:, None].expand(-1, K)[torch.div(busy, wb, rounding_mode="floor")]
        cb = cell[busy]
        c = [candidates[k][cb] for k in range(7)]                        # 7 x [P, K]
        cand = c[0]
        slot = cand.clamp(min=0).long()
        # Each candidate's inverse motion: label texel coordinates, affine in canonical X, Y.
        lc = c[1] * X + c[2] * Y + c[3]
        lr = c[4] * X + c[5] * Y + c[6]
        edge = float(LABELS)
        li = ((torch.floor(lr).clamp(-1.0, edge) + 1.0) * (LABELS + 2)
              + torch.floor(lc).clamp(-1.0, edge) + 1.0).long()
        hit = (fragment_labels.reshape(-1)[li] == cand) & (cand >= 0)   # its own texel, on the matte
        win = (hit.float() * self.ranks).argmax(1, keepdim=True)
        got = hit.any(1).float()
        winner = torch.gather(slot, 1, win)[:, 0]
        # Per piece, read for each pixel by its winner (one gather): a tumbling piece turns
        # its face away from the light a little; a landed one is coated with dust. (A piece
        # the debris control does not keep goes as it lands, into the dust. After the fall
        # every released piece counts as landed, also one that came to rest high on the heap.)
        # And whether it has moved.
        landed = _landed(settled, progress, fragments[:, 3])
        shade, coat, keep, going = torch.stack([
            0.82 + 0.18 * torch.cos(fragments[:, 2]), 0.55 * settled, 1.0 - landed * (1.0 - kept),
            _smoothstep(0.005, 0.03, moved)])[:, winner].unbind(0)
        # The winner's point in S's pixels (affine in its label coordinates). Once the piece
        # moves, its outline's colour is read a little inward, the building's own, not its
        # blend with the sky.
        cw, rw = torch.gather(lc, 1, win)[:, 0], torch.gather(lr, 1, win)[:, 0]
        read = fragment_read.reshape(3, -1)[:, torch.gather(li, 1, win)[:, 0]]
        inward = read[:2] * going
        wc = (rl - src_l) * sx + cw * (a * rh * sx / LABELS)
        wr = (src_t - rb - rh) * sy + rw * (rh * sy / LABELS)
        # (The plate and the matte apart: put together they would be a copy of the window.)
        seen = _finite(_sample(plate, _unit(wc + inward[0], ws), _unit(wr + inward[1], hs)))
        colour = seen * _finite(_sample(mask, _unit(wc, ws), _unit(wr, hs))).clamp(0.0, 1.0)
        keep = keep * (1.0 - going * (1.0 - read[2]))       # (what stood behind stays)
        rgb = colour[:3] * shade * (1.0 - coat) + coat * coat_colour[:, None] * colour[3:4]
        frag = torch.cat([rgb, colour[3:4]], 0) * (got * keep * live[busy].float())
        flat = box.reshape(4, -1)                                        # [4, hb * wb]
        over = frag + (1.0 - frag[3:4]) * flat[:, busy]
        box = flat.scatter(1, busy[None, :].expand(4, -1), over).reshape(4, hb, wb)
        # The rubble heap over them (landed pieces sink into it), in the rows it reaches.
        low = bv <= heap.max() + 0.05
        def facade(x, y):
            """The building's colour at region coordinates (x, y) (arrays of one shape):
            the plate where the matte is, its mean colour where it is not."""
            gx = _unit((rl - src_l) * sx + x * (rh * sx), ws)
            gy = _unit((src_t - rb - rh) * sy + (1.0 - y) * (rh * sy), hs)
            c = _finite(_sample(plate, gx, gy))
            m = _finite(_sample(mask, gx, gy)).clamp(0.0, 1.0)
            # (Premultiplied: the colour is c / alpha; where the matte is partial, the mean.)
            return m * c[:3] / c[3:4].clamp(min=1e-3) + (1.0 - m) * inner.reshape(3, 1, 1)

        rub = _pad_box(self.rubble(bu, bv[_box(low)], a, heap, coat_colour, facade), low, 1)
        box = rub + (1.0 - rub[3:4]) * box
        # Under the dust, on the whole tile: zero outside the box and before the start.
        box = box * ((progress > 0) & rin.any() & cin.any()).float()
        full = _pad_box(_pad_box(box, rin, 1), cin, 2)
        return (d + (1.0 - d[3:4]) * full)[None, :, :-1, :-1]


# -- the package ---------------------------------------------------------------------

def example_inputs():
    """A 1.2-aspect region in a small S, for tracing and the export check."""
    ws, hs = 120, 90
    g = torch.Generator().manual_seed(3)
    plate = torch.rand(1, 4, hs, ws, generator=g)
    plate[:, 3] = 1.0
    mask = torch.zeros(1, 1, hs, ws)
    mask[:, :, 20:80, 24:96] = 1.0
    scene = torch.zeros(16)
    scene[0], scene[2], scene[3] = 0.45, 48.0, 1.0
    scene[4] = scene[5] = 1.0
    scene[6], scene[7] = 0.0, 90.0
    scene[8:12] = torch.tensor([24.0, 10.0, 72.0, 60.0])
    scene[12] = scene[13] = scene[14] = scene[15] = 1.0
    controls = torch.tensor([c[3] for c in CONTROLS])
    noise = torch.randn(N_NOISE, generator=g)
    out_x = torch.arange(ws, dtype=torch.float32) + 0.5
    out_y = 90.0 - (torch.arange(hs, dtype=torch.float32) + 0.5)
    return dict(plate=plate, background=plate.flip(3), mask=mask, out_x=out_x, out_y=out_y,
                scene=scene, controls=controls, noise=noise)


STAGES = (
    ("fracture", "shot", Fracture, ("mask", "scene", "controls", "noise"),
     ("fragments_rest", "fragment_labels", "fragment_extent", "fragment_inward")),
    ("reading", "shot", Reading, ("plate", "background", "scene", "fragment_inward"),
     ("fragment_read",)),
    ("light", "shot", Light, ("plate", "mask"), ("light",)),
    ("ground", "shot", Ground, ("plate", "mask", "scene"), ("ground",)),
    ("generator", "frame", None, ("scene", "controls", "noise", "fragments_rest"),
     ("density", "fragments")),
    ("lattice", "frame", Lattice, ("scene", "controls", "noise", "fragments_rest", "fragment_extent",
                                   "fragments", "ground"), ("motion", "candidates", "settled", "heap", "kept")),
    ("dust", "frame", DustLattice, ("scene", "controls", "density", "light"),
     ("dust_colour", "dust_depth", "coat_colour")),
    ("render", "tile", Renderer, ("plate", "background", "mask", "out_x", "out_y", "scene", "controls",
                                  "light", "dust_colour", "dust_depth", "coat_colour", "motion",
                                  "fragments_rest", "fragment_labels", "fragment_read", "candidates",
                                  "settled", "heap", "kept"), ("element",)),
)
DYNAMIC = {"plate": {2: "hs", 3: "ws"}, "background": {2: "hs", 3: "ws"}, "mask": {2: "hs", 3: "ws"},
           "out_x": {0: "wo"}, "out_y": {0: "ho"}, "element": {2: "ho", 3: "wo"}}


def _toml_shape(t, name):
    shape = list(t.shape)
    for axis in DYNAMIC.get(name, {}):
        shape[axis] = -1
    return shape


NETWORK_FILES = ("generator.onnx", "generator.fp16.onnx")   # the network stage's files


def build(out, model=None, network_from=None, check=True):
    """Exports every stage into `out` (a fresh folder) and writes package.toml. The network
    stage is exported from `model` (the trained network) or kept from the package folder
    `network_from` (read before `out` is cleared: it may be that package)."""
    values = example_inputs()
    shot = dict(values, scene=values["scene"].clone())
    shot["scene"][0] = shot["scene"][1] = 0.0         # per-shot stages see no time
    kept = {}
    for f in NETWORK_FILES if network_from else ():
        with open(os.path.join(network_from, f), "rb") as fh:
            kept[f] = fh.read()
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    declared = {}
    files = []
    for name, runs, cls, inputs, outputs in STAGES:
        feeds = shot if runs == "shot" else values
        if cls is None and kept:
            result = keep_network(kept, out, feeds, inputs, outputs)
            print(f"  {name}: kept from {network_from}", flush=True)
        else:
            module = (cls() if cls else Generator(model)).eval()
            result = export_stage(module, name, runs, out, feeds, inputs, outputs, check)
        for o, r in zip(outputs, result):
            declared[o] = _toml_shape(r, o)
            values[o] = shot[o] = r
        files.append((name, runs, inputs, outputs))
    write_toml(os.path.join(out, "package.toml"), files, declared)
    return out


def keep_network(kept, out, feeds, inputs, outputs):
    """Writes the kept network's files into `out`; its outputs on `feeds`, from ONNX Runtime.
    The network reads only the first five controls (one Slice), so its `controls` input is
    declared as long as the package's list, which may have grown since it was exported."""
    import onnx
    import onnxruntime as ort

    for f, data in kept.items():
        m = onnx.load_from_string(data)
        for i in m.graph.input:
            if i.name == "controls":
                i.type.tensor_type.shape.dim[0].dim_value = len(CONTROLS)
        onnx.save(m, os.path.join(out, f))
    sess = ort.InferenceSession(os.path.join(out, NETWORK_FILES[0]), providers=["CPUExecutionProvider"])
    got = sess.run(list(outputs), {n: feeds[n].numpy() for n in inputs})
    return tuple(torch.from_numpy(g) for g in got)


def export_stage(module, name, runs, out, feeds, inputs, outputs, check):
    """Exports one stage to `out`/`name`.onnx (and the network's fp16 variant), checks it
    against torch in ONNX Runtime, and returns its outputs on `feeds`."""
    import onnx
    import onnxruntime as ort

    args = tuple(feeds[n] for n in inputs)
    path = os.path.join(out, f"{name}.onnx")
    with torch.no_grad():
        result = module(*args)
    result = result if isinstance(result, tuple) else (result,)
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=list(inputs), output_names=list(outputs),
                          opset_version=18, dynamo=False, do_constant_folding=(name == "generator"),
                          dynamic_axes={k: v for k, v in DYNAMIC.items() if k in inputs + outputs})
    m = onnx.load(path)
    del m.metadata_props[:]
    for k, v in (("collapse.stage", runs), ("collapse.producer", "model/learned/package.py")):
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)
    path16 = os.path.join(out, f"{name}.fp16.onnx")
    if name == "generator":
        from onnxconverter_common import float16
        onnx.save(float16.convert_float_to_float16(m, keep_io_types=True), path16)
    variants = [(path, 1e-3)] + ([(path16, 2e-2)] if name == "generator" else [])
    for file, tolerance in variants if check else ():
        sess = ort.InferenceSession(file, providers=["CPUExecutionProvider"])
        got = sess.run(list(outputs), {n: feeds[n].numpy() for n in inputs})
        for o, g, r in zip(outputs, got, result):
            diff = float(np.abs(g - r.numpy()).max())
            peak = max(1.0, float(r.abs().max()))
            print(f"  {os.path.basename(file)}: {o} {list(r.shape)}, ORT vs torch max abs diff {diff:.2e}",
                  flush=True)
            if diff > tolerance * peak:
                sys.exit(f"{file}: output {o} disagrees with torch ({diff:.2e})")
        if runs == "tile":
            check_tiles(sess, feeds, inputs, got[0])
    return result


def check_tiles(sess, feeds, inputs, whole):
    """Tile invariance: the output grid in two strips, one inner tile and a sliver beside
    the region (inside the fragments' box, no candidate there) equals it whole."""
    run = lambda **grid: sess.run(["element"], {n: grid.get(n, feeds[n]).numpy() for n in inputs})[0]
    ys, xs = feeds["out_y"], feeds["out_x"]
    h, w = ys.shape[0] // 2, xs.shape[0]
    strips = np.concatenate([run(out_y=ys[:h]), run(out_y=ys[h:])], 2)
    tile = run(out_x=xs[w // 4:w // 2], out_y=ys[h // 2:h])
    sliver = run(out_x=xs[12:19], out_y=ys[40:45])
    diff = max(float(np.abs(strips - whole).max()),
               float(np.abs(tile - whole[:, :, h // 2:h, w // 4:w // 2]).max()),
               float(np.abs(sliver - whole[:, :, 40:45, 12:19]).max()))
    print(f"  render: tiles vs whole max abs diff {diff:.2e}", flush=True)
    if diff > 1e-6:
        sys.exit(f"stage render is not tile invariant ({diff:.2e})")


def write_toml(path, stages, declared):
    q = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = [
        "# A contract-2 model package (docs/MODEL_CONTRACT.md); written by model/learned/package.py.",
        "contract = 2",
        f"name = {q('Learned collapse')}",
        f"description = {q('A generator trained on the classic-VFX reference simulation (model/learned): dust and fragment motion per frame, rendered per tile.')}",
        f"reach = [{', '.join(str(x) for x in REACH)}]",
        f"context = [{', '.join(str(x) for x in CONTEXT)}]",
        f"noise = {N_NOISE}",
        "",
    ]
    for name, lo, hi, default in CONTROLS:
        lines += ["[[controls]]", f"name = {q(name)}", f"min = {lo}", f"max = {hi}",
                  f"default = {default}", ""]
    for name, runs, inputs, outputs in stages:
        lines += ["[[stages]]", f"name = {q(name)}", f"runs = {q(runs)}", f"file = {q(name + '.onnx')}",
                  f"inputs = [{', '.join(q(i) for i in inputs)}]",
                  f"outputs = [{', '.join(q(o) for o in outputs)}]", ""]
    lines.append("[tensors]")
    for name, shape in declared.items():
        lines.append(f"{name} = {{ shape = [{', '.join(str(s) for s in shape)}], dtype = \"float32\" }}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m model.learned.package", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="target/learned", help="folder with checkpoint.pt")
    ap.add_argument("--network-from", metavar="PACKAGE",
                    help="keep the trained network of this package (it may be --out) instead of "
                         "exporting one from --model: re-exports the other stages, no training needed")
    ap.add_argument("--out", default="target/learned/learned.collapse")
    a = ap.parse_args(argv)
    from .evaluate import load_model
    from .train import setup_torch
    setup_torch(0)
    for f in NETWORK_FILES if a.network_from else ():
        if not os.path.isfile(os.path.join(a.network_from, f)):
            sys.exit(f"--network-from {a.network_from}: no {f} there (not a learned package)")
    if a.network_from:
        build(a.out, network_from=a.network_from)
    else:
        build(a.out, model=load_model(a.model)[0])
    total = sum(os.path.getsize(os.path.join(a.out, f)) for f in os.listdir(a.out))
    print(f"package {a.out}: {total / 1e6:.1f} MB", flush=True)


if __name__ == "__main__":
    main()
