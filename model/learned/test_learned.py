"""Tests of the learned generator's modules: python -m unittest model.learned.test_learned"""

import os
import tempfile
import unittest

import torch

from .networks import LATENT_DIM, MAX_FRAGMENTS, CollapseFrame, CollapseModel
from .train import example_inputs


def _perturbed(config, seed=1):
    """A model with every weight moved off its initial value (biases are zero at first,
    and a fold that dropped one would pass unseen)."""
    torch.manual_seed(seed)
    model = CollapseModel(LATENT_DIM, config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p += 0.05 * torch.randn_like(p)
    return model


def _unfolded(model, progress, latent, controls, aspect, rest):
    """The model's own function, as training sees it, in the exported graph's terms."""
    dens, frag = model(progress, latent[None], controls[None], aspect, rest[None, :, :3])
    out = torch.cat([frag[0, :, :3], torch.sigmoid(frag[0, :, 3:4])], 1)
    return dens, out * rest[:, 3:4]


class ExportedFrameTests(unittest.TestCase):
    def test_the_folded_graph_computes_the_model(self):
        model = _perturbed({})
        frame = CollapseFrame(model).eval()
        self.assertTrue(frame.fused)
        for k, t in enumerate((0.0, 0.3, 0.8, 1.25)):
            args = list(example_inputs(seed=k))
            args[0] = torch.tensor([t])
            args[2] = torch.tensor([-0.7, 2.5, 0.4, 1.6, 0.2])    # away from the defaults
            with torch.no_grad():
                got, want = frame(*args), _unfolded(model, *args)
            for g, w in zip(got, want):
                self.assertEqual(g.shape, w.shape)
                torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5)
            self.assertEqual(float(got[1][args[4][:, 3] == 0].abs().max()), 0.0)   # dead slots

    def test_the_folded_graph_computes_a_model_whose_fragments_read_the_latent(self):
        model = _perturbed({"frag_latent": True})
        args = example_inputs(seed=3)
        with torch.no_grad():
            for g, w in zip(CollapseFrame(model).eval()(*args), _unfolded(model, *args)):
                torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5)

    def test_the_conv_decoder_runs_unfolded(self):
        model = _perturbed({"dust_decoder": "conv", "frag_hidden": 64, "frag_layers": 3,
                            "frag_latent": True})
        frame = CollapseFrame(model).eval()
        self.assertFalse(frame.fused)
        args = example_inputs()
        with torch.no_grad():
            for g, w in zip(frame(*args), _unfolded(model, *args)):
                torch.testing.assert_close(g, w, rtol=0.0, atol=0.0)

    def test_a_checkpoint_without_the_decoder_key_loads_the_conv_decoder(self):
        from .evaluate import load_model
        old = {"dust_decoder": "conv", "frag_hidden": 64, "frag_layers": 3, "frag_latent": True}
        model = CollapseModel(LATENT_DIM, old)
        config = {k: v for k, v in model.config.items() if k not in ("dust_decoder", "frag_latent")}
        with tempfile.TemporaryDirectory() as root:
            torch.save({"model": model.state_dict(), "latent_dim": LATENT_DIM, "config": config},
                       os.path.join(root, "checkpoint.pt"))
            loaded, _ = load_model(root)
        self.assertFalse(loaded.dust.basis)
        self.assertEqual(loaded.frag.z_dim, LATENT_DIM)

    def test_frames_are_continuous_in_time(self):
        frame = CollapseFrame(_perturbed({})).eval()
        args = list(example_inputs())
        outs = []
        with torch.no_grad():
            for t in (0.5, 0.5 + 1e-4, 0.6):
                args[0] = torch.tensor([t])
                outs.append(frame(*args)[0])
        near = float((outs[1] - outs[0]).abs().max())
        far = float((outs[2] - outs[0]).abs().max())
        self.assertGreater(far, 0.0)
        self.assertLess(near, 0.01 * far)
        self.assertEqual(outs[0].shape, (1, 1, 64, 96))
        self.assertEqual(MAX_FRAGMENTS, 256)


class OutlineTests(unittest.TestCase):
    def test_a_gap_near_the_outline_is_against_the_sky_also_beside_a_lantern(self):
        from .package import OUTLINE_CELL, _outline
        # A dome 160 pixels across with a lantern 24 wide and 64 tall on top, on a body
        # (rows top first, 400 x 320).
        h, w = 320, 400
        y, x = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
        dome = ((x - 200) ** 2 + (y - 240) ** 2 < 80 ** 2) & (y < 240)
        lantern = ((x - 200).abs() < 12) & (y > 96) & (y < 170)
        body = (y >= 240) & ((x - 200).abs() < 80)
        mask = (dome | lantern | body).float()[None, None]
        reach = 28.0                                   # 0.05 of a 560-pixel region
        rows, cols = torch.arange(h), torch.arange(w)
        open_ = _outline(mask, rows, cols, torch.tensor(reach), torch.tensor(reach))
        at = lambda px, py: float(open_[int(py), int(px)])
        # (A tile's pixels alone look up what the whole window's do.)
        part = _outline(mask, rows[150:190], cols[180:230], torch.tensor(reach), torch.tensor(reach))
        self.assertTrue(torch.equal(part, open_[150:190, 180:230]))
        self.assertEqual(float(open_[:OUTLINE_CELL, :OUTLINE_CELL].std()), 0.0)
        # Just inside the dome's outline under the lantern: straight up is still building
        # (the lantern), yet the gap is against the sky. (The rule before session 14 looked
        # only straight up, and left a dark band there.)
        up = lambda px, py: float(mask[0, 0, int(py - reach), int(px)])
        for px, py in ((205, 175), (195, 175), (191, 168)):
            self.assertEqual(up(px, py), 1.0, (px, py))
            self.assertEqual(at(px, py), 1.0, (px, py))
        # Deep inside, a crack shows the interior.
        self.assertEqual(at(200, 280), 0.0)
        self.assertEqual(at(200, 215), 0.0)


class GrownTests(unittest.TestCase):
    def test_the_matte_grows_by_three_pixels_the_same_in_a_tile_as_in_the_window(self):
        from .package import _grown
        mask = torch.zeros(1, 1, 40, 50)
        mask[0, 0, 10:20, 0:30] = 1.0
        mask[0, 0, 30, 45] = float("nan")                 # (read as 0)
        rows, cols = torch.arange(40), torch.arange(50)
        whole = _grown(mask, rows, cols)[0]
        self.assertEqual(float(whole.sum()), 16 * 33)      # rows 7-22, columns 0-32
        self.assertEqual(float(whole[7:23, 0:33].min()), 1.0)
        for r, c in ((rows[21:30], cols[31:40]), (rows[:1], cols[49:]), (rows[5:9], cols[:4])):
            self.assertTrue(torch.equal(_grown(mask, r, c)[0], whole[r][:, c]), (r, c))


class GroundTests(unittest.TestCase):
    def test_the_line_is_no_ground_where_sky_is_under_it_and_beyond_the_window_as_nearest(self):
        from .package import BIN_COLS, Ground
        # A region 100 x 100 at (150, 60) in a window 300 wide (x) and 220 tall: sky above
        # and below the line, a pedestal (textured stone) under the region and to its left;
        # the affected area reaches 25 pixels beyond the window on the right.
        h, w = 220, 300
        y, x = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
        yc = h - y                                          # canonical y, up
        sky = torch.stack([0.5 + 0.1 * yc / h, 0.6 + 0.05 * yc / h, 0.9 + 0 * yc])
        stone = 0.45 + 0.1 * torch.sin(x * 1.7) * torch.cos(y * 2.3)
        pedestal = (yc < 60) & (x < 250)
        rgb = torch.where(pedestal[None], stone[None].expand(3, -1, -1), sky)
        plate = torch.cat([rgb, torch.ones(1, h, w)])[None]
        mask = ((x >= 150) & (x < 250) & (yc >= 60) & (yc < 160)).float()[None, None]
        scene = torch.zeros(16)
        scene[4] = scene[5] = 1.0
        scene[6], scene[7] = 0.0, float(h)
        scene[8:12] = torch.tensor([150.0, 60.0, 100.0, 100.0])
        with torch.no_grad():
            g = Ground()(plate, mask, scene)
        # The lattice's columns' centres, canonical x (the affected area 0.75 a either side).
        cx = 150.0 + 100.0 * (-0.75 + (torch.arange(BIN_COLS) + 0.5) * 2.5 / BIN_COLS)
        self.assertEqual(float(g[cx < 240].min()), 1.0)    # on the pedestal (and left of it)
        self.assertEqual(float(g[cx > 262].max()), 0.0)    # beside it, and beyond the window
        # With no pixels under the line (the region's bottom on the window's), all is ground.
        scene[9] = 0.0
        with torch.no_grad():
            self.assertEqual(float(Ground()(plate, mask, scene).min()), 1.0)


if __name__ == "__main__":
    unittest.main()
