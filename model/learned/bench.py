"""Speed of the learned generator against the reference simulation, measured side by
side in one run on this machine (collapse-bench prints this table too).

    target/venv/bin/python -m model.learned.bench [--package DIR] [--sims 2] [--frames 48]

Per frame: the reference (rigid bodies + smoke + export of the same per-frame state,
at its default 64 cells per region height) against the package's per-frame stage
(generator.onnx: the network plus the fragments' lattice, which the reference's
state would need as well to be rendered) and against the network alone, in ONNX
Runtime on the CPU.
"""

import argparse
import os
import time

from model.reference import CONTROL_NAMES, default_controls  # sets the threads first

import numpy as np

from .package import N_NOISE, example_inputs

DEFAULT_PACKAGE = "bundle/Contents/Resources/learned.collapse"


def reference_ms(sims, frames):
    from model.reference.sim import Simulation
    ms = []
    for seed in range(sims):
        sim = Simulation(seed + 11, 1.2, default_controls(), frames=frames)
        sim.run()
        ms.append(sim.timing()["total_ms"])
    return float(np.median(ms))


def generator_ms(package, threads, frames):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    session = lambda name: ort.InferenceSession(os.path.join(package, name), so,
                                                providers=["CPUExecutionProvider"])
    x = {k: v.numpy() for k, v in example_inputs().items()}
    x["noise"] = np.random.default_rng(11).standard_normal(N_NOISE).astype(np.float32)
    shot = dict(x, scene=x["scene"].copy())
    shot["scene"][:2] = 0
    fracture = session("fracture.onnx")
    rest, _, extent = fracture.run(None, {i.name: shot[i.name] for i in fracture.get_inputs()})
    gen = session("generator.onnx")
    feeds = dict(scene=x["scene"].copy(), controls=x["controls"], noise=x["noise"],
                 fragments_rest=rest, fragment_extent=extent)
    times = []
    for k in range(frames + 5):
        feeds["scene"][0] = k / frames
        t = time.perf_counter()
        gen.run(None, feeds)
        if k >= 5:
            times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


def network_ms(path, threads, frames):
    """The trained network alone (train.py's export), without the fragments' lattice."""
    import onnxruntime as ort
    from .train import example_inputs as network_inputs
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    feeds = {n: a.numpy() for n, a in zip(names, network_inputs())}
    times = []
    for k in range(frames + 5):
        feeds["progress"][0] = k / frames
        t = time.perf_counter()
        sess.run(None, feeds)
        if k >= 5:
            times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m model.learned.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--package", default=DEFAULT_PACKAGE)
    ap.add_argument("--sims", type=int, default=2)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--network", default="target/learned/collapse_generator.onnx",
                    help="the network alone, when present (made by make train)")
    a = ap.parse_args(argv)
    ref = reference_ms(a.sims, a.frames)
    g1 = generator_ms(a.package, 1, a.frames)
    g2 = generator_ms(a.package, 2, a.frames)
    print("| per frame (median), aspect 1.2, default controls | ms | ratio |")
    print("|---|---|---|")
    print(f"| reference simulation (pymunk + 64-cell smoke, 1 core) | {ref:.2f} | 1 |")
    print(f"| learned per-frame stage, ONNX Runtime CPU, 1 thread | {g1:.3f} | {ref / g1:.0f}x faster |")
    print(f"| learned per-frame stage, ONNX Runtime CPU, 2 threads | {g2:.3f} | {ref / g2:.0f}x faster |")
    if os.path.isfile(a.network):
        n1 = network_ms(a.network, 1, a.frames)
        print(f"| the network alone (no lattice), 1 thread | {n1:.3f} | {ref / n1:.0f}x faster |")
    else:
        print(f"| the network alone | not measured: {a.network} is missing (make train) | |")


if __name__ == "__main__":
    main()
