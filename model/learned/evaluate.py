"""Evaluate the learned generator on the held-out test split.

  target/venv/bin/python -m model.learned.evaluate --data target/dataset \
      --model target/learned [--fit-steps 25] [--ref-sims 10]

Generation (the honest setting): z = seed_latent(sim seed), nothing fitted to the
test sim. Reconstruction (for reference): z optimised on a few frames of each test
sim with the network frozen. Prints a markdown table, writes MODEL/eval.json and
MODEL/sheet.png (rows: test sims; columns: progress; each cell sim | generator).
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch

from .data import load_split, rest_table
from .networks import LATENT_DIM, CollapseModel, seed_latent
from .train import band_matrix, band_power, setup_torch

P_LO, P_HI = 0.1, 1.0


def load_model(root):
    ck = torch.load(os.path.join(root, "checkpoint.pt"), map_location="cpu", weights_only=False)
    if "config" not in ck:
        raise SystemExit(f"{root}/checkpoint.pt predates the format-2 generator (no 'config'); retrain it")
    # (format 2's first checkpoints predate these keys: the conv decoder, z read by the
    # fragments)
    m = CollapseModel(ck["latent_dim"], dict({"dust_decoder": "conv", "frag_latent": True},
                                             **ck["config"]))
    m.load_state_dict(ck["model"])
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    return m, ck


def generate(model, z, controls, aspect, progress, rest):
    """All frames of all sims: z [N, Z], controls [N, 5], aspect [N], progress [T],
    rest [N, 256, 3] -> density [N, T, 64, 96], fragments [N, T, 256, 4] (raw)."""
    N, T = z.shape[0], progress.shape[0]
    D, Fr = [], []
    with torch.no_grad():
        for i in range(N):
            t = progress
            zz = z[i:i + 1].expand(T, -1)
            d, f = model(t, zz, controls[i:i + 1].expand(T, -1), aspect[i:i + 1].expand(T),
                         rest[i:i + 1].expand(T, -1, -1))
            D.append(d[:, 0])
            Fr.append(f)
    return torch.stack(D), torch.stack(Fr)


def fit_latents(model, te, steps, n_frames=4, seed=0):
    """Reconstruction: per test sim z by Adam on n_frames frames (network frozen)."""
    N, T = te["density"].shape[:2]
    g = torch.Generator().manual_seed(seed)
    fr = np.linspace(int(0.1 * (T - 1)), T - 1, n_frames).round().astype(int)
    dens = torch.from_numpy(te["density"][:, fr].astype(np.float32))
    tab = torch.from_numpy(te["fragments"][:, fr])
    prog = torch.from_numpy(te["progress"][fr])
    ctrl = torch.from_numpy(te["controls"])
    asp = torch.from_numpy(te["aspect"])
    z = torch.zeros(N, LATENT_DIM, requires_grad=True)
    opt = torch.optim.Adam([z], lr=0.1)
    s = float(dens.mean())
    for _ in range(steps):
        zz = z[:, None].expand(-1, n_frames, -1).reshape(-1, LATENT_DIM)
        t = prog[None].expand(N, -1).reshape(-1)
        c = ctrl[:, None].expand(-1, n_frames, -1).reshape(-1, 5)
        a = asp[:, None].expand(-1, n_frames).reshape(-1)
        tb = tab.reshape(-1, 256, 8)
        d, f = model(t, zz, c, a, tb[..., [0, 1, 7]])
        al = tb[..., 6]
        lf = (((f[..., 0] - tb[..., 2]).abs() + (f[..., 1] - tb[..., 3]).abs()) * al).sum() / al.sum()
        loss = (d[:, 0] - dens.reshape(-1, 64, 96)).abs().mean() / s + lf + 0.01 * (z ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    del g
    return z.detach()


def rel_l1(g, s):
    return float((g - s).abs().sum() / s.abs().sum().clamp(min=1e-12))


def spectrum_ratio(g, s, M):
    """Frame-averaged radial power per band (generator / sim)."""
    pg = band_power(g.reshape(-1, 1, 64, 96), M).mean(0)
    ps = band_power(s.reshape(-1, 1, 64, 96), M).mean(0)
    return (pg / ps.clamp(min=1e-20)).numpy()


def coherence(d):
    """d [N, T, H, W] -> mean |f(t+2) - f(t)| / mean |f(t+1) - f(t)|."""
    d1 = (d[:, 1:] - d[:, :-1]).abs().mean()
    d2 = (d[:, 2:] - d[:, :-2]).abs().mean()
    return float(d2 / d1.clamp(min=1e-12))


def frag_errors(f, te, sel):
    """Mean abs error over alive slots and frames sel: dx in region heights, dy, angle."""
    tab = torch.from_numpy(te["fragments"][:, sel])
    al = tab[..., 6]
    n = al.sum()
    a = torch.from_numpy(te["aspect"])[:, None, None]
    f = f[:, sel]
    dx = (((f[..., 0] - tab[..., 2]) * a).abs() * al).sum() / n
    dy = ((f[..., 1] - tab[..., 3]).abs() * al).sum() / n
    da = ((f[..., 2] - tab[..., 4]).abs() * al).sum() / n
    rel = (((f[..., 3] > 0).float() != tab[..., 5]).float() * al).sum() / n
    base = ((tab[..., 2] * a).abs() * al).sum() / n, (tab[..., 3].abs() * al).sum() / n, \
        (tab[..., 4].abs() * al).sum() / n
    return {"dx": float(dx), "dy": float(dy), "angle": float(da), "released_err": float(rel),
            "static_dx": float(base[0]), "static_dy": float(base[1]), "static_angle": float(base[2])}


def onnx_speed(path, threads, runs=40):
    import onnxruntime as ort
    from .train import example_inputs, INPUT_NAMES
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feeds = {n: a.numpy() for n, a in zip(INPUT_NAMES, example_inputs())}
    for _ in range(5):
        sess.run(None, feeds)
    ts = []
    for k in range(runs):
        feeds["progress"] = np.array([k / runs], np.float32)
        t0 = time.perf_counter()
        sess.run(None, feeds)
        ts.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(ts))


def reference_runs(te, ids):
    """Re-simulate test sims with the same controls/aspect and another seed: the
    same-controls diversity of the reference, and its cost per frame."""
    from model.reference import CONTROL_NAMES
    from model.reference.sim import Simulation
    out, ms = [], []
    T = te["density"].shape[1]
    for i in ids:
        ctrl = dict(zip(CONTROL_NAMES, te["controls"][i].tolist()))
        sim = Simulation(int(te["seeds"][i]) + 1, float(te["aspect"][i]), ctrl, frames=T)
        st = sim.run()
        out.append(st["density"])
        ms.append(sim.timing()["total_ms"])
    return np.stack(out), ms


def colour(d):
    """Optical depth -> RGB uint8 (alpha = 1 - exp(-d), dust tint on black)."""
    a = 1.0 - np.exp(-np.clip(d, 0, None))
    rgb = np.stack([a * 235, a * 215, a * 185], -1)
    return rgb.clip(0, 255).astype(np.uint8)


def contact_sheet(path, sim, gen, progress, rows, cols_p, scale=2):
    from PIL import Image, ImageDraw
    T = len(progress)
    cols = [int(np.argmin(np.abs(progress - p))) for p in cols_p]
    h, w = 64 * scale, 96 * scale
    gap, lab = 6, 14
    W = len(cols) * (2 * w + gap) + gap
    H = len(rows) * (h + gap) + gap + lab
    img = Image.new("RGB", (W, H), (40, 40, 60))
    dr = ImageDraw.Draw(img)
    for c, k in enumerate(cols):
        dr.text((gap + c * (2 * w + gap) + 4, 2), f"p={progress[k]:.2f}  sim | generator", fill=(255, 255, 255))
    for r, i in enumerate(rows):
        for c, k in enumerate(cols):
            for j, src in enumerate((sim, gen)):
                im = Image.fromarray(colour(src[i, k])).resize((w, h), Image.NEAREST)
                img.paste(im, (gap + c * (2 * w + gap) + j * w, lab + gap + r * (h + gap)))
    img.save(path)
    del T


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m model.learned.evaluate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="target/dataset")
    ap.add_argument("--model", default="target/learned")
    ap.add_argument("--fit-steps", type=int, default=25)
    ap.add_argument("--ref-sims", type=int, default=10)
    ap.add_argument("--sheet-rows", type=int, default=4)
    a = ap.parse_args(argv)
    setup_torch(0)
    t0 = time.perf_counter()
    model, ck = load_model(a.model)
    te = load_split(a.data, "test")
    N, T = te["density"].shape[:2]
    prog = torch.from_numpy(te["progress"])
    sel = np.nonzero((te["progress"] >= P_LO - 1e-6) & (te["progress"] <= P_HI + 1e-6))[0]
    ctrl = torch.from_numpy(te["controls"])
    asp = torch.from_numpy(te["aspect"])
    rest = torch.from_numpy(rest_table(te["fragments"][:, 0]))[..., :3]
    sim = torch.from_numpy(te["density"].astype(np.float32))
    seeds = te["seeds"]
    z1 = torch.from_numpy(np.stack([seed_latent(s) for s in seeds]))
    z2 = torch.from_numpy(np.stack([seed_latent(int(s) + 1) for s in seeds]))
    g1, f1 = generate(model, z1, ctrl, asp, prog, rest)
    g2, _ = generate(model, z2, ctrl, asp, prog, rest)
    M, edges = band_matrix()
    R = {"n_test_sims": N, "frames": T}
    R["gen_rel_l1"] = rel_l1(g1[:, sel], sim[:, sel])
    R["gen_rel_l1_per_sim_median"] = float(np.median([rel_l1(g1[i, sel], sim[i, sel]) for i in range(N)]))
    zero_mean = torch.zeros_like(sim)
    R["zero_rel_l1"] = rel_l1(zero_mean[:, sel], sim[:, sel])
    sr = spectrum_ratio(g1[:, sel], sim[:, sel], M)
    R["spectrum_ratio_bands"] = [round(float(x), 3) for x in sr]
    R["spectrum_ratio_min"], R["spectrum_ratio_max"] = float(sr.min()), float(sr.max())
    # the same on alpha = 1 - exp(-density) (what is seen; density's spectrum is
    # dominated by the saturated core)
    sa = spectrum_ratio(1 - torch.exp(-g1[:, sel]), 1 - torch.exp(-sim[:, sel]), M)
    R["alpha_spectrum_ratio_bands"] = [round(float(x), 3) for x in sa]
    R["alpha_spectrum_ratio_min"], R["alpha_spectrum_ratio_max"] = float(sa.min()), float(sa.max())
    R["frag_gen"] = frag_errors(f1, te, sel)
    # diversity
    R["div_gen_two_seeds"] = float((g1[:, sel] - g2[:, sel]).abs().mean())
    perm = np.roll(np.arange(N), 1)
    R["div_sim_pairs_of_test_sims"] = float((sim[:, sel] - sim[perm][:, sel]).abs().mean())
    R["coherence_gen"] = coherence(g1[:, sel[0]:sel[-1] + 1])
    R["coherence_sim"] = coherence(sim[:, sel[0]:sel[-1] + 1])
    # reconstruction
    if a.fit_steps > 0:
        tf = time.perf_counter()
        zf = fit_latents(model, te, a.fit_steps)
        gf, ff = generate(model, zf, ctrl, asp, prog, rest)
        R["fit_rel_l1"] = rel_l1(gf[:, sel], sim[:, sel])
        srf = spectrum_ratio(gf[:, sel], sim[:, sel], M)
        R["fit_spectrum_ratio_min"], R["fit_spectrum_ratio_max"] = float(srf.min()), float(srf.max())
        R["frag_fit"] = frag_errors(ff, te, sel)
        R["fit_seconds"] = time.perf_counter() - tf
    # reference re-runs: same controls, other seed
    ids = list(range(min(a.ref_sims, N)))
    if ids:
        ref, ms = reference_runs(te, ids)
        ref = torch.from_numpy(ref)
        R["div_sim_same_controls"] = float((ref[:, sel] - sim[ids][:, sel]).abs().mean())
        # the reference against itself: the same controls and aspect, another seed (the
        # chaos in the seed alone; what a generator drawing z from the seed is up against)
        R["sim_rerun_rel_l1"] = rel_l1(ref[:, sel], sim[ids][:, sel])
        R["gen_rel_l1_same_sims"] = rel_l1(g1[ids][:, sel], sim[ids][:, sel])
        R["div_gen_same_sims"] = float((g1[ids][:, sel] - g2[ids][:, sel]).abs().mean())
        R["ref_ms_per_frame"] = float(np.mean(ms))
    # speed
    for tag, fn in (("fp32", "collapse_generator.onnx"), ("fp16", "collapse_generator.fp16.onnx")):
        p = os.path.join(a.model, fn)
        for th in (1, 2):
            R[f"onnx_{tag}_ms_{th}t"] = onnx_speed(p, th)
        R[f"onnx_{tag}_MB"] = os.path.getsize(p) / 1e6
    if "ref_ms_per_frame" in R:
        R["speedup_fp32_1t"] = R["ref_ms_per_frame"] / R["onnx_fp32_ms_1t"]
        R["speedup_fp32_2t"] = R["ref_ms_per_frame"] / R["onnx_fp32_ms_2t"]
    rows = list(range(min(a.sheet_rows, N)))
    contact_sheet(os.path.join(a.model, "sheet.png"), sim.numpy(), g1.numpy(), te["progress"], rows,
                  [0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.0])
    R["eval_seconds"] = time.perf_counter() - t0
    with open(os.path.join(a.model, "eval.json"), "w") as f:
        json.dump(R, f, indent=1)
    fg = R["frag_gen"]
    lines = [
        "| metric | value | target |", "| --- | --- | --- |",
        f"| density rel. L1, p 0.1-1, generation (seed z) | {R['gen_rel_l1']:.3f} (per-sim median {R['gen_rel_l1_per_sim_median']:.3f}; all-zero field: {R['zero_rel_l1']:.2f}) | <= 0.2 |",
    ]
    if "fit_rel_l1" in R:
        lines.append(f"| density rel. L1, reconstruction (z fitted on 4 frames, %d Adam steps)" % a.fit_steps + f" | {R['fit_rel_l1']:.3f} | (reference) |")
    lines += [
        f"| power spectrum gen/sim per band, min / max | {R['spectrum_ratio_min']:.2f} / {R['spectrum_ratio_max']:.2f} | 0.5 / 2 |",
        f"| alpha (1 - exp(-density)) power spectrum gen/sim per band, min / max | {R['alpha_spectrum_ratio_min']:.2f} / {R['alpha_spectrum_ratio_max']:.2f} | 0.5 / 2 |",
        f"| fragments mean abs dx, dy (region heights), angle (rad) | {fg['dx']:.3f}, {fg['dy']:.3f}, {fg['angle']:.3f} (static: {fg['static_dx']:.3f}, {fg['static_dy']:.3f}, {fg['static_angle']:.3f}); released wrong {100 * fg['released_err']:.1f}% | |",
    ]
    if "frag_fit" in R:
        ff = R["frag_fit"]
        lines.append(f"| fragments, reconstruction z: dx, dy, angle | {ff['dx']:.3f}, {ff['dy']:.3f}, {ff['angle']:.3f} | |")
    if "div_sim_same_controls" in R:
        lines.append(f"| density rel. L1 on {len(ids)} test sims: the reference rerun with another seed / the generator | {R['sim_rerun_rel_l1']:.3f} / {R['gen_rel_l1_same_sims']:.3f} | (the seed's chaos) |")
        lines.append(f"| diversity: L1 two seeds (gen) vs same controls other seed (sim), {len(ids)} sims | {R['div_gen_same_sims']:.3f} vs {R['div_sim_same_controls']:.3f} | similar |")
    lines += [
        f"| diversity: L1 two seeds (gen, all test) vs pairs of test sims | {R['div_gen_two_seeds']:.3f} vs {R['div_sim_pairs_of_test_sims']:.3f} | |",
        f"| coherence d(t,t+2)/d(t,t+1), gen (sim) | {R['coherence_gen']:.2f} ({R['coherence_sim']:.2f}) | >= 1.6 |",
        f"| ONNX fp32 ms/frame, 1 / 2 threads | {R['onnx_fp32_ms_1t']:.2f} / {R['onnx_fp32_ms_2t']:.2f} | |",
        f"| ONNX fp16 ms/frame, 1 / 2 threads | {R['onnx_fp16_ms_1t']:.2f} / {R['onnx_fp16_ms_2t']:.2f} | |",
    ]
    if "ref_ms_per_frame" in R:
        lines.append(f"| reference sim ms/frame (rigid + smoke + export) / speed-up (fp32 1t, 2t) | {R['ref_ms_per_frame']:.1f} / {R['speedup_fp32_1t']:.0f}x, {R['speedup_fp32_2t']:.0f}x | >= 100x |")
    print("\n".join(lines))
    print("spectrum ratio per band (low -> high freq):", R["spectrum_ratio_bands"])
    print("alpha spectrum ratio per band:", R["alpha_spectrum_ratio_bands"])
    print(f"evaluated in {R['eval_seconds']:.0f} s")


if __name__ == "__main__":
    main()
