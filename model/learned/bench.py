"""Speed of the learned generator against the reference simulation, measured side by
side in one run on this machine (collapse-bench prints this table too).

    target/venv/bin/python -m model.learned.bench [--package DIR] [--sims 2] [--frames 48]

Per frame: the reference (rigid bodies + smoke + export of the same per-frame state,
at its default 64 cells per region height) against the package's per-frame stages
(generator.onnx, the network, and lattice.onnx, the fragments' lattice, which the
reference's state would need as well to be rendered) and against the network alone, in ONNX
Runtime on the CPU. Each runs its frames one after the other, as the reference does. (Run
between the lattice's runs, the network finds its 1.4 MB of weights out of the cache: about
0.28 ms against 0.16 on this VM.)
"""

import argparse
import os
import time

from model.reference import default_controls  # (importing it sets the threads first)

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
    """(the network and the fragments' lattice, the network's stage alone), ms per frame."""
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
    rest, extent = fracture.run(["fragments_rest", "fragment_extent"],
                                {i.name: shot[i.name] for i in fracture.get_inputs()})
    ground = session("ground.onnx")
    ground, = ground.run(None, {i.name: shot[i.name] for i in ground.get_inputs()})
    gen, lattice = session("generator.onnx"), session("lattice.onnx")
    feeds = dict(scene=x["scene"].copy(), controls=x["controls"], noise=x["noise"],
                 fragments_rest=rest, fragment_extent=extent, ground=ground)
    pick = lambda sess: {i.name: feeds[i.name] for i in sess.get_inputs()}
    # The network alone, frame after frame (as the reference runs its frames), then both
    # stages, frame after frame.
    alone, both = [], []
    for times, stages in ((alone, (gen,)), (both, (gen, lattice))):
        for k in range(frames + 5):
            feeds["scene"][0] = k / frames
            t = time.perf_counter()
            feeds["density"], feeds["fragments"] = gen.run(None, pick(gen))
            if lattice in stages:
                lattice.run(None, pick(lattice))
            if k >= 5:
                times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(both)), float(np.median(alone))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m model.learned.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--package", default=DEFAULT_PACKAGE)
    ap.add_argument("--sims", type=int, default=2)
    ap.add_argument("--frames", type=int, default=48)
    a = ap.parse_args(argv)
    ref = reference_ms(a.sims, a.frames)
    (g1, n1), (g2, n2) = generator_ms(a.package, 1, a.frames), generator_ms(a.package, 2, a.frames)
    print("| per frame (median), aspect 1.2, default controls | ms | ratio |")
    print("|---|---|---|")
    print(f"| reference simulation (pymunk + 64-cell smoke, 1 core) | {ref:.2f} | 1 |")
    for what, ms in (("the network (stage 'generator'), 1 thread", n1),
                     ("the network (stage 'generator'), 2 threads", n2),
                     ("network + the fragments' lattice (per-frame stages), 1 thread", g1),
                     ("network + the fragments' lattice (per-frame stages), 2 threads", g2)):
        print(f"| learned: {what} | {ms:.3f} | {ref / ms:.0f}x faster |")


if __name__ == "__main__":
    main()
