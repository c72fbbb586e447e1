"""Generate the training data set: reference simulations over seeds and controls.

  python -m model.reference.dataset --count 300 --out target/dataset \
      [--shard-size 25] [--jobs 1] [--base-seed 0] [--frames 48] [--res 64]

Simulation i draws its controls uniformly in their ranges, its aspect log-uniformly
in [0.4, 2.5] and its simulation seed from (base seed, i) alone, so the same
arguments give bit-identical shards (whatever --jobs). The last 10% of the indices
(at least one when count >= 2) are the held-out `test` split. Shards:
  OUT/train-00000.npz, ..., OUT/test-00000.npz, ... and OUT/manifest.json
each shard holding N simulations of T frames:
  density      float16 [N, T, 64, 96]     (state.py: optical depth, rows top-first)
  fragments    float32 [N, T, 256, 8]     (state.py FRAG_COLUMNS)
  rest_polys   float32 [N, 256, 16, 2], rest_nverts int32 [N, 256]
  controls     float32 [N, 5] (control_names order), aspect float32 [N],
  seeds int64 [N], index int64 [N] (simulation index), n_floors int32 [N],
  progress float32 [T], control_names, config (JSON of the generating arguments).
A shard that exists with the same config is complete (shards are written to a
temporary name and renamed) and is skipped.
"""

import argparse
import json
import math
import os
import sys
import time

from . import CONTROL_NAMES, CONTROL_RANGES  # (importing the package sets the threads first)

import numpy as np

from .sim import Simulation
from .state import save_npz

ASPECT_RANGE = (0.4, 2.5)
TEST_FRACTION = 0.1


def sim_params(base_seed, i):
    rng = np.random.default_rng([int(base_seed), int(i), 0x5EED])
    controls = {}
    for name in CONTROL_NAMES:
        lo, hi, _ = CONTROL_RANGES[name]
        controls[name] = float(lo + (hi - lo) * rng.random())
    aspect = float(math.exp(math.log(ASPECT_RANGE[0])
                            + (math.log(ASPECT_RANGE[1]) - math.log(ASPECT_RANGE[0])) * rng.random()))
    seed = int(rng.integers(0, 2 ** 31 - 1))
    return seed, aspect, controls


def splits(count, shard_size):
    """[(name, [indices])] of the shards: train first, then the held-out test."""
    n_test = max(1, int(round(count * TEST_FRACTION))) if count >= 2 else 0
    n_train = count - n_test
    out = []
    for split, lo, hi in (("train", 0, n_train), ("test", n_train, count)):
        for k, s in enumerate(range(lo, hi, shard_size)):
            out.append((f"{split}-{k:05d}", list(range(s, min(s + shard_size, hi)))))
    return out


def run_one(job):
    i, base_seed, frames, res, p_end = job
    seed, aspect, controls = sim_params(base_seed, i)
    t0 = time.perf_counter()
    sim = Simulation(seed, aspect, controls, frames=frames, p_end=p_end, res=res)
    st = sim.run()
    st["index"] = np.int64(i)
    return st, time.perf_counter() - t0


def _stack(states, config):
    return {
        "density": np.stack([s["density"] for s in states]).astype(np.float16),
        "fragments": np.stack([s["fragments"] for s in states]).astype(np.float32),
        "rest_polys": np.stack([s["rest_polys"] for s in states]),
        "rest_nverts": np.stack([s["rest_nverts"] for s in states]),
        "controls": np.stack([s["controls"] for s in states]),
        "aspect": np.array([s["aspect"] for s in states], np.float32),
        "seeds": np.array([s["seed"] for s in states], np.int64),
        "index": np.array([s["index"] for s in states], np.int64),
        "n_floors": np.array([s["n_floors"] for s in states], np.int32),
        "progress": states[0]["progress"],
        "control_names": np.array(CONTROL_NAMES),
        "config": np.array(config),
    }


def shard_complete(path, config):
    if not os.path.exists(path):
        return False
    try:
        with np.load(path) as z:
            return str(z["config"]) == config
    except Exception:
        return False


def generate(count, out, shard_size=25, jobs=1, base_seed=0, frames=48, res=64, p_end=1.0,
             log=print):
    os.makedirs(out, exist_ok=True)
    plan = splits(count, shard_size)
    done = skipped = 0
    t_sims = 0.0
    t_start = time.perf_counter()
    pool = None
    if jobs > 1:
        import multiprocessing as mp
        pool = mp.get_context("fork").Pool(jobs)
    try:
        for name, idx in plan:
            config = json.dumps({"count": count, "base_seed": base_seed, "frames": frames, "res": res,
                                 "progress_end": p_end, "shard": name, "indices": [idx[0], idx[-1]],
                                 "format": 1}, sort_keys=True)
            path = os.path.join(out, name + ".npz")
            if shard_complete(path, config):
                skipped += 1
                log(f"{name}: complete, skipped")
                continue
            jobs_ = [(i, base_seed, frames, res, p_end) for i in idx]
            t0 = time.perf_counter()
            results = pool.map(run_one, jobs_) if pool else [run_one(j) for j in jobs_]
            states = [r[0] for r in results]
            t_sims += sum(r[1] for r in results)
            tmp = path + ".tmp"
            save_npz(tmp, _stack(states, config))
            os.replace(tmp, path)
            done += len(idx)
            log(f"{name}: {len(idx)} sims in {time.perf_counter() - t0:.1f} s "
                f"({(time.perf_counter() - t0) / len(idx):.2f} s per sim wall)")
    finally:
        if pool:
            pool.close()
            pool.join()
    manifest = {"count": count, "base_seed": base_seed, "frames": frames, "res": res,
                "progress_end": p_end, "shard_size": shard_size,
                "shards": [{"name": n, "first": i[0], "last": i[-1], "split": n.split("-")[0]}
                           for n, i in plan]}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    total = time.perf_counter() - t_start
    if done:
        log(f"cost: {done} sims, {t_sims / done:.2f} s per sim (CPU, one thread each), "
            f"total {total:.1f} s wall with --jobs {jobs}; {skipped} shards skipped")
    else:
        log(f"nothing to do: {skipped} shards complete ({total:.1f} s)")
    return plan


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m model.reference.dataset", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--shard-size", type=int, default=25)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--base-seed", type=int, default=0)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--progress-end", type=float, default=1.0)
    a = ap.parse_args(argv)
    if a.count < 1 or a.shard_size < 1 or a.frames < 2 or a.jobs < 1:
        sys.exit("count, shard-size and jobs must be >= 1, frames >= 2")
    generate(a.count, a.out, a.shard_size, a.jobs, a.base_seed, a.frames, a.res, a.progress_end)


if __name__ == "__main__":
    main()
