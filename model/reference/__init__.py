"""The classic-VFX reference simulation of a building collapse (see README.md).

Everything here is offline Python (numpy, scipy, pymunk, pillow): the rigid-body
fracture and fall, a 2D incompressible smoke solver for the dust, the fixed-size
per-frame state the generator network learns from, and a preview renderer.
"""

import os as _os

# Heavy numeric work stays on one thread (the machine is shared with builds).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    _os.environ.setdefault(_var, "1")

# Reach of the affected area beyond the region: fractions of region width (L, R)
# and height (B, T), as in docs/MODEL_CONTRACT.md (`collapse.reach`).
REACH_L, REACH_B, REACH_R, REACH_T = 0.75, 0.06, 0.75, 0.6
MAX_FRAGMENTS = 256
MAX_VERTS = 16
EXPORT_ROWS, EXPORT_COLS = 64, 96

CONTROL_NAMES = ("direction", "fragment_size", "gravity", "dust_amount", "dust_spread")
CONTROL_RANGES = {
    "direction": (-1.0, 1.0, 0.0),
    "fragment_size": (0.25, 4.0, 1.0),
    "gravity": (0.25, 4.0, 1.0),
    "dust_amount": (0.0, 2.0, 1.0),
    "dust_spread": (0.0, 2.0, 1.0),
}


def default_controls():
    return {k: v[2] for k, v in CONTROL_RANGES.items()}


def affected_box(aspect):
    """(x0, y0, x1, y1) of the affected area in isotropic units (region height 1)."""
    return (-REACH_L * aspect, -REACH_B, (1.0 + REACH_R) * aspect, 1.0 + REACH_T)
