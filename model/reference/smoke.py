"""A 2D incompressible smoke solver on a MAC grid (numpy / scipy only).

One step (Stam 1999, "Stable Fluids", in the staggered form of Fedkiw, Stam and
Jensen 2001):
  1. advect velocity, density and temperature through the divergence-free velocity
     of the last step: semi-Lagrangian with an RK2 backtrace and bilinear
     interpolation, corrected by MacCormack (Selle et al. 2008: forward and
     backward advection estimate the error, which is removed, and the result is
     clamped to the stencil's range so it stays stable and bounded);
  2. sources (density, temperature, velocity impulses) and the velocity of the
     falling fragments, blended in where they cover the grid;
  3. body forces: buoyancy (temperature up, dust weight down) and vorticity
     confinement (Fedkiw, Stam and Jensen 2001) that puts back the small curls
     numerical diffusion removes;
  4. pressure projection: the Poisson equation with the 5-point Laplacian and
     Neumann walls on all four sides (the ground is the bottom wall) is diagonal in
     the DCT-II basis, so it is solved exactly by a forward and an inverse 2D DCT
     (scipy.fft, O(N log N)), and the pressure gradient is subtracted on the faces.

Grid: nx x ny square cells of size h; rows go UP (row 0 touches the ground y = 0).
u: [ny, nx + 1] on vertical faces, v: [ny + 1, nx] on horizontal faces,
scalars: [ny, nx] at cell centres. Walls: normal velocity 0 on the box boundary.
Units: lengths in region heights, time in progress units.
"""

import numpy as np
from scipy import fft

SPONGE_RATE = 100.0    # density absorption at the walls, per unit time
SPONGE_VEL = 10.0      # velocity damping at the walls, per unit time


class Stencil:
    """Bilinear interpolation weights for a set of points on one grid, reusable
    for several fields living on that grid."""

    __slots__ = ("k", "wx", "wy", "nx", "shape")

    def __init__(self, fj, fi, shape):
        ny, nx = shape
        fj = np.clip(fj, 0.0, ny - 1.0)
        fi = np.clip(fi, 0.0, nx - 1.0)
        j0 = np.minimum(fj.astype(np.int64), ny - 2)
        i0 = np.minimum(fi.astype(np.int64), nx - 2)
        self.wy = fj - j0
        self.wx = fi - i0
        self.k = j0 * nx + i0
        self.nx = nx
        self.shape = fj.shape

    def corners(self, f):
        ff = f.ravel()
        k = self.k
        return ff[k], ff[k + 1], ff[k + self.nx], ff[k + self.nx + 1]

    def __call__(self, f):
        a, b, c, d = self.corners(f)
        lo = a + (b - a) * self.wx
        hi = c + (d - c) * self.wx
        return lo + (hi - lo) * self.wy

    def with_range(self, f):
        """Interpolated values and the min and max of each stencil's corners."""
        a, b, c, d = self.corners(f)
        lo = a + (b - a) * self.wx
        hi = c + (d - c) * self.wx
        val = lo + (hi - lo) * self.wy
        return (val, np.minimum(np.minimum(a, b), np.minimum(c, d)),
                np.maximum(np.maximum(a, b), np.maximum(c, d)))


class Smoke:
    def __init__(self, x0, nx, ny, h, buoyancy=6.0, weight=0.6, vorticity=0.35,
                 cooling=2.5, dissipation=0.25, sponge=None, maccormack="all"):
        self.x0, self.nx, self.ny, self.h = float(x0), int(nx), int(ny), float(h)
        self.u = np.zeros((ny, nx + 1))
        self.v = np.zeros((ny + 1, nx))
        self.d = np.zeros((ny, nx))
        self.T = np.zeros((ny, nx))
        self.buoyancy, self.weight, self.vorticity = buoyancy, weight, vorticity
        self.cooling, self.dissipation = cooling, dissipation
        self.maccormack = maccormack      # "all", "scalars" or "none"
        # face / centre positions in grid index units of the centre grid
        jj, ii = np.mgrid[0:ny, 0:nx + 1]
        self.pu = (jj + 0.5, ii.astype(float))          # (y/h, (x-x0)/h) of u faces
        jj, ii = np.mgrid[0:ny + 1, 0:nx]
        self.pv = (jj.astype(float), ii + 0.5)
        jj, ii = np.mgrid[0:ny, 0:nx]
        self.pc = (jj + 0.5, ii + 0.5)
        # velocity at each point set: the other component by fixed stencils
        self.v_at_u = self._stencil_v(*self.pu)
        self.u_at_v = self._stencil_u(*self.pv)
        self.u_at_c = self._stencil_u(*self.pc)
        self.v_at_c = self._stencil_v(*self.pc)
        # DCT eigenvalues of the Neumann Laplacian (times h^2)
        ky = 2.0 * np.cos(np.pi * np.arange(ny) / ny) - 2.0
        kx = 2.0 * np.cos(np.pi * np.arange(nx) / nx) - 2.0
        lam = ky[:, None] + kx[None, :]
        lam[0, 0] = 1.0
        self.inv_lam = 1.0 / lam
        self.inv_lam[0, 0] = 0.0
        # sponge: density is absorbed near the side and top walls (a stand-in for
        # outflow, and the dust fades out before the box edges); widths in length
        # units (side, top), rate per unit time at the wall, quadratic ramp
        y = (np.arange(ny) + 0.5) * h
        x = (np.arange(nx) + 0.5) * h
        sw, tw = sponge if sponge else (1e-9, 1e-9)
        rx = np.clip(1 - np.minimum(x, nx * h - x) / sw, 0, 1)
        ry = np.clip(1 - (ny * h - y) / tw, 0, 1)
        self.sponge = np.maximum(rx[None, :], ry[:, None]) ** 2 * (SPONGE_RATE if sponge else 0.0)
        self.sponge_u = self.sponge_v = None
        if sponge:     # velocity is damped there too (per step factors, set by step dt)
            k = self.sponge * (SPONGE_VEL / SPONGE_RATE)
            ku = np.concatenate([k[:, :1], 0.5 * (k[:, 1:] + k[:, :-1]), k[:, -1:]], 1)
            kv = np.concatenate([k[:1], 0.5 * (k[1:] + k[:-1]), k[-1:]], 0)
            self._ku, self._kv = ku, kv
            self.sponge_u, self.sponge_v = np.ones_like(ku), np.ones_like(kv)
            self._sponge_dt = None

    # sampling ------------------------------------------------------------------
    # point coordinates are (Y, X) = (y / h, (x - x0) / h)
    def _stencil_u(self, Y, X):
        return Stencil(Y - 0.5, X, self.u.shape)

    def _stencil_v(self, Y, X):
        return Stencil(Y, X - 0.5, self.v.shape)

    def _stencil_c(self, Y, X):
        return Stencil(Y - 0.5, X - 0.5, self.d.shape)

    def velocity_at(self, Y, X):
        """Velocity in cells per unit time at points (Y, X)."""
        return self._stencil_u(Y, X)(self.u) / self.h, self._stencil_v(Y, X)(self.v) / self.h

    def _trace(self, P, vel0, dt):
        """RK2 (midpoint) trace of the points P = (Y, X) over dt (negative: back)."""
        Y, X = P
        uy, ux = vel0
        Ym = Y + 0.5 * dt * uy
        Xm = X + 0.5 * dt * ux
        ux_m, uy_m = self.velocity_at(Ym, Xm)
        return Y + dt * uy_m, X + dt * ux_m

    def _advect(self, fields, P, vel0, stencil_of, dt, maccormack):
        """Advect the fields (all on the grid of point set P) by dt."""
        back = self._trace(P, vel0, -dt)
        st = stencil_of(*back)
        if not maccormack:
            return [st(f) for f in fields]
        # MacCormack: advect the result forward again; half the difference from
        # the start estimates the error; clamp to the backtraced stencil's range
        ahead = self._trace(P, vel0, dt)
        st2 = stencil_of(*ahead)
        out = []
        for f in fields:
            f1, lo, hi = st.with_range(f)
            f1 += 0.5 * (f - st2(f1))
            out.append(np.clip(f1, lo, hi, out=f1))
        return out

    def advect(self, dt, velocity=True):
        h = self.h
        u, v = self.u, self.v
        vel_u = (self.v_at_u(v) / h, u / h)      # (vy, vx) in cells per time at u faces
        vel_v = (v / h, self.u_at_v(u) / h)
        vel_c = (self.v_at_c(v) / h, self.u_at_c(u) / h)
        mv = self.maccormack == "all"
        ms = self.maccormack in ("all", "scalars")
        # every field is traced through the same (old, divergence-free) velocity
        self.d, self.T = self._advect([self.d, self.T], self.pc, vel_c, self._stencil_c, dt, ms)
        if velocity:
            (nu,) = self._advect([u], self.pu, vel_u, self._stencil_u, dt, mv)
            (nv,) = self._advect([v], self.pv, vel_v, self._stencil_v, dt, mv)
            self.u, self.v = nu, nv
            self._walls()

    def _walls(self):
        self.u[:, 0] = 0.0
        self.u[:, -1] = 0.0
        self.v[0, :] = 0.0
        self.v[-1, :] = 0.0

    # forces --------------------------------------------------------------------
    def forces(self, dt):
        h = self.h
        b = self.buoyancy * self.T - self.weight * self.d
        self.v[1:-1, :] += dt * 0.5 * (b[1:, :] + b[:-1, :])
        if self.vorticity > 0:
            uc = 0.5 * (self.u[:, 1:] + self.u[:, :-1])
            vc = 0.5 * (self.v[1:, :] + self.v[:-1, :])
            w = (np.gradient(vc, axis=1) - np.gradient(uc, axis=0)) / h
            aw = np.abs(w)
            gy = np.gradient(aw, axis=0)
            gx = np.gradient(aw, axis=1)
            norm = np.sqrt(gx * gx + gy * gy) + 1e-12
            fx = self.vorticity * h * (gy / norm) * w
            fy = -self.vorticity * h * (gx / norm) * w
            self.u[:, 1:-1] += dt * 0.5 * (fx[:, 1:] + fx[:, :-1])
            self.v[1:-1, :] += dt * 0.5 * (fy[1:, :] + fy[:-1, :])

    # projection ----------------------------------------------------------------
    def divergence(self):
        return ((self.u[:, 1:] - self.u[:, :-1]) + (self.v[1:, :] - self.v[:-1, :])) / self.h

    def project(self):
        """Make the velocity exactly divergence-free (to round-off): solve
        L q = div with the Neumann 5-point Laplacian L by DCT, u -= grad q."""
        # With D the (dimensionless) sum of second differences, the discrete
        # Poisson equation D p / h^2 = div and u -= (p[i] - p[i-1]) / h become
        # D q = h div and u -= q[i] - q[i-1] for q = p / h; D is diagonal in DCT-II.
        rhs = self.divergence() * self.h
        q = fft.idctn(fft.dctn(rhs, type=2, norm="ortho") * self.inv_lam, type=2, norm="ortho")
        self.u[:, 1:-1] -= (q[:, 1:] - q[:, :-1])
        self.v[1:-1, :] -= (q[1:, :] - q[:-1, :])

    # dissipation ---------------------------------------------------------------
    def dissipate(self, dt):
        self.T *= np.exp(-self.cooling * dt)
        self.d *= np.exp(-(self.dissipation + self.sponge) * dt)
        if self.sponge_v is not None:
            if self._sponge_dt != dt:
                self.sponge_u, self.sponge_v = np.exp(-self._ku * dt), np.exp(-self._kv * dt)
                self._sponge_dt = dt
            self.u *= self.sponge_u
            self.v *= self.sponge_v

    def step(self, dt):
        """One step without sources (sim.Simulation adds its sources between
        advect() and forces())."""
        self.advect(dt)
        self.forces(dt)
        self.project()
        self.dissipate(dt)

    # grid helpers --------------------------------------------------------------
    def centres(self):
        x = self.x0 + (np.arange(self.nx) + 0.5) * self.h
        y = (np.arange(self.ny) + 0.5) * self.h
        return x, y

    def add_blob(self, field, x, y, sx, sy, amount):
        """Add amount * (normalised anisotropic Gaussian) at (x, y) to the centre
        field 'd' or 'T' (amount = integral over area)."""
        f = self.d if field == "d" else self.T
        h = self.h
        i0 = max(0, int((x - 3 * sx - self.x0) / h))
        i1 = min(self.nx, int((x + 3 * sx - self.x0) / h) + 2)
        j0 = max(0, int((y - 3 * sy) / h))
        j1 = min(self.ny, int((y + 3 * sy) / h) + 2)
        if i0 >= i1 or j0 >= j1:
            return
        xs = self.x0 + (np.arange(i0, i1) + 0.5) * h
        ys = (np.arange(j0, j1) + 0.5) * h
        gx = np.exp(-0.5 * ((xs - x) / sx) ** 2)
        gy = np.exp(-0.5 * ((ys - y) / sy) ** 2)
        g = gy[:, None] * gx[None, :]
        s = g.sum() * h * h
        if s > 0:
            f[j0:j1, i0:i1] += g * (amount / s)

    def add_gust(self, x, y, sx, sy, speed):
        """Outward horizontal velocity around x (odd in x - x_c), ground-hugging."""
        h = self.h
        i0 = max(1, int((x - 3 * sx - self.x0) / h))
        i1 = min(self.nx, int((x + 3 * sx - self.x0) / h) + 2)
        j0 = 0
        j1 = min(self.ny, int((y + 3 * sy) / h) + 2)
        if i0 >= i1:
            return
        xs = self.x0 + np.arange(i0, i1) * h
        ys = (np.arange(j0, j1) + 0.5) * h
        gx = (xs - x) / sx * np.exp(-0.5 * ((xs - x) / sx) ** 2) * 1.6487
        gy = np.exp(-0.5 * (np.maximum(ys - y, 0) / sy) ** 2)
        self.u[j0:j1, i0:i1] += speed * gy[:, None] * gx[None, :]

    def add_vortex(self, x, y, sigma, speed):
        """A Gaussian vortex (divergence-free: from the stream function
        -speed sigma sqrt(e) exp(-r^2 / 2 sigma^2)), peak speed at r = sigma,
        counter-clockwise for speed > 0."""
        h = self.h
        k = speed * 1.6487
        for comp, (oy, ox), sgn in ((self.u, (0.5, 0.0), -1.0), (self.v, (0.0, 0.5), 1.0)):
            ny, nx = comp.shape
            i0 = max(0, int((x - 3 * sigma - self.x0) / h - ox))
            i1 = min(nx, int((x + 3 * sigma - self.x0) / h - ox) + 2)
            j0 = max(0, int((y - 3 * sigma) / h - oy))
            j1 = min(ny, int((y + 3 * sigma) / h - oy) + 2)
            if i0 >= i1 or j0 >= j1:
                continue
            xs = self.x0 + (np.arange(i0, i1) + ox) * h - x
            ys = (np.arange(j0, j1) + oy) * h - y
            g = np.exp(-0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2) / sigma ** 2) * (k / sigma)
            comp[j0:j1, i0:i1] += sgn * g * (ys[:, None] if sgn < 0 else xs[None, :])
        self._walls()

    def blend_velocity(self, px, py, vx, vy, w):
        """Blend the velocity toward (vx, vy) of weighted sample points (solid
        fragments): per face, the mean sample velocity with weight min(1, sum w / h^2)."""
        h = self.h
        for comp, vals, (oy, ox) in ((self.u, vx, (0.5, 0.0)), (self.v, vy, (0.0, 0.5))):
            ny, nx = comp.shape
            fi = (px - self.x0) / h - ox
            fj = py / h - oy
            ok = (fi >= 0) & (fi < nx - 1) & (fj >= 0) & (fj < ny - 1)
            fi, fj, vv, ww = fi[ok], fj[ok], vals[ok], w[ok]
            i0 = fi.astype(np.int64)
            j0 = fj.astype(np.int64)
            ax, ay = fi - i0, fj - j0
            k = j0 * nx + i0
            idx = np.concatenate([k, k + 1, k + nx, k + nx + 1])
            wt = np.concatenate([(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay]) * np.tile(ww, 4)
            W = np.bincount(idx, wt, comp.size)
            M = np.bincount(idx, wt * np.tile(vv, 4), comp.size)
            hit = W > 0
            flat = comp.ravel()
            a = np.minimum(1.0, W[hit] / (h * h))
            flat[hit] += a * (M[hit] / W[hit] - flat[hit])
        self._walls()

    def add_scalar_points(self, field, px, py, amount):
        """Bilinear splat of point amounts (integral) into a centre field."""
        f = self.d if field == "d" else self.T
        h = self.h
        fi = (px - self.x0) / h - 0.5
        fj = py / h - 0.5
        ok = (fi >= 0) & (fi < self.nx - 1) & (fj >= 0) & (fj < self.ny - 1)
        fi, fj, am = fi[ok], fj[ok], amount[ok]
        i0 = fi.astype(np.int64)
        j0 = fj.astype(np.int64)
        ax, ay = fi - i0, fj - j0
        k = j0 * self.nx + i0
        idx = np.concatenate([k, k + 1, k + self.nx, k + self.nx + 1])
        wt = np.concatenate([(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay]) * np.tile(am, 4)
        f += (np.bincount(idx, wt, f.size) / (h * h)).reshape(f.shape)
