"""Loading the reference data set (model/reference/dataset.py format) for training
and evaluation."""

import glob
import json
import os

import numpy as np


def load_split(root, split):
    """Concatenate the shards of one split: dict of numpy arrays (density stays
    float16), or None when the split has no shards."""
    paths = sorted(glob.glob(os.path.join(root, f"{split}-*.npz")))
    if not paths:
        return None
    keys = ("density", "fragments", "rest_polys", "rest_nverts", "controls", "aspect",
            "seeds", "index")
    parts = {k: [] for k in keys}
    progress = None
    for p in paths:
        with np.load(p) as z:
            for k in keys:
                parts[k].append(z[k])
            progress = z["progress"]
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out["progress"] = progress.astype(np.float32)
    return out


def rest_table(fragments):
    """[..., 256, 8] frame table -> [..., 256, 4] (cx, cy, area, alive) rest inputs."""
    return fragments[..., [0, 1, 7, 6]]


def manifest(root):
    with open(os.path.join(root, "manifest.json")) as f:
        return json.load(f)
