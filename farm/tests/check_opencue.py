"""Checks of farm/opencue/collapse_outline.py without a Cuebot (run by tools/farm_test.sh).

  check_opencue.py SHOT OUT REFERENCE_DIR
builds the outline for SHOT (frames 1-6, chunks of 2), checks its serialised job spec and
its per-chunk commands, then runs those commands here, as RQD would, in order, and checks
that the frames and checksums are bit-identical to REFERENCE_DIR (one collapse-render of 1-6).
"""
import filecmp
import glob
import os
import subprocess
import sys
import xml.etree.ElementTree as Et

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "opencue"))
try:
    import outline  # noqa: F401
    import collapse_outline as co
except ImportError as e:
    print(f"FAIL - opencue-pyoutline is not importable ({e}): SETUP_PYTHON=farm tools/setup.sh")
    sys.exit(1)

shot, out, ref = sys.argv[1:4]
failed = 0


def check(ok, what):
    global failed
    print(("ok - " if ok else "FAIL - ") + what)
    failed += not ok


def sums(path_glob):
    lines = set()
    for p in glob.glob(path_glob):
        with open(p) as f:
            lines.update(" ".join(line.split()[:2]) for line in f if line.strip())
    return sorted(lines, key=lambda s: int(s.split()[0]))


# The job spec Cuebot would get (serialize_simple: the commands as they are).
ol = co.build(shot, out, "1-6", 2, device="CPU")
spec = outline.cuerun.OutlineLauncher(ol).serialize(use_pycuerun=False)
root = Et.fromstring(spec[spec.index("<spec>"):])
layers = {la.get("name"): la for la in root.iter("layer")}
check(sorted(layers) == ["check", "render"], f"the spec has the layers check and render ({sorted(layers)})")
render = layers.get("render")
check(render is not None and render.findtext("range") == "1-6" and render.findtext("chunk") == "2",
      "the render layer spans 1-6 in chunks of 2")
check(render is not None and "--frames #FRAME_START#-#FRAME_END#" in render.findtext("cmd"),
      "its command renders #FRAME_START#-#FRAME_END# (Cuebot's chunk tokens)")
dep = root.find("depends/depend")
check(dep is not None and dep.get("type") == "LAYER_ON_LAYER" and dep.findtext("onlayer") == "check",
      "render waits for the check layer (LAYER_ON_LAYER)")

# The chunks, tokens replaced as Cuebot does; a stepped range keeps its step.
cmds = co.chunk_commands(ol)
chunks = [(f[0], f[-1]) for layer, f, _ in cmds if layer == "render"]
check(chunks == [(1, 2), (3, 4), (5, 6)], f"1-6 in chunks of 2 gives three OpenCue frames ({chunks})")
stepped = co.chunk_commands(co.build(shot, out, "1-11x2", 3))
got = [c.split("--frames ")[1].split()[0] for layer, _, c in stepped if layer == "render"]
check(got == ["1-5x2", "7-11x2"], f"1-11x2 in chunks of 3 renders --frames 1-5x2 and 7-11x2 ({got})")

# Run the check layer and the three chunks here, as RQD would (it runs the command line).
env = dict(os.environ)
for layer, frames, cmd in cmds:
    r = subprocess.run(cmd, shell=True, env=env, capture_output=True, text=True)
    check(r.returncode == 0, f"{layer} {frames[0]}-{frames[-1]} ran (exit {r.returncode}){r.stderr[-300:] if r.returncode else ''}")
names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*.png")))
refs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ref, "*.png")))
check(names == refs and len(names) == 6, f"the chunks wrote the six frames ({len(names)})")
same = [n for n in names if filecmp.cmp(os.path.join(out, n), os.path.join(ref, n), shallow=False)]
check(len(same) == len(refs), f"each frame is bit-identical to the one-process render ({len(same)}/{len(refs)})")
check(sums(os.path.join(out, "checksums", "*.txt")) == sums(os.path.join(ref, "checksums.txt")),
      "the chunks' checksum lines equal the reference's")
print("NOT RUN - Cuebot/RQD dispatch (no Cuebot here); pyoutline's own executors (pycuerun, the "
      "local backend) do not apply: the layers are plain commands with Cuebot tokens")
sys.exit(1 if failed else 0)
