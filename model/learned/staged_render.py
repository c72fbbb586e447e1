"""The reference simulation's frames through the shipped renderer.

A reference state (model/reference/state.py: per frame the dust's optical depth on
the 64x96 grid and every fragment's rigid motion; per simulation the fracture's
polygons) is turned into the tensors of the learned package's stages and run
through the package's own other stages in ONNX Runtime (the plate's light, the
fragments' lattice, the lit dust lattice, the per-tile render): the files, dust
renderer and fragment gather the plugin runs. Only the network's stage is
replaced, by the simulation; the simulation's fracture replaces the package's. So
a frame of the reference and a frame of the generator differ only where the
simulation and the network differ. (Every label texel goes with its piece as it
is: the package's reading stage is not run.)

model/reference/shot.py uses it for its frames (`--renderer package`, the default).
It needs numpy and onnxruntime only (not torch): what it must know of the package, it
reads from its package.toml.
"""

import os
import tomllib

import numpy as np

from model.reference import CONTROL_NAMES

FRACTURE = ("fragments_rest", "fragment_labels", "fragment_extent")   # the simulation's, per shot
SIMULATED = ("density", "fragments")                                  # and per frame
DEFAULT_PACKAGE = os.path.join(os.path.dirname(__file__), "..", "..", "bundle", "Contents",
                               "Resources", "learned.collapse")


def fracture_tensors(state, labels_side=512):
    """(fragments_rest [256, 4], fragment_labels [1, 1, L + 2, L + 2], fragment_extent
    [256, 4]) of the package's per-shot stage, from the simulation's own fracture: each
    polygon rasterised into the region's L x L label texels (rows top first, -1
    elsewhere and on a one-texel border), its centroid, area and box around the centroid."""
    LABELS = labels_side
    a = float(state["aspect"])
    polys, counts = state["rest_polys"], state["rest_nverts"]
    table = state["fragments"][0]
    n = len(counts)
    rest = np.zeros((n, 4), np.float32)
    extent = np.zeros((n, 4), np.float32)
    labels = np.full((LABELS, LABELS), -1.0, np.float32)
    centre = (np.arange(LABELS) + 0.5) / LABELS
    for i in range(n):
        k = int(counts[i])
        if k < 3 or table[i, 6] < 0.5:
            continue
        p = polys[i, :k].astype(np.float64)                # x / a, y; counter-clockwise
        cx, cy = float(table[i, 0]), float(table[i, 1])
        rest[i] = (cx, cy, table[i, 7], 1.0)
        extent[i] = ((p[:, 0].min() - cx) * a, (p[:, 0].max() - cx) * a,
                     p[:, 1].min() - cy, p[:, 1].max() - cy)
        # The texels inside the polygon's box, then inside every edge.
        c0, c1 = np.searchsorted(centre, [p[:, 0].min(), p[:, 0].max()])
        r0, r1 = np.searchsorted(centre, [1.0 - p[:, 1].max(), 1.0 - p[:, 1].min()])
        if c1 <= c0 or r1 <= r0:
            continue
        x = centre[None, c0:c1]
        y = 1.0 - centre[r0:r1, None]
        inside = np.ones((r1 - r0, c1 - c0), bool)
        for j in range(k):
            (x0, y0), (x1, y1) = p[j], p[(j + 1) % k]
            inside &= (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0) >= 0.0
        labels[r0:r1, c0:c1][inside] = i
    return rest, np.pad(labels, 1, constant_values=-1.0)[None, None], extent


class StagedRenderer:
    """Frames of one reference state over a plate, through a package's lattice and
    render stages. The plate is S at render scale 1: canonical coordinates are its
    pixels, y up; `region` is (L, B, W, H) in them.

    With `generated=True` the package's own fracture and network stand in for the
    simulation's (the state gives only its controls and frame times): the generator's
    frames, through the same stages, for a side-by-side with the simulation's."""

    def __init__(self, state, plate, region, background=None, package=DEFAULT_PACKAGE, seed=0,
                 generated=False):
        import onnxruntime as ort

        self.state = state
        h, w = plate.shape[:2]
        L, B, W, H = (float(v) for v in region)
        rgba = lambda img: np.concatenate([img, np.ones((h, w, 1))], 2).transpose(2, 0, 1)[None]
        self.plate = rgba(plate).astype(np.float32)
        self.background = rgba(plate if background is None else background).astype(np.float32)
        # The region's pixel coverage: the simulation fractures the whole rectangle.
        cover = lambda lo, hi, n: np.clip(np.minimum(np.arange(n) + 1.0, hi) - np.maximum(np.arange(n), lo), 0, 1)
        top = h - (B + H)
        self.mask = (cover(top, top + H, h)[:, None] * cover(L, L + W, w)[None, :])[None, None].astype(np.float32)
        self.out_x = (np.arange(w) + 0.5).astype(np.float32)
        self.out_y = (h - (np.arange(h) + 0.5)).astype(np.float32)
        self.scene = np.zeros(16, np.float32)
        self.scene[2], self.scene[3] = len(state["progress"]), seed
        self.scene[4] = self.scene[5] = 1.0
        self.scene[6], self.scene[7] = 0.0, h
        self.scene[8:12] = (L, B, W, H)
        self.scene[12] = self.scene[13] = 1.0
        with open(os.path.join(package, "package.toml"), "rb") as f:
            declared = tomllib.load(f)
        # The simulation's controls, the rest at the package's defaults.
        sim = dict(zip(CONTROL_NAMES, np.asarray(state["controls"], np.float64)))
        self.controls = np.array([sim.get(c["name"], c["default"]) for c in declared["controls"]], np.float32)
        self.noise = np.random.default_rng(seed).standard_normal(declared["noise"]).astype(np.float32)
        opts = ort.SessionOptions()
        load = lambda f: ort.InferenceSession(os.path.join(package, f), opts, providers=["CPUExecutionProvider"])
        shot = self.scene.copy()               # (per-shot stages see no time)
        self.known = dict(plate=self.plate, background=self.background, mask=self.mask, scene=shot,
                          controls=self.controls, noise=self.noise)
        # Every label texel goes with its piece, read where it is: the facade is the whole
        # region, with no outline blended with a sky nor sky inside it (and the backdrop
        # may be the plate itself).
        side = declared["tensors"]["fragment_labels"]["shape"][2]
        self.known["fragment_inward"] = np.zeros((1, 2, side, side), np.float32)
        self.known["fragment_read"] = np.zeros((1, 3, side, side), np.float32)
        self.known["fragment_read"][:, 2, 1:-1, 1:-1] = 1.0
        if not generated:
            self.known.update(zip(FRACTURE, fracture_tensors(state, side - 2)))
        self.generated = generated
        # The shot stages run now, the frame stages per frame; a stage whose outputs the
        # simulation gives (the fracture, the network) or that are given above is left out.
        self.frame_stages = []
        given = set(self.known) | (set() if generated else set(FRACTURE + SIMULATED))
        for stage in declared["stages"]:
            if set(stage["outputs"]) <= given:
                continue
            sess = load(stage["file"])
            if stage["runs"] == "shot":
                self.known.update(zip(stage["outputs"], self.run(sess, self.known)))
            elif stage["runs"] == "frame":
                self.frame_stages.append(sess)
            else:
                self.render = sess

    @staticmethod
    def run(sess, feeds):
        return sess.run(None, {i.name: feeds[i.name] for i in sess.get_inputs()})

    def frame(self, k):
        """RGB float [h, w, 3] of frame k: the element over the plate."""
        scene = self.scene.copy()
        scene[0] = float(self.state["progress"][k])
        feeds = dict(self.known, scene=scene, out_x=self.out_x, out_y=self.out_y)
        if not self.generated:
            feeds["fragments"] = self.state["fragments"][k][:, 2:6].astype(np.float32)  # dx, dy, angle, released
            feeds["density"] = self.state["density"][k].astype(np.float32)[None, None]
        for sess in self.frame_stages:
            feeds.update(zip((o.name for o in sess.get_outputs()), self.run(sess, feeds)))
        element = self.run(self.render, feeds)[0][0]
        over = element[:3] + (1.0 - element[3:4]) * self.plate[0, :3]
        return over.transpose(1, 2, 0).astype(np.float64)
