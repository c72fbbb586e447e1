"""Tests of the reference simulation: python -m unittest model.reference.test_reference"""

import os
import tempfile
import unittest

from . import EXPORT_COLS, EXPORT_ROWS, MAX_FRAGMENTS, MAX_VERTS, default_controls

import numpy as np

from .dataset import generate, splits
from .fracture import fracture
from .sim import Simulation, grid_for
from .smoke import Smoke
from .state import Exporter, export_centres


def _small_sim(seed=1, aspect=1.0, frames=8, res=16, **ctl):
    c = default_controls()
    c.update(ctl)
    return Simulation(seed, aspect, c, frames=frames, res=res).run()


class SmokeTests(unittest.TestCase):
    def test_projection_makes_velocity_divergence_free(self):
        s = Smoke(-0.75, 80, 51, 1.6 / 51)
        rng = np.random.default_rng(0)
        s.u[:] = rng.normal(size=s.u.shape)
        s.v[:] = rng.normal(size=s.v.shape)
        s._walls()
        before = np.abs(s.divergence()).max()
        s.project()
        after = np.abs(s.divergence()).max()
        self.assertGreater(before / max(after, 1e-300), 100.0)
        self.assertLess(after, 1e-8 * before)
        # projecting again changes nothing (a projection)
        u = s.u.copy()
        s.project()
        np.testing.assert_allclose(s.u, u, atol=1e-10)

    def _rotating(self, maccormack):
        n = 64
        s = Smoke(0.0, n, n, 1.0 / n, buoyancy=0, weight=0, vorticity=0, cooling=0,
                  dissipation=0, sponge=None, maccormack=maccormack)
        y = (np.arange(n) + 0.5) / n
        x = np.arange(n + 1) / n
        s.u[:] = -(y[:, None] - 0.5) * 2 * np.pi + 0 * x[None, :]
        xv = (np.arange(n) + 0.5) / n
        s.v[:] = (xv[None, :] - 0.5) * 2 * np.pi + 0 * np.arange(n + 1)[:, None]
        s._walls()
        s.project()
        X, Y = np.meshgrid(xv, y)
        s.d[:] = np.exp(-((X - 0.68) ** 2 + (Y - 0.5) ** 2) / (2 * 0.06 ** 2))
        m0 = s.d.sum()
        for _ in range(25):          # a quarter turn
            s.advect(0.01, velocity=False)
        return s, m0

    def test_advection_conserves_mass(self):
        for mode in ("all", "none"):
            s, m0 = self._rotating(mode)
            self.assertLess(abs(s.d.sum() - m0) / m0, 0.02, mode)
            self.assertGreaterEqual(s.d.min(), -1e-12)
        # MacCormack keeps the peak better than plain semi-Lagrangian
        peak_mc = self._rotating("all")[0].d.max()
        peak_sl = self._rotating("none")[0].d.max()
        self.assertGreater(peak_mc, peak_sl)


class FractureTests(unittest.TestCase):
    def test_cells_tile_the_facade(self):
        for aspect, fs in ((1.0, 1.0), (0.4, 0.25), (2.5, 4.0), (3.0, 0.25)):
            f = fracture(3, aspect, fs)
            self.assertLessEqual(f.count, MAX_FRAGMENTS)
            self.assertAlmostEqual(f.areas.sum(), aspect, places=9)
            for p in f.polys:
                self.assertLessEqual(len(p), MAX_VERTS)
                e = np.roll(p, -1, 0) - p
                cross = e[:, 0] * np.roll(e[:, 1], -1) - e[:, 1] * np.roll(e[:, 0], -1)
                self.assertTrue(np.all(cross > -1e-12), "convex, counter-clockwise")
                self.assertTrue(np.all(p >= -1e-9) and np.all(p[:, 0] <= aspect + 1e-9)
                                and np.all(p[:, 1] <= 1 + 1e-9))
        self.assertGreater(fracture(3, 1.0, 0.7).count, fracture(3, 1.0, 2.0).count)


class SimulationTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_a = _small_sim(seed=4, frames=12, direction=0.5)

    def test_determinism(self):
        b = _small_sim(seed=4, frames=12, direction=0.5)
        for k in ("density", "fragments", "rest_polys", "rest_nverts", "controls"):
            np.testing.assert_array_equal(self.run_a[k], b[k], k)
        c = _small_sim(seed=5, frames=12, direction=0.5)
        self.assertFalse(np.array_equal(self.run_a["fragments"], c["fragments"]))

    def test_shapes(self):
        st = self.run_a
        self.assertEqual(st["density"].shape, (12, EXPORT_ROWS, EXPORT_COLS))
        self.assertEqual(st["density"].dtype, np.float32)
        self.assertEqual(st["fragments"].shape, (12, MAX_FRAGMENTS, 8))
        self.assertEqual(st["rest_polys"].shape, (MAX_FRAGMENTS, MAX_VERTS, 2))
        alive = st["fragments"][0, :, 6] > 0
        self.assertEqual(int(alive.sum()), int((st["rest_nverts"] > 0).sum()))
        self.assertAlmostEqual(float(st["fragments"][0, alive, 7].sum()), 1.0, places=5)
        np.testing.assert_array_equal(st["fragments"][0, :, 2:6], 0)   # at rest at p = 0
        self.assertTrue(np.all(st["fragments"][:, ~alive] == 0))

    def test_fragments_fall_and_stay_above_ground(self):
        f = self.run_a["fragments"]
        alive = f[0, :, 6] > 0
        y = f[:, alive, 1] + f[:, alive, 3]
        self.assertGreater(y.min(), -0.01)
        self.assertTrue(np.all(f[-1, alive, 5] == 1), "everything released by p = 1")
        self.assertLess(y[-1].mean(), y[0].mean() - 0.2)
        self.assertLess(y[-1].max(), 0.6)
        self.assertGreater(self.run_a["density"].max(), 0.1)

    def test_no_dust(self):
        st = _small_sim(seed=2, frames=6, dust_amount=0.0)
        self.assertEqual(float(np.abs(st["density"]).max()), 0.0)


class ExportTests(unittest.TestCase):
    def test_orientation(self):
        aspect = 1.3
        x0, nx, ny, h = grid_for(aspect, 32)
        s = Smoke(x0, nx, ny, h)
        ex = Exporter(aspect, x0, nx, ny, h)
        s.add_blob("d", 0.5 * aspect, 0.01, 0.1, 0.01, 1.0)       # at the ground, centre
        d = ex.density(s.d)
        self.assertEqual(d.shape, (EXPORT_ROWS, EXPORT_COLS))
        xc, yc = export_centres(aspect)
        rows = np.nonzero(d.max(axis=1) > 1e-3 * d.max())[0]
        self.assertEqual(rows.max(), EXPORT_ROWS - 1, "ground dust in the bottom rows")
        self.assertLess(yc[rows.min()], 0.15)
        self.assertLess(np.abs(yc[-1] + 0.06 - 0.5 * 1.66 / EXPORT_ROWS), 1e-6)
        col = np.argmax(d[-1])
        self.assertLess(abs(xc[col] - 0.5 * aspect), 2 * 2.5 * aspect / EXPORT_COLS)
        # integral kept by the box filter (no window), in isotropic units
        s.d[:] = 0
        s.add_blob("d", 0.3 * aspect, 0.5, 0.1, 0.1, 1.0)
        cell = (2.5 * aspect / EXPORT_COLS) * (1.66 / EXPORT_ROWS)
        self.assertAlmostEqual(float(ex.density(s.d).sum()) * cell, s.d.sum() * h * h, delta=0.01)
        # high and to the left lands top-left
        s.d[:] = 0
        s.add_blob("d", -0.2 * aspect, 1.2, 0.05, 0.05, 1.0)
        d = ex.density(s.d)
        r, c = np.unravel_index(np.argmax(d), d.shape)
        self.assertLess(abs(yc[r] - 1.2), 0.05)
        self.assertLess(abs(xc[c] + 0.2 * aspect), 0.05)
        # the window fades to zero at the box edges
        exw = Exporter(aspect, x0, nx, ny, h, window=(0.2, 0.2))
        s.d[:] = 1.0
        d = exw.density(s.d)
        self.assertLess(d[:, 0].max(), 0.05)
        self.assertLess(d[0].max(), 0.05)
        self.assertAlmostEqual(float(d[-1, EXPORT_COLS // 2]), 1.0, places=5)


class DatasetTests(unittest.TestCase):
    def test_tiny_dataset_is_reproducible_and_cached(self):
        with tempfile.TemporaryDirectory() as t:
            a, b = os.path.join(t, "a"), os.path.join(t, "b")
            kw = dict(shard_size=1, frames=6, res=12, log=lambda *_: None)
            plan = generate(2, a, **kw)
            generate(2, b, **kw)
            self.assertEqual([n for n, _ in plan], ["train-00000", "test-00000"])
            for name, _ in plan:
                with open(os.path.join(a, name + ".npz"), "rb") as fa, \
                        open(os.path.join(b, name + ".npz"), "rb") as fb:
                    self.assertEqual(fa.read(), fb.read(), name)
            with np.load(os.path.join(a, "train-00000.npz")) as z:
                self.assertEqual(z["density"].shape, (1, 6, EXPORT_ROWS, EXPORT_COLS))
                self.assertEqual(z["density"].dtype, np.float16)
                self.assertEqual(z["fragments"].shape, (1, 6, MAX_FRAGMENTS, 8))
                self.assertTrue(0.4 <= float(z["aspect"][0]) <= 2.5)
            path = os.path.join(a, "test-00000.npz")
            mtime = os.stat(path).st_mtime_ns
            logs = []
            generate(2, a, log=logs.append, **{k: v for k, v in kw.items() if k != "log"})
            self.assertEqual(os.stat(path).st_mtime_ns, mtime)
            self.assertTrue(any("skipped" in line for line in logs))

    def test_split(self):
        plan = splits(300, 25)
        test = [i for n, idx in plan if n.startswith("test") for i in idx]
        train = [i for n, idx in plan if n.startswith("train") for i in idx]
        self.assertEqual(test, list(range(270, 300)))
        self.assertEqual(train, list(range(270)))


class ShippedRendererTests(unittest.TestCase):
    """The reference through the bundled package's lattice and render stages
    (model/learned/staged_render.py), as `shot.py --renderer package` draws it."""

    @classmethod
    def setUpClass(cls):
        from model.learned.staged_render import StagedRenderer, fracture_tensors
        cls.state = _small_sim(seed=2, aspect=1.25, frames=12)
        cls.rest, cls.labels, _ = fracture_tensors(cls.state)
        rng = np.random.default_rng(5)
        cls.plate = rng.uniform(0.2, 0.8, (90, 140, 3))
        cls.region = (40.0, 12.0, 50.0, 40.0)          # L, B, W, H: aspect 1.25
        cls.renderer = StagedRenderer(cls.state, cls.plate, cls.region, seed=2)

    def test_the_fracture_becomes_label_texels_in_proportion_to_area(self):
        inner = self.labels[0, 0, 1:-1, 1:-1]
        self.assertGreater((inner >= 0).mean(), 0.97)        # the cells tile the region
        alive = self.rest[:, 3] > 0.5
        share = np.bincount(inner[inner >= 0].astype(int), minlength=len(alive)) / (inner >= 0).sum()
        np.testing.assert_allclose(share[alive], self.rest[alive, 2], atol=0.004)
        self.assertTrue(np.all(share[~alive] == 0))

    def test_before_the_start_the_plate_and_later_a_change_near_the_region_only(self):
        plate = self.plate.astype(np.float32).astype(np.float64)       # (the stages run in f32)
        np.testing.assert_array_equal(self.renderer.frame(0), plate)        # progress 0
        late = self.renderer.frame(7)
        changed = np.abs(late - self.plate).max(2) > 1e-6
        self.assertGreater(changed[90 - 52:90 - 12, 40:90].mean(), 0.5)     # the region
        # Nothing outside the affected area (reach 0.75 W each side, 0.6 H above).
        L, B, W, H = self.region
        rows, cols = np.nonzero(changed)
        self.assertGreaterEqual(cols.min(), int(L - 0.75 * W * 1.0) - 1)
        self.assertLessEqual(cols.max(), int(L + W + 0.75 * W) + 1)
        self.assertGreaterEqual(rows.min(), int(90 - (B + 1.6 * H)) - 1)

    def test_the_package_s_own_frames_start_from_the_plate_and_differ_from_the_simulation(self):
        from model.learned.staged_render import StagedRenderer
        gen = StagedRenderer(self.state, self.plate, self.region, seed=2, generated=True)
        plate = self.plate.astype(np.float32).astype(np.float64)
        np.testing.assert_array_equal(gen.frame(0), plate)                   # progress 0
        late = gen.frame(7)
        self.assertGreater((np.abs(late - plate).max(2) > 1e-6)[90 - 52:90 - 12, 40:90].mean(), 0.5)
        # Its own fracture and network, not the simulation's state.
        self.assertGreater(np.abs(late - self.renderer.frame(7)).max(), 0.05)


if __name__ == "__main__":
    unittest.main()
