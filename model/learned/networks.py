"""The learned collapse generator: torch modules, one per component.

Conditioning (per simulation): a latent z (LATENT_DIM, drawn from the seed at
inference), the five controls and the aspect. Per frame: progress t in [0, 1.25].

  Conditioning   raw controls / aspect / progress -> normalised feature vector
                 (done inside the graph, so the ONNX file takes raw values)
  DustGenerator  features -> MLP -> 4x6xC tensor -> three cheap x2 upsampling
                 blocks (depthwise-separable residual convolutions) -> 32x48 ->
                 3x3 head -> bilinear x2 -> base log sqrt-density and a detail
                 amplitude at 64x96 (Deep Fluids style: a continuous
                 function of t, so consecutive frames are coherent by construction)
  DetailNoise    procedural, band-limited noise fields at 64x96 that evolve
                 smoothly in (physical) time, with per-seed phases: the fine-scale
                 texture the deterministic decoder cannot place (the dust is chaotic
                 given the controls), scaled per pixel by the decoder's amplitudes
  FragmentMotion per fragment slot MLP: (rest cx, cy, area, features) ->
                 (dx, dy, angle, released logit)
  CollapseFrame  the per-frame graph exported to ONNX (all of the above)

The architecture sizes live in one dict (DEFAULT_CONFIG); the checkpoint stores it,
so evaluate.load_model rebuilds exactly what was trained.
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

DEFAULT_CONFIG = {
    # dust decoder: "basis" (the trunk's features times a learned basis of 32x48 fields:
    # one matrix product) or "conv" (format 2's first decoder: a 4x6xC tensor and three
    # x2 blocks of separable convolutions, channels dust_width at 4x6 .. 32x48)
    "dust_decoder": "basis",
    "dust_basis": 48,          # the basis' size (its rank)
    "dust_hidden": 128,
    "dust_width": (48, 48, 32, 16),
    "dust_separable": True,
    # procedural detail: wavelengths (pixels of the 64x96 grid) of the noise bands,
    # number of rotating field pairs per band, angular rates (rad per unit of tau)
    "detail_wavelengths": (3.0, 6.0, 12.0),
    "detail_pairs": 4,
    "detail_rate": (4.0, 12.0),
    # fragment motion MLP; frag_latent: whether it reads the latent z (format 2's first
    # checkpoints did: with it, the MLP learned each training simulation's scatter and
    # tumbling by its latent, and a seed's latent then drew wrong ones)
    "frag_hidden": 48,
    "frag_layers": 2,
    "frag_latent": False,
}


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
    """x2 bilinear upsampling (nearest leaves visible blocks), then a residual pair
    of convolutions: depthwise 3x3 + pointwise 1x1 each (separable, ~8x cheaper
    than a full 3x3), or full 3x3."""

    def __init__(self, cin, cout, separable=True):
        super().__init__()
        self.skip = nn.Conv2d(cin, cout, 1)
        if separable:
            self.c1 = nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1, groups=cin), nn.Conv2d(cin, cout, 1))
            self.c2 = nn.Sequential(nn.Conv2d(cout, cout, 3, padding=1, groups=cout), nn.Conv2d(cout, cout, 1))
        else:
            self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
            self.c2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        h = self.c2(F.silu(self.c1(F.silu(x))))
        return self.skip(x) + h


def band_noise(n, rows, cols, wavelength, generator, pad=16):
    """n fixed Gaussian noise fields [n, rows * cols], band-pass filtered around
    `wavelength` pixels (a log-Gaussian annulus, half an octave wide), each
    normalised to zero mean and unit variance."""
    H, W = rows + 2 * pad, cols + 2 * pad
    white = torch.randn(n, H, W, generator=generator, dtype=torch.float64)
    ky = torch.fft.fftfreq(H, dtype=torch.float64)[:, None]
    kx = torch.fft.rfftfreq(W, dtype=torch.float64)[None, :]
    k = torch.sqrt(ky ** 2 + kx ** 2).clamp(min=1e-9)
    g = torch.exp(-0.5 * (torch.log2(k * wavelength) / 0.5) ** 2)
    f = torch.fft.irfft2(torch.fft.rfft2(white) * g, s=(H, W))[:, pad:pad + rows, pad:pad + cols]
    f = f - f.mean((1, 2), keepdim=True)
    f = f / f.std(dim=(1, 2), keepdim=True)
    return f.reshape(n, rows * cols).float()


class DetailNoise(nn.Module):
    """Procedural fine-scale detail: per band b, a noise field at 64x96
        N_b(x, tau) = sum_j [cos th_j B_2j(x) + sin th_j B_2j+1(x)] / sqrt(P),
        th_j = w_j tau + phi_j(z),
    with fixed band-limited unit-variance fields B (buffers), fixed rates w_j and
    seed-dependent phases phi = z U (U fixed). Each N_b has unit variance at every
    tau, changes smoothly in time (coherent frames) and differs between seeds.
    forward returns sum_b gain_b N_b (one matmul): the gains set the spectrum."""

    def __init__(self, z_dim, wavelengths, pairs, rate, seed=1234):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        nb = len(wavelengths)
        self.nb, self.pairs = nb, pairs
        fields = torch.cat([band_noise(2 * pairs, ROWS, COLS, lam, g) for lam in wavelengths])
        self.register_buffer("fields", fields / math.sqrt(pairs))   # [nb*2P, H*W]
        lo, hi = rate
        # finer bands evolve faster (eddy turnover time ~ wavelength^(2/3))
        scale = torch.tensor([(min(wavelengths) / lam) ** (2.0 / 3.0) for lam in wavelengths])
        w = lo + (hi - lo) * torch.rand(nb, pairs, generator=g)
        sign = torch.where(torch.rand(nb, pairs, generator=g) < 0.5, -1.0, 1.0)
        self.register_buffer("rates", (w * sign * scale[:, None]).reshape(-1))      # [nb*P]
        self.register_buffer("phase_proj", torch.randn(z_dim, nb * pairs, generator=g))

    def forward(self, tau, z, gains):
        """tau [B], z [B, Z], gains [B, nb] -> noise [B, 1, 64, 96]."""
        th = tau[:, None] * self.rates + z.detach() @ self.phase_proj          # [B, nb*P]
        th = th.view(-1, self.nb, self.pairs, 1)
        coef = torch.cat([torch.cos(th), torch.sin(th)], 3) * gains[:, :, None, None]
        n = coef.reshape(-1, 1, 2 * self.nb * self.pairs) @ self.fields        # [B, 1, H*W]
        return n.view(-1, 1, ROWS, COLS)


class DustGenerator(nn.Module):
    """features (+ z) -> density [B, 1, 64, 96] >= 0, predicted in log space (the
    dust spans ~4 decades; exp is also far cheaper than softplus in onnxruntime):
        log sqrt-density = h + amp * N - 2   (clamped at 3),   density = exp(2 x that)
    h: the decoder's base field; amp = 1.5 sigmoid(a - 2): its detail amplitude;
    N = sum_b gain_b N_b: the procedural noise, band gains 1.5 sigmoid(.) from the MLP.
    The decoder: MLP -> 4x6xC0 -> separable residual x2 blocks (bilinear) to 32x48
    -> a 3x3 head (h, a) -> bilinear x2 to 64x96: smooth, the fine scales come from
    the noise."""

    def __init__(self, cond_dim, z_dim=LATENT_DIM, config=None):
        super().__init__()
        cfg = dict(DEFAULT_CONFIG, **(config or {}))
        width, hidden = tuple(cfg["dust_width"]), cfg["dust_hidden"]
        self.c0 = width[0]
        self.trunk = nn.Sequential(
            nn.Linear(cond_dim + z_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU())
        self.basis = cfg["dust_decoder"] == "basis"
        if self.basis:
            # h and a at 32x48 as a linear combination of learned fields (a reduced-order
            # model): cheap at any resolution of the trunk, one node in ONNX
            self.to_coef = nn.Linear(hidden, cfg["dust_basis"])
            self.to_field = nn.Linear(cfg["dust_basis"], 2 * (ROWS // 2) * (COLS // 2))
        else:
            self.to_grid = nn.Linear(hidden, 4 * 6 * width[0])
            self.blocks = nn.ModuleList(UpBlock(a, b, cfg["dust_separable"])
                                        for a, b in zip(width[:-1], width[1:]))
            assert len(self.blocks) == 3, "dust_width: channels at 4x6, 8x12, 16x24, 32x48"
            self.head = nn.Conv2d(width[-1], 2, 3, padding=1)   # h, a at 32x48
        self.detail = DetailNoise(z_dim, cfg["detail_wavelengths"], cfg["detail_pairs"],
                                  cfg["detail_rate"])
        self.to_gains = nn.Linear(hidden, self.detail.nb)

    def forward(self, feat, z, return_sqrt=False, detail=True):
        b = feat.shape[0]
        hid = self.trunk(torch.cat([feat, z], 1))
        if self.basis:
            x = self.to_field(self.to_coef(hid)).view(b, 2, ROWS // 2, COLS // 2)
        else:
            x = self.to_grid(hid).view(b, self.c0, 4, 6)
            for blk in self.blocks:
                x = blk(x)
            x = self.head(F.silu(x))
        y = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)  # [B, 2, 64, 96]
        pre = y[:, 0:1] - 2.0
        if detail:
            gains = 1.5 * torch.sigmoid(self.to_gains(hid))
            noise = self.detail(feat[:, 1], z, gains)               # feat[:, 1] = tau
            amp = 1.5 * torch.sigmoid(y[:, 1:2] - 2.0)
            pre = pre + amp * noise
        pre = pre.clamp(max=3.0)
        return torch.exp(pre) if return_sqrt else torch.exp(2.0 * pre)


class FragmentMotion(nn.Module):
    """Per slot: (rest cx, rest cy, area, features[, z]) -> (dx, dy, angle, released logit).
    Rest position also enters through a few Fourier features (slot-specific motion).
    z_dim 0: the latent is not read."""

    def __init__(self, cond_dim, z_dim=LATENT_DIM, hidden=64, layers=3, n_pos_freqs=4):
        super().__init__()
        self.register_buffer("pfreq", (2.0 ** torch.arange(n_pos_freqs)) * math.pi)
        pos_dim = 3 + 4 * n_pos_freqs
        self.z_dim = z_dim
        self.cond = nn.Linear(cond_dim + z_dim, hidden)
        self.pos = nn.Linear(pos_dim, hidden)
        body = []
        for _ in range(layers):
            body += [nn.SiLU(), nn.Linear(hidden, hidden)]
        self.body = nn.Sequential(*body, nn.SiLU(), nn.Linear(hidden, 4))

    def forward(self, rest, feat, z):
        """rest [B, N, 3] (cx, cy, area); feat [B, F]; z [B, Z] -> [B, N, 4] raw
        (released as a logit)."""
        cx, cy, area = rest[..., 0:1], rest[..., 1:2], rest[..., 2:3]
        xy = torch.cat([cx, cy], -1)[..., None] * self.pfreq        # [B, N, 2, nf]
        pe = torch.cat([torch.sin(xy), torch.cos(xy)], -1).flatten(2)
        la = torch.log(area.clamp(min=1e-5) * MAX_FRAGMENTS) / 3.0
        p = self.pos(torch.cat([2 * cx - 1, cy, la, pe], -1))
        c = self.cond(torch.cat([feat, z], 1) if self.z_dim else feat)[:, None, :]
        return self.body(p + c)


class CollapseModel(nn.Module):
    """All components behind one conditioning. config: DEFAULT_CONFIG overrides."""

    def __init__(self, z_dim=LATENT_DIM, config=None):
        super().__init__()
        self.z_dim = z_dim
        self.config = dict(DEFAULT_CONFIG, **(config or {}))
        self.cond = Conditioning()
        self.dust = DustGenerator(self.cond.dim, z_dim, self.config)
        self.frag = FragmentMotion(self.cond.dim, z_dim if self.config["frag_latent"] else 0,
                                   self.config["frag_hidden"], self.config["frag_layers"])

    def forward(self, t, z, controls, aspect, rest=None):
        feat = self.cond(t, controls, aspect)
        dens = self.dust(feat, z)
        frag = self.frag(rest, feat, z) if rest is not None else None
        return dens, frag


def _fourier_phases(freqs, n_in):
    """sin and cos of (x0, x1) times `freqs`, in the models' order (x0's sines, its
    cosines, then x1's), as one Sin: x [n_in] (x0, x1 first) @ the matrix [n_in, 4 nf] +
    the phases (pi/2 where a cosine)."""
    nf = freqs.numel()
    ang, ph = torch.zeros(n_in, 4 * nf), torch.zeros(4 * nf)
    for i in range(2):
        for s in range(2):
            cols = slice((2 * i + s) * nf, (2 * i + s + 1) * nf)
            ang[i, cols] = freqs
            ph[cols] = s * math.pi / 2
    return ang, ph


class CollapseFrame(nn.Module):
    """The exported per-frame graph (unbatched):
      progress [1], latent [Z], controls [5] (raw), aspect [1],
      fragments_rest [256, 4] (cx, cy, area, alive)
      -> density [1, 1, 64, 96], fragments [256, 4] (dx, dy, angle, released prob.),
    dead slots (alive 0) give zeros.

    With the basis decoder it computes CollapseModel's function in about half the ONNX
    nodes (onnxruntime's cost per node dominates at this size): the controls'
    normalisation, the log aspect's scale and every constant offset and factor are
    folded into the weights; each sin/cos pair is one Sin with a pi/2 phase; the
    Fourier features, the detail phases and the fragments' first layer each become one
    matrix product. The export checks it against the model in onnxruntime."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.fused = model.dust.basis
        if self.fused:
            with torch.no_grad():
                self._fold(model)

    def _fold(self, model):
        cond, dust, frag = model.cond, model.dust, model.frag
        nf = len(T_FREQS)
        # u = [t, tau, sin of the 4nf phases, raw controls, log aspect, z]; x = u k + m
        # is the model's [features, z]
        n_u = 2 + 4 * nf + N_CONTROLS + 1 + model.z_dim
        k, m = torch.ones(n_u), torch.zeros(n_u)
        c0 = 2 + 4 * nf
        span = cond.hi - cond.lo
        k[c0:c0 + N_CONTROLS] = 2.0 / span
        m[c0:c0 + N_CONTROLS] = -2.0 * cond.lo / span - 1.0
        k[c0 + N_CONTROLS] = 1.0 / LOG_ASPECT_SCALE
        def fold(lin):
            # (A layer that does not read z: zero weights for it.)
            wt = F.pad(lin.weight, (0, n_u - lin.weight.shape[1]))
            return wt * k, lin.bias + wt @ m
        ang, ph = _fourier_phases(cond.freqs, 2)
        self.register_buffer("t_ang", ang)
        self.register_buffer("t_phase", ph)
        w, b = fold(dust.trunk[0])
        self.register_buffer("trunk_w", w)
        self.register_buffer("trunk_b", b)
        w, b = fold(frag.cond)
        # the fragments' first layer's bias joins the conditioning's (one add fewer)
        pw = frag.pos.weight
        b = b + frag.pos.bias - pw[:, 0] + pw[:, 2] * math.log(MAX_FRAGMENTS) / 3.0
        self.register_buffer("fcond_w", w)
        self.register_buffer("fcond_b", b)
        # the fragments' first layer on v = [cx, cy, area, alive, log area, sin of the
        # rest phases]: the model's input is [2 cx - 1, cy, log(area 256) / 3, pe]
        n_pf = frag.pfreq.numel()
        pos = torch.zeros(pw.shape[0], 5 + 4 * n_pf)
        pos[:, 0], pos[:, 1], pos[:, 4] = 2 * pw[:, 0], pw[:, 1], pw[:, 2] / 3.0
        pos[:, 5:] = pw[:, 3:]
        self.register_buffer("pos_w", pos)
        rang, rph = _fourier_phases(frag.pfreq, 4)     # (rows 2, 3: area, alive: none)
        self.register_buffer("rest_ang", rang)
        self.register_buffer("rest_phase", rph)
        # density = exp(2 clamp(h - 2 + 1.5 sigmoid(a - 2) N, 3)), N = sum_b 1.5 sigmoid(g_b) N_b:
        # the basis gives 2h - 4 and a - 2; the fields carry 2 * 1.5 * 1.5
        w, b = dust.to_field.weight.clone(), dust.to_field.bias.clone()
        half = w.shape[0] // 2
        w[:half] *= 2.0
        b[:half] = 2.0 * b[:half] - 4.0
        b[half:] -= 2.0
        self.register_buffer("field_w", w)
        self.register_buffer("field_b", b)
        det = dust.detail
        nb, P = det.nb, det.pairs
        # detail phases th_(b,p) = tau rate + z U; coefficient (b, p, c) = cos (c 0) or sin th
        rot = torch.zeros(n_u, 2 * nb * P)
        dph = torch.zeros(2 * nb * P)
        gain_rows = []
        for band in range(nb):
            for p in range(P):
                j = band * P + p
                for c in range(2):
                    col = band * 2 * P + 2 * p + c
                    rot[1, col] = det.rates[j]
                    rot[n_u - model.z_dim:, col] = det.phase_proj[:, j]
                    dph[col] = (1 - c) * math.pi / 2
                    gain_rows.append(band)
        self.register_buffer("detail_rot", rot)
        self.register_buffer("detail_phase", dph)
        self.register_buffer("gain_w", dust.to_gains.weight[gain_rows])
        self.register_buffer("gain_b", dust.to_gains.bias[gain_rows])
        self.register_buffer("fields", det.fields * 4.5)

    def forward(self, progress, latent, controls, aspect, fragments_rest):
        if not self.fused:
            dens, frag = self.model(progress, latent[None], controls[None], aspect,
                                    fragments_rest[None, :, :3])
            frag = frag[0]
            out = torch.cat([frag[:, :3], torch.sigmoid(frag[:, 3:4])], 1)
            return dens, out * fragments_rest[:, 3:4]
        dust, frag = self.model.dust, self.model.frag
        tt = progress * torch.cat([torch.ones(1), controls[2:3].clamp(min=1e-3).sqrt()])
        four = torch.sin(tt @ self.t_ang + self.t_phase)
        u = torch.cat([tt, four, controls, aspect.clamp(min=1e-3).log(), latent])[None]
        hid = F.silu(F.linear(u, self.trunk_w, self.trunk_b))
        hid = dust.trunk[3](dust.trunk[2](hid))
        field = F.linear(dust.to_coef(hid), self.field_w, self.field_b).reshape(1, 2, ROWS // 2, COLS // 2)
        h, a = F.interpolate(field, scale_factor=2.0, mode="bilinear", align_corners=False).split(1, 1)
        coef = torch.sin(u @ self.detail_rot + self.detail_phase) * \
            torch.sigmoid(F.linear(hid, self.gain_w, self.gain_b))
        noise = (coef @ self.fields).reshape(1, 1, ROWS, COLS)
        dens = torch.exp((h + torch.sigmoid(a) * noise).clamp(max=6.0))
        rest = fragments_rest
        pe = torch.sin(rest @ self.rest_ang + self.rest_phase)
        v = torch.cat([rest, rest[:, 2:3].clamp(min=1e-5).log(), pe], 1)
        x = F.linear(v, self.pos_w) + F.linear(u, self.fcond_w, self.fcond_b)
        out = frag.body(x)
        out = torch.cat([out[:, :3], torch.sigmoid(out[:, 3:4])], 1)
        return dens, out * rest[:, 3:4]


def seed_latent(seed, z_dim=LATENT_DIM):
    """The inference latent of a seed: a fixed standard Gaussian draw."""
    import numpy as np
    return np.random.default_rng(int(seed)).standard_normal(z_dim).astype(np.float32)


def count_macs(model):
    """Multiply-accumulates of one frame (convolutions, linear layers, the detail
    matmul), by forward hooks on a batch of 1."""
    macs = [0]

    def conv(m, i, o):
        if isinstance(m, nn.ConvTranspose2d):
            macs[0] += i[0].numel() * m.out_channels * m.kernel_size[0] * m.kernel_size[1]
            return
        macs[0] += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def lin(m, i, o):
        macs[0] += o.numel() // o.shape[-1] * m.in_features * m.out_features

    hooks = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            hooks.append(m.register_forward_hook(conv))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin))
    rest = torch.rand(1, MAX_FRAGMENTS, 3)
    with torch.no_grad():
        model(torch.tensor([0.5]), torch.zeros(1, model.z_dim), torch.ones(1, N_CONTROLS),
              torch.ones(1), rest)
    for h in hooks:
        h.remove()
    d = model.dust.detail
    return macs[0] + 2 * d.nb * d.pairs * ROWS * COLS
