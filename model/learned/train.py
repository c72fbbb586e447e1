"""Train the learned collapse generator on the reference data set and export it.

  target/venv/bin/python -m model.learned.train --data target/dataset \
      --out target/learned [--steps 6000] [--minutes 45] [--batch 24] [--seed 0]
  target/venv/bin/python -m model.learned.train --mini --out target/learned-mini

Auto-decoder (GLO): every training simulation owns a learned latent, kept close to
N(0, I) (an L2 penalty plus matching the table's mean and covariance to N(0, I)),
so a seed's standard Gaussian draw is an in-distribution latent at inference.
Losses: density L1 + L1 of its spatial gradients (Deep Fluids) + L1 on sqrt-density
(dynamic range) + a radial power-spectrum term (keeps the fine scales, no blur);
fragments: L1 on dx (region heights), dy, angle for alive slots, BCE on released.

--steps fixes the run (reproducible for a seed); --minutes is a wall-clock cap
that stops early (and says so): the cosine learning-rate schedule follows steps
or wall clock, whichever is further along, so a capped run still anneals (but is
then not bit-reproducible). Writes OUT/checkpoint.pt, OUT/collapse_generator.onnx,
OUT/collapse_generator.fp16.onnx and OUT/train_log.json.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from .data import load_split
from .networks import LATENT_DIM, MAX_FRAGMENTS, CollapseFrame, CollapseModel, count_macs

N_BANDS = 12


def setup_torch(seed, threads=1):
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(seed)
    np.random.seed(seed)


def band_matrix(rows=64, cols=96, n_bands=N_BANDS):
    """[n_bands, rows * (cols // 2 + 1)] averaging matrix of the rfft2 power into
    log-spaced radial frequency bands (cycles per row-cell, DC excluded)."""
    ky = np.fft.fftfreq(rows)[:, None]
    kx = np.fft.rfftfreq(cols)[None, :]
    r = np.sqrt(ky ** 2 + kx ** 2)
    edges = np.geomspace(1.0 / rows, 0.5 * math.sqrt(2) + 1e-6, n_bands + 1)
    M = np.zeros((n_bands, r.size), np.float32)
    rf = r.ravel()
    for b in range(n_bands):
        m = (rf >= edges[b]) & (rf < edges[b + 1])
        if m.any():
            M[b, m] = 1.0 / m.sum()
    keep = M.sum(1) > 0
    return torch.from_numpy(M[keep]), edges


def band_power(d, M):
    """d [B, 1, H, W] -> radially averaged power [B, n_bands]."""
    P = torch.fft.rfft2(d[:, 0], norm="ortho").abs() ** 2
    return P.flatten(1) @ M.T


def grad_l1(a, b):
    gx = (a[..., :, 1:] - a[..., :, :-1]) - (b[..., :, 1:] - b[..., :, :-1])
    gy = (a[..., 1:, :] - a[..., :-1, :]) - (b[..., 1:, :] - b[..., :-1, :])
    return gx.abs().mean() + gy.abs().mean()


def latent_reg(table):
    """L2 toward 0 (GLO) plus mean/covariance matching to N(0, I)."""
    z = table
    l2 = (z ** 2).mean()
    mu = z.mean(0)
    zc = z - mu
    cov = zc.T @ zc / max(1, z.shape[0] - 1)
    eye = torch.eye(z.shape[1])
    return 1e-3 * l2 + 0.1 * ((mu ** 2).sum() + ((cov - eye) ** 2).sum() / z.shape[1])


class Losses:
    def __init__(self, dens_scale, w_spec=1.0, w_grad=1.0, w_spec_alpha=1.0):
        self.M, _ = band_matrix()
        self.s = dens_scale            # mean density of the data (losses ~ O(1))
        self.w_spec, self.w_grad, self.w_spec_alpha = w_spec, w_grad, w_spec_alpha

    def density(self, q_pred, d_true):
        d_pred = q_pred * q_pred
        l_d = (d_pred - d_true).abs().mean() / self.s
        l_g = grad_l1(d_pred, d_true) / self.s
        l_q = (q_pred - torch.sqrt(d_true)).abs().mean() / math.sqrt(self.s)
        bp, bt = band_power(d_pred, self.M), band_power(d_true, self.M)
        eps = 1e-6 * self.s ** 2
        l_s = (torch.log(bp + eps) - torch.log(bt + eps)).abs().mean()
        out = {"dens": l_d, "grad": self.w_grad * l_g, "sqrt": 0.5 * l_q, "spec": self.w_spec * l_s}
        if self.w_spec_alpha:
            # the same on alpha = 1 - exp(-density), what is seen: texture in the thin,
            # semi-transparent dust, not only in the saturated core
            ap, at = band_power(1 - torch.exp(-d_pred), self.M), band_power(1 - torch.exp(-d_true), self.M)
            out["spec_alpha"] = self.w_spec_alpha * (torch.log(ap + 1e-7) - torch.log(at + 1e-7)).abs().mean()
        return out

    @staticmethod
    def fragments(out, tab, aspect):
        """out [B, 256, 4] raw; tab [B, 256, 8] frame table; aspect [B]."""
        alive = tab[..., 6]
        n = alive.sum().clamp(min=1)
        dx = ((out[..., 0] - tab[..., 2]) * aspect[:, None]).abs()
        dy = (out[..., 1] - tab[..., 3]).abs()
        da = (out[..., 2] - tab[..., 4]).abs()
        bce = F.binary_cross_entropy_with_logits(out[..., 3], tab[..., 5], reduction="none")
        return {"frag_xy": ((dx + dy) * alive).sum() / n,
                "frag_ang": 0.2 * (da * alive).sum() / n,
                "frag_rel": 0.2 * (bce * alive).sum() / n}


def make_mini_data(out):
    """Two tiny reference simulations (1 train, 1 test) for the CI run."""
    from model.reference.dataset import generate
    generate(2, out, shard_size=1, jobs=1, base_seed=0, frames=12, res=24, log=lambda s: None)
    return out


def train(args):
    setup_torch(args.seed, args.threads)
    t_start = time.perf_counter()
    tr = load_split(args.data, "train")
    if tr is None:
        sys.exit(f"no train shards in {args.data}")
    n_sim, n_t = tr["density"].shape[:2]
    dens = torch.from_numpy(tr["density"])                    # float16 [N, T, 64, 96]
    frags = torch.from_numpy(tr["fragments"])                 # [N, T, 256, 8]
    ctrl = torch.from_numpy(tr["controls"])
    asp = torch.from_numpy(tr["aspect"])
    prog = torch.from_numpy(tr["progress"])
    dens_scale = float(dens.float().mean())
    print(f"data: {n_sim} train sims x {n_t} frames, mean density {dens_scale:.3f} "
          f"(loaded in {time.perf_counter() - t_start:.1f} s)", flush=True)

    config = json.loads(args.config) if args.config else None
    model = CollapseModel(LATENT_DIM, config)
    latents = torch.nn.Parameter(torch.randn(n_sim, LATENT_DIM))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f} M parameters (dust {sum(p.numel() for p in model.dust.parameters()) / 1e6:.2f} M, "
          f"fragments {sum(p.numel() for p in model.frag.parameters()) / 1e6:.2f} M), latent {LATENT_DIM}, "
          f"{count_macs(model) / 1e6:.1f} M MACs per frame", flush=True)
    opt = torch.optim.Adam([{"params": model.parameters(), "lr": args.lr},
                            {"params": [latents], "lr": args.lr_latent}])
    losses = Losses(dens_scale, args.w_spec, args.w_grad, args.w_spec_alpha)
    gen = torch.Generator().manual_seed(args.seed)
    log = []
    steps_done = 0
    t_loop = time.perf_counter()
    capped = False
    for step in range(args.steps):
        warm = min(1.0, (step + 1) / max(1, args.steps // 50))
        # schedule position: steps done, or wall clock used, whichever is further
        # (so a run that hits --minutes still ends with a decayed learning rate)
        frac = step / args.steps
        if args.minutes:
            frac = max(frac, (time.perf_counter() - t_loop) / (60 * args.minutes - (t_loop - t_start)))
        cos = 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
        for g, base in zip(opt.param_groups, (args.lr, args.lr_latent)):
            g["lr"] = base * warm * (0.05 + 0.95 * cos)
        si = torch.randint(0, n_sim, (args.batch,), generator=gen)
        ti = torch.randint(0, n_t, (args.batch,), generator=gen)
        d_true = dens[si, ti].float()[:, None]
        tab = frags[si, ti]
        z = latents[si] + args.z_noise * torch.randn(args.batch, LATENT_DIM, generator=gen)
        rest = tab[..., [0, 1, 7]]
        feat = model.cond(prog[ti], ctrl[si], asp[si])
        q = model.dust(feat, z, return_sqrt=True)
        fo = model.frag(rest, feat, z)
        parts = losses.density(q, d_true)
        parts.update(losses.fragments(fo, tab, asp[si]))
        parts["latent"] = latent_reg(latents)
        loss = sum(parts.values())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps_done = step + 1
        if step % args.log_every == 0 or step == args.steps - 1:
            el = time.perf_counter() - t_loop
            row = {"step": step, "time_s": round(el, 1), "lr": round(opt.param_groups[0]["lr"], 6), "loss": round(float(loss), 4)}
            row.update({k: round(float(v), 4) for k, v in parts.items()})
            log.append(row)
            print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        if args.minutes and time.perf_counter() - t_start > 60 * args.minutes:
            capped = True
            print(f"wall-clock cap of {args.minutes} min reached after {steps_done} steps", flush=True)
            break
    t_train = time.perf_counter() - t_loop
    print(f"training: {steps_done} steps in {t_train / 60:.1f} min "
          f"({steps_done / max(t_train, 1e-9):.2f} it/s, batch {args.batch})", flush=True)

    os.makedirs(args.out, exist_ok=True)
    ck = {"model": model.state_dict(), "latents": latents.detach(),
          "train_index": torch.from_numpy(tr["index"]), "latent_dim": LATENT_DIM,
          "config": model.config, "format": 2,
          "dens_scale": dens_scale, "args": vars(args), "steps": steps_done,
          "capped": capped, "train_seconds": t_train}
    torch.save(ck, os.path.join(args.out, "checkpoint.pt"))
    info = export(model, args.out)
    info.update({"steps": steps_done, "train_minutes": round(t_train / 60, 2), "capped": capped,
                 "total_minutes": round((time.perf_counter() - t_start) / 60, 2),
                 "params": n_params, "log": log})
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"total: {(time.perf_counter() - t_start) / 60:.1f} min", flush=True)
    return model


def example_inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    rest = torch.zeros(MAX_FRAGMENTS, 4)
    n = 120
    rest[:n, 0] = torch.rand(n, generator=g)
    rest[:n, 1] = torch.rand(n, generator=g)
    rest[:n, 2] = 1.0 / n
    rest[:n, 3] = 1.0
    return (torch.tensor([0.45]), torch.randn(LATENT_DIM, generator=g),
            torch.tensor([0.3, 1.0, 1.0, 1.0, 1.0]), torch.tensor([1.2]), rest)


INPUT_NAMES = ["progress", "latent", "controls", "aspect", "fragments_rest"]
OUTPUT_NAMES = ["density", "fragments"]


def export(model, out):
    """ONNX export (fp32 + fp16), metadata, and an onnxruntime-vs-torch check."""
    import onnx
    import onnxruntime as ort
    from onnxconverter_common import float16

    model.eval()
    frame = CollapseFrame(model).eval()
    args = example_inputs()
    path = os.path.join(out, "collapse_generator.onnx")
    path16 = os.path.join(out, "collapse_generator.fp16.onnx")
    with torch.no_grad():
        torch.onnx.export(frame, args, path, input_names=INPUT_NAMES, output_names=OUTPUT_NAMES,
                          opset_version=18, dynamo=False)
    m = onnx.load(path)
    meta = {
        "collapse.stage": "per-frame",
        "collapse.latent_dim": str(LATENT_DIM),
        "collapse.inputs": "progress[1] f32 in [0,1.25]; latent[%d] f32 (seed: "
                           "numpy default_rng(seed).standard_normal); controls[5] f32 raw "
                           "(direction, fragment_size, gravity, dust_amount, dust_spread); "
                           "aspect[1] f32 (width/height); fragments_rest[256,4] f32 "
                           "(rest cx/aspect, rest cy, area fraction, alive)" % LATENT_DIM,
        "collapse.outputs": "density[1,1,64,96] f32 optical depth over the affected area, "
                            "rows top-first; fragments[256,4] f32 (dx/aspect, dy, angle rad "
                            "CCW, released probability), zero for dead slots",
        "collapse.grid": "64x96 over x in [-0.75a, 1.75a], y in [-0.06, 1.6]",
        "collapse.producer": "model/learned/train.py",
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)
    m16 = float16.convert_float_to_float16(m, keep_io_types=True)
    onnx.save(m16, path16)

    feeds = {n: a.numpy() for n, a in zip(INPUT_NAMES, args)}
    with torch.no_grad():
        ref = [o.numpy() for o in frame(*args)]
    res = {}
    for tag, p in (("fp32", path), ("fp16", path16)):
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        sess = ort.InferenceSession(p, so, providers=["CPUExecutionProvider"])
        outs = sess.run(OUTPUT_NAMES, feeds)
        diff = [float(np.abs(o - r).max()) for o, r in zip(outs, ref)]
        res[tag] = {"density_max_abs": diff[0], "fragments_max_abs": diff[1],
                    "density_max": float(ref[0].max()), "bytes": os.path.getsize(p)}
        print(f"onnx {tag}: {os.path.getsize(p) / 1e6:.2f} MB, ORT vs torch max abs diff "
              f"density {diff[0]:.2e} (max {ref[0].max():.3f}), fragments {diff[1]:.2e}", flush=True)
        limit = (1e-4 if tag == "fp32" else 2e-2) * max(1.0, float(ref[0].max()))
        if max(diff) > limit:
            sys.exit(f"the {tag} export disagrees with torch: max abs diff {max(diff):.2e} > {limit:.1e}")
    return {"onnx": res}


def parse(argv=None):
    ap = argparse.ArgumentParser(prog="python -m model.learned.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="target/dataset")
    ap.add_argument("--out", default="target/learned")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--minutes", type=float, default=55.0, help="wall-clock cap (0: none)")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-latent", type=float, default=1e-2)
    ap.add_argument("--z-noise", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--w-spec", type=float, default=1.0, help="weight of the log band-power loss")
    ap.add_argument("--w-spec-alpha", type=float, default=1.0,
                    help="weight of the log band-power loss on alpha = 1 - exp(-density)")
    ap.add_argument("--w-grad", type=float, default=1.0, help="weight of the gradient L1 loss")
    ap.add_argument("--config", default="", help="JSON overrides of networks.DEFAULT_CONFIG")
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--mini", action="store_true",
                    help="CI: 2 tiny generated sims, a few steps, export (under 2 min)")
    a = ap.parse_args(argv)
    if a.mini:
        a.data = make_mini_data(os.path.join(a.out, "mini-data"))
        a.steps, a.batch, a.log_every = 20, 4, 5
    return a


def main(argv=None):
    train(parse(argv))


if __name__ == "__main__":
    main()
