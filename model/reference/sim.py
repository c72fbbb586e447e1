"""One reference simulation: fracture -> rigid bodies -> dust, exported per frame.

The rigid bodies drive the smoke one way (no feedback): per frame the rigid world
is stepped first, then the smoke over the same time with
  * emission where cells break free (the failing floor's band, the crush front),
    where fragments hit the ground (by impact speed, spread along the ground, with
    an outward ground-hugging gust scaled by dust_spread) and where they hit each
    other, and a trail shed by fast fragments; all scaled by dust_amount;
  * the fragments' velocity blended into the grid where they cover it (so the
    intact building is an obstacle, and the falling mass drags the air down and
    out along the ground).
"""

import math
import time

import numpy as np

from . import CONTROL_NAMES, REACH_L, REACH_T, affected_box
from .fracture import fracture
from .rigid import EV_GROUND, RigidSim
from .smoke import Smoke
from .state import Exporter, fragment_table

RIGID_DT_MAX = 1.0 / 282        # 6 substeps per frame at 48 frames over progress 0..1
SMOKE_DT_MAX = 1.0 / 47         # 1 smoke step per frame at 48 frames
SMOKE_CFL = 5.0                 # cells a sample may move in one smoke step

# smoke
BUOYANCY = 6.0      # upward acceleration per unit temperature (x (1.3 - 0.35 dust_spread))
WEIGHT = 0.25       # downward acceleration per unit density
VORTICITY = 0.35    # vorticity confinement epsilon
SPONGE_FRACTION = 0.3   # of the side and top reach where dust is absorbed
WINDOW_FRACTION = 0.3   # of the side and top reach where the export fades to 0

# dust sources (density = optical depth; amounts are integrals over area)
E_RELEASE = 2.2     # per unit area of a cell breaking free
E_GROUND = 0.25     # per (mass x impact speed) of a ground impact
E_CRUSH = 0.35      # per (mass x speed) of a fragment-fragment impact
E_TRAIL = 0.45      # per (area x speed x time) shed by a moving fragment
T_RELEASE, T_GROUND, T_CRUSH, T_TRAIL = 3.0, 0.5, 0.8, 0.2   # the same for temperature
RELEASE_SPREAD = 1.0   # release puff radius per cell size
MIN_IMPACT = 0.5    # impacts slower than this (resting contacts) emit nothing
POROUS = 0.3        # velocity blend weight of resting rubble (falling fragments: 1)
COOLING = 1.5       # temperature decay rate
DISSIPATION = 1.2   # density decay rate (the dust settles out and thins)
GUST = 0.5          # outward ground gust speed per impact speed, at dust_spread 1
SWIRL = 0.25        # peak speed of the vortex seeded at an impact, per impact speed


def grid_for(aspect, res):
    """Smoke grid (x0, nx, ny, h): square cells, res per region height, covering
    the affected area above the ground."""
    bx0, _, bx1, by1 = affected_box(aspect)
    ny = int(round(by1 * res))
    h = by1 / ny
    nx = int(math.ceil((bx1 - bx0) / h - 1e-6))
    x0 = 0.5 * (bx0 + bx1) - 0.5 * nx * h
    return x0, nx, ny, h


def _samples(frac, spacing):
    """Lattice points inside each rest cell (local to its centroid), with weights
    (area each stands for), for splatting the fragments onto the smoke grid."""
    idx, loc, wts = [], [], []
    for i, (p, c, area) in enumerate(zip(frac.polys, frac.centroids, frac.areas)):
        lo, hi = p.min(0), p.max(0)
        xs = np.arange(lo[0] + 0.5 * spacing, hi[0], spacing)
        ys = np.arange(lo[1] + 0.5 * spacing, hi[1], spacing)
        X, Y = np.meshgrid(xs, ys)
        q = np.column_stack([X.ravel(), Y.ravel()])
        e = np.roll(p, -1, 0) - p
        inside = np.all(e[None, :, 0] * (q[:, None, 1] - p[None, :, 1])
                        - e[None, :, 1] * (q[:, None, 0] - p[None, :, 0]) >= 0, axis=1)
        q = q[inside]
        if len(q) == 0:
            q = c[None]
        idx.append(np.full(len(q), i))
        loc.append(q - c)
        wts.append(np.full(len(q), area / len(q)))
    return np.concatenate(idx), np.concatenate(loc), np.concatenate(wts)


class Simulation:
    def __init__(self, seed, aspect, controls, frames=48, p_end=1.0, res=64,
                 maccormack="all"):
        self.seed, self.aspect = int(seed), float(aspect)
        self.controls = {k: float(controls[k]) for k in CONTROL_NAMES}
        self.frames, self.p_end = int(frames), float(p_end)
        self.dt_frame = self.p_end / (self.frames - 1)
        self.frac = fracture(self.seed, self.aspect, self.controls["fragment_size"])
        x0, nx, ny, h = grid_for(self.aspect, res)
        spread = self.controls["dust_spread"]
        side = REACH_L * self.aspect
        self.smoke = Smoke(x0, nx, ny, h, buoyancy=BUOYANCY * (1.3 - 0.35 * spread),
                           weight=WEIGHT, vorticity=VORTICITY, cooling=COOLING,
                           dissipation=DISSIPATION,
                           sponge=(SPONGE_FRACTION * side, SPONGE_FRACTION * REACH_T),
                           maccormack=maccormack)
        bx0, _, bx1, _ = affected_box(self.aspect)
        n_rigid = max(1, math.ceil(self.dt_frame / RIGID_DT_MAX - 1e-9))
        self.rigid_substeps = n_rigid
        self.rigid = RigidSim(self.frac, self.controls, self.seed, self.dt_frame / n_rigid, (bx0, bx1))
        self.exporter = Exporter(self.aspect, x0, nx, ny, h,
                                 window=(WINDOW_FRACTION * side, WINDOW_FRACTION * REACH_T))
        self.s_idx, self.s_loc, self.s_w = _samples(self.frac, h)
        self.rng = np.random.default_rng([self.seed, 0xD057])
        self.t_rigid = self.t_smoke = self.t_export = 0.0
        self.smoke_steps = 0
        self.frame = 0

    @property
    def grid(self):
        return self.smoke.ny, self.smoke.nx

    # sources ------------------------------------------------------------------
    def _emit(self, events, releases, frac_of_frame):
        s, c = self.smoke, self.controls
        amt, spread = c["dust_amount"], c["dust_spread"]
        w = frac_of_frame
        h = s.h
        for x, y, area, vx, vy in releases:
            r = max(math.sqrt(area) * RELEASE_SPREAD, 2.0 * h)
            s.add_blob("d", x, y, r, r, w * amt * E_RELEASE * area)
            s.add_blob("T", x, y, r, r, w * T_RELEASE * area)
        for x, y, vn, m, kind in events:
            if vn < MIN_IMPACT:
                continue
            vn = min(vn, 6.0)
            if kind == EV_GROUND:
                sx = (0.03 + 0.04 * spread) + 4.0 * m
                sy = 0.035
                yc = max(y, 0.0) + 0.03
                s.add_blob("d", x, yc, sx, sy, w * amt * E_GROUND * m * vn)
                s.add_blob("T", x, yc, sx, sy, w * T_GROUND * m * vn)
                if spread > 0:
                    s.add_gust(x, yc, sx, 0.04 + 0.03 * spread,
                               w * GUST * spread * vn * min(1.0, math.sqrt(m / 0.005)))
            else:
                r = max(2.0 * h, 0.03)
                yc = y
                s.add_blob("d", x, y, r, r, w * amt * E_CRUSH * m * vn)
                s.add_blob("T", x, y, r, r, w * T_CRUSH * m * vn)
            # turbulence seeded at the impact: a vortex of random sense and size
            if vn > 1.0:
                sig = (0.03 + 0.05 * self.rng.random()) * (0.7 + 0.3 * spread)
                sgn = 1.0 if self.rng.random() < 0.5 else -1.0
                s.add_vortex(x, yc + sig, sig, w * sgn * SWIRL * min(vn, 4.0) * min(1.0, math.sqrt(m / 0.005)))

    def _fragments_to_grid(self, pos, ang, vel, omega, dt):
        s = self.smoke
        i = self.s_idx
        th = ang[i]
        ct, st = np.cos(th), np.sin(th)
        lx, ly = self.s_loc[:, 0], self.s_loc[:, 1]
        rx = ct * lx - st * ly
        ry = st * lx + ct * ly
        px = pos[i, 0] + rx
        py = pos[i, 1] + ry
        vx = vel[i, 0] - omega[i] * ry
        vy = vel[i, 1] + omega[i] * rx
        rel = self.rigid.released[i]
        speed = np.hypot(vx, vy)
        # the intact building is solid; rubble is porous (slow fragments let the air through)
        solid = np.where(rel, POROUS + (1 - POROUS) * np.clip(speed / 2.0, 0, 1), 1.0)
        s.blend_velocity(px, py, vx, vy, self.s_w * solid)
        shed = rel & (speed > 0.5)
        if shed.any() and self.controls["dust_amount"] > 0:
            amount = self.controls["dust_amount"] * E_TRAIL * self.s_w[shed] * speed[shed] * dt
            s.add_scalar_points("d", px[shed], py[shed], amount)
            s.add_scalar_points("T", px[shed], py[shed], amount * (T_TRAIL / E_TRAIL))

    # stepping -------------------------------------------------------------------
    def initial_state(self):
        pos, ang, vel, _ = self.rigid.state()
        return self._export(pos, ang)

    def _export(self, pos, ang):
        t0 = time.perf_counter()
        out = {"density": self.exporter.density(self.smoke.d),
               "fragments": fragment_table(self.frac, pos, ang, self.rigid.released),
               "progress": self.frame * self.dt_frame}
        self.t_export += time.perf_counter() - t0
        return out

    def step(self):
        """Advance one frame; returns that frame's exported state."""
        self.frame += 1
        t_end = self.frame * self.dt_frame
        t0 = time.perf_counter()
        events, releases = self.rigid.advance(t_end)
        pos, ang, vel, omega = self.rigid.last_state
        t1 = time.perf_counter()
        s = self.smoke
        umax = max(np.abs(s.u).max(), np.abs(s.v).max(),
                   float(np.abs(vel[self.rigid.released]).max()) if self.rigid.released.any() else 0.0)
        n = max(math.ceil(self.dt_frame / SMOKE_DT_MAX - 1e-9),
                math.ceil(umax * self.dt_frame / (SMOKE_CFL * s.h)))
        dt = self.dt_frame / n
        for _ in range(n):
            s.advect(dt)
            self._emit(events, releases, 1.0 / n)
            self._fragments_to_grid(pos, ang, vel, omega, dt)
            s.forces(dt)
            s.project()
            s.dissipate(dt)
        self.smoke_steps += n
        t2 = time.perf_counter()
        self.t_rigid += t1 - t0
        self.t_smoke += t2 - t1
        return self._export(pos, ang)

    def run(self, on_frame=None):
        """All frames; returns the stacked state (see state.py)."""
        states = [self.initial_state()]
        if on_frame:
            on_frame(0, states[0])
        for k in range(1, self.frames):
            st = self.step()
            states.append(st)
            if on_frame:
                on_frame(k, st)
        verts, counts = self.frac.padded()
        return {
            "density": np.stack([s["density"] for s in states]),
            "fragments": np.stack([s["fragments"] for s in states]),
            "progress": np.array([s["progress"] for s in states], np.float32),
            "rest_polys": verts,
            "rest_nverts": counts,
            "controls": np.array([self.controls[k] for k in CONTROL_NAMES], np.float32),
            "aspect": np.float32(self.aspect),
            "seed": np.int64(self.seed),
            "n_floors": np.int32(self.frac.n_floors),
        }

    def timing(self):
        f = max(1, self.frames - 1)
        return {"rigid_ms": 1e3 * self.t_rigid / f, "smoke_ms": 1e3 * self.t_smoke / f,
                "export_ms": 1e3 * self.t_export / f,
                "total_ms": 1e3 * (self.t_rigid + self.t_smoke + self.t_export) / f,
                "smoke_steps_per_frame": self.smoke_steps / f,
                "rigid_substeps": self.rigid_substeps, "grid": self.grid,
                "fragments": self.frac.count}
