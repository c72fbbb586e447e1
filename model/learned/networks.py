"""The learned collapse generator: torch modules, one per component.

Conditioning (per simulation): a latent z (LATENT_DIM, drawn from the seed at
inference), the five controls and the aspect. Per frame: progress t in [0, 1.25].

  Conditioning   raw controls / aspect / progress -> normalised feature vector
                 (done inside the graph, so the ONNX file takes raw values)
  DustGenerator  features -> MLP -> 4x6xC tensor -> residual upsampling blocks
                 -> sqrt-density at 32x48x4 -> pixel shuffle -> density [1, 64, 96]
                 (Deep Fluids style: a continuous function of t, so consecutive
                 frames are coherent by construction)
  FragmentMotion per fragment slot MLP: (rest cx, cy, area, features) ->
                 (dx, dy, angle, released logit)
  CollapseFrame  the per-frame graph exported to ONNX (both of the above)
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LATENT_DIM = 16
N_CONTROLS = 5
MAX_FRAGMENTS = 256
ROWS, COLS = 64, 96
# (lo, hi) of each control, CONTROL_NAMES order (model.reference.CONTROL_RANGES)
CONTROL_LO = (-1.0, 0.25, 0.25, 0.0, 0.0)
CONTROL_HI = (1.0, 4.0, 4.0, 2.0, 2.0)
LOG_ASPECT_SCALE = math.log(2.5)
T_FREQS = (1.0, 2.0, 4.0, 8.0)     # Fourier features of time (x pi)


class Conditioning(nn.Module):
    """Raw (progress [B], controls [B, 5], aspect [B]) -> features [B, F].

    Besides t itself it uses the 'physical' time tau = t sqrt(gravity) (stage
    times of the reference scale with 1/sqrt(gravity)) and Fourier features of
    both, all smooth in t."""

    def __init__(self):
        super().__init__()
        self.register_buffer("lo", torch.tensor(CONTROL_LO))
        self.register_buffer("hi", torch.tensor(CONTROL_HI))
        self.register_buffer("freqs", torch.tensor(T_FREQS) * math.pi)
        self.dim = 2 + 4 * len(T_FREQS) + N_CONTROLS + 1

    def forward(self, t, controls, aspect):
        c = 2.0 * (controls - self.lo) / (self.hi - self.lo) - 1.0
        tau = t * torch.sqrt(controls[:, 2].clamp(min=1e-3))
        tt = torch.stack([t, tau], 1)                               # [B, 2]
        ang = tt[:, :, None] * self.freqs                           # [B, 2, nf]
        four = torch.cat([torch.sin(ang), torch.cos(ang)], 2).flatten(1)
        la = torch.log(aspect.clamp(min=1e-3))[:, None] / LOG_ASPECT_SCALE
        return torch.cat([tt, four, c, la], 1)


class UpBlock(nn.Module):
    """x2 nearest upsampling, then a residual pair of 3x3 convolutions."""

    def __init__(self, cin, cout):
        super().__init__()
        self.skip = nn.Conv2d(cin, cout, 1)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        h = self.c2(F.silu(self.c1(F.silu(x))))
        return self.skip(x) + h


class DustGenerator(nn.Module):
    """features (+ z) -> density [B, 1, 64, 96] >= 0 (predicted as sqrt-density,
    then squared: the dust spans ~4 decades)."""

    def __init__(self, cond_dim, z_dim=LATENT_DIM, width=(128, 96, 64, 48), hidden=256):
        super().__init__()
        self.c0 = width[0]
        self.mlp = nn.Sequential(
            nn.Linear(cond_dim + z_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, 4 * 6 * width[0]))
        self.blocks = nn.ModuleList(UpBlock(a, b) for a, b in zip(width[:-1], width[1:]))
        self.head = nn.Conv2d(width[-1], 4, 3, padding=1)         # 32x48x4 -> 64x96
        # coordinate channels at the coarsest level (position-dependent structure)
        self.register_buffer("coords", self._coords(4, 6))
        self.mix0 = nn.Conv2d(width[0] + 2, width[0], 3, padding=1)

    @staticmethod
    def _coords(h, w):
        y = torch.linspace(-1, 1, h)[:, None].expand(h, w)
        x = torch.linspace(-1, 1, w)[None, :].expand(h, w)
        return torch.stack([x, y])[None]

    def forward(self, feat, z, return_sqrt=False):
        b = feat.shape[0]
        x = self.mlp(torch.cat([feat, z], 1)).view(b, self.c0, 4, 6)
        x = self.mix0(torch.cat([F.silu(x), self.coords.expand(b, -1, -1, -1)], 1))
        for blk in self.blocks:
            x = blk(x)
        q = F.softplus(self.head(F.silu(x)) - 2.0)    # sqrt density, 4 sub-pixels
        q = F.pixel_shuffle(q, 2)                       # [B, 1, 64, 96]
        return q if return_sqrt else q * q


class FragmentMotion(nn.Module):
    """Per slot: (rest cx, rest cy, area, features, z) -> (dx, dy, angle, released logit).
    Rest position also enters through a few Fourier features (slot-specific motion)."""

    def __init__(self, cond_dim, z_dim=LATENT_DIM, hidden=160, n_pos_freqs=4):
        super().__init__()
        self.register_buffer("pfreq", (2.0 ** torch.arange(n_pos_freqs)) * math.pi)
        pos_dim = 3 + 4 * n_pos_freqs
        self.cond = nn.Linear(cond_dim + z_dim, hidden)
        self.pos = nn.Linear(pos_dim, hidden)
        self.body = nn.Sequential(
            nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, 4))

    def forward(self, rest, feat, z):
        """rest [B, N, 3] (cx, cy, area); feat [B, F]; z [B, Z] -> [B, N, 4] raw
        (released as a logit)."""
        cx, cy, area = rest[..., 0:1], rest[..., 1:2], rest[..., 2:3]
        xy = torch.cat([cx, cy], -1)[..., None] * self.pfreq        # [B, N, 2, nf]
        pe = torch.cat([torch.sin(xy), torch.cos(xy)], -1).flatten(2)
        la = torch.log(area.clamp(min=1e-5) * MAX_FRAGMENTS) / 3.0
        p = self.pos(torch.cat([2 * cx - 1, cy, la, pe], -1))
        c = self.cond(torch.cat([feat, z], 1))[:, None, :]
        return self.body(p + c)


class CollapseModel(nn.Module):
    """Both components behind one conditioning."""

    def __init__(self, z_dim=LATENT_DIM):
        super().__init__()
        self.z_dim = z_dim
        self.cond = Conditioning()
        self.dust = DustGenerator(self.cond.dim, z_dim)
        self.frag = FragmentMotion(self.cond.dim, z_dim)

    def forward(self, t, z, controls, aspect, rest=None):
        feat = self.cond(t, controls, aspect)
        dens = self.dust(feat, z)
        frag = self.frag(rest, feat, z) if rest is not None else None
        return dens, frag


class CollapseFrame(nn.Module):
    """The exported per-frame graph (unbatched):
      progress [1], latent [Z], controls [5] (raw), aspect [1],
      fragments_rest [256, 4] (cx, cy, area, alive)
      -> density [1, 1, 64, 96], fragments [256, 4] (dx, dy, angle, released prob.),
    dead slots (alive 0) give zeros."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, progress, latent, controls, aspect, fragments_rest):
        dens, frag = self.model(progress, latent[None], controls[None], aspect,
                                fragments_rest[None, :, :3])
        frag = frag[0]
        out = torch.cat([frag[:, :3], torch.sigmoid(frag[:, 3:4])], 1)
        return dens, out * fragments_rest[:, 3:4]


def seed_latent(seed, z_dim=LATENT_DIM):
    """The inference latent of a seed: a fixed standard Gaussian draw."""
    import numpy as np
    return np.random.default_rng(int(seed)).standard_normal(z_dim).astype(np.float32)
