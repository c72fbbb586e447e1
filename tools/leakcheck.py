#!/usr/bin/env python3
"""Reads valgrind memcheck logs of the load-cycle test run for different cycle
counts, attributes every loss record and error to whoever allocated it (the
plugin, ONNX Runtime, our test host, the Rust runtime, the system) and prints
what each holds and how much that grows per cycle.

    tools/leakcheck.py N1:log1 N2:log2

Exits 1 when the plugin or ONNX Runtime loses memory per cycle, or when
memcheck reports an error (invalid read, uninitialised use...) in plugin code.
Run by tools/leakcheck.sh (`make leakcheck`).
"""
import re
import sys
from collections import defaultdict

OWNERS = [
    # (owner, pattern in a stack frame); the first frame that matches decides.
    ("ONNX Runtime", re.compile(r"libonnxruntime")),
    ("plugin", re.compile(r"Collapse\.ofx|collapse_ofx::(ofx|effect|inference|logging)::|\bort::")),
    ("test host", re.compile(r"collapse_ofx::host::|host/suites|variadic\.c")),
    ("test harness", re.compile(r"load_cycles::|plugin_util::|\btest::")),
    ("system", re.compile(r"ld-linux|/dl-|\bdl-\w+\.c|libc\.so|libstdc\+\+|_dl_|pthread_create|libgcc")),
]
KINDS = ["definitely lost", "indirectly lost", "possibly lost", "still reachable"]
RECORD = re.compile(
    r"([\d,]+)(?: \(([\d,]+) direct, ([\d,]+) indirect\))? bytes in [\d,]+ blocks are "
    r"(definitely lost|indirectly lost|possibly lost|still reachable) in loss record"
)
ERROR = re.compile(r"^(Invalid \w+ of size \d+|Conditional jump or move depends on uninitialised value|"
                   r"Use of uninitialised value|Syscall param .*|Mismatched free.*|Invalid free.*|"
                   r"Source and destination overlap.*)")


def owner(block):
    for frame in re.findall(r"(?:at|by) 0x[0-9A-Fa-f]+: (.*)", block):
        for name, pattern in OWNERS:
            if pattern.search(frame):
                return name
    return "other (Rust std, unattributed)"


def parse(path):
    """{(owner, kind): bytes}, [(owner, error line)], the valgrind summary lines."""
    text = open(path, encoding="utf-8", errors="replace").read()
    body = re.sub(r"^==\d+== ?", "", text, flags=re.M)
    held = defaultdict(int)
    errors = []
    for block in body.split("\n\n"):
        m = RECORD.search(block)
        if m:
            # Definite records count their direct bytes only; the indirect ones appear on their own.
            size = int((m.group(2) or m.group(1)).replace(",", ""))
            held[(owner(block), m.group(4))] += size
            continue
        e = ERROR.match(block.strip())
        if e:
            errors.append((owner(block), e.group(1)))
    return held, errors


def main(args):
    runs = []
    for arg in args:
        cycles, path = arg.split(":", 1)
        runs.append((int(cycles), *parse(path)))
    runs.sort()
    (c0, h0, _), (c1, h1, e1) = runs[0], runs[-1]
    owners = sorted({o for h in (h0, h1) for o, _ in h})
    print(f"Bytes each owner still holds at exit, after {c0} and {c1} load/render/unload cycles,")
    print("and the growth per cycle between the two runs.\n")
    print("| owner | kind | after %d | after %d | per cycle |" % (c0, c1))
    print("|---|---|---|---|---|")
    failed = []
    for o in owners:
        for k in KINDS:
            a, b = h0.get((o, k), 0), h1.get((o, k), 0)
            if a == 0 and b == 0:
                continue
            per = (b - a) / (c1 - c0)
            print(f"| {o} | {k} | {a:,} | {b:,} | {per:+,.0f} |")
            if o in ("plugin", "ONNX Runtime") and k != "still reachable" and per > 0:
                failed.append(f"{o}: {k} grows by {per:,.0f} bytes per cycle")
            if o == "plugin" and k == "definitely lost" and b > 0:
                failed.append(f"plugin: {b:,} bytes definitely lost")
    counted = defaultdict(int)
    for o, e in e1:
        counted[(o, e)] += 1
    if counted:
        print("\nmemcheck errors (not leaks), by owner, in the longer run:\n")
        for (o, e), n in sorted(counted.items()):
            print(f"- {o}: {e} (x{n})")
            if o == "plugin":
                failed.append(f"plugin: {e}")
    if failed:
        print("\nFAILED:\n- " + "\n- ".join(failed))
        return 1
    print("\nOK: no memory lost per cycle by the plugin or ONNX Runtime, and no memcheck error in the plugin.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
