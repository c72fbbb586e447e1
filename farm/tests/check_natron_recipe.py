"""Checks farm/natron/collapse_comp.py without Natron (run by tools/farm_test.sh): runs it
against a stand-in for Natron's `app` and checks the graph it builds from SHOT:
Read -> Collapse (org.collapseofx.Collapse) inputs by label, the shot's [params], Write.
This is not a Natron render; that runs only where NatronRenderer is installed.
"""
import os
import runpy
import sys

shot = sys.argv[1]
failed = 0


def check(ok, what):
    global failed
    print(("ok - " if ok else "FAIL - ") + what)
    failed += not ok


class Param:
    def __init__(self, name, choice=False):
        self.name, self.values = name, {}
        if choice:
            self.getOption = lambda i: ""

    def setValue(self, v, dim=0):
        self.values[dim] = v

    def set(self, v):
        self.values[0] = v


class Node:
    def __init__(self, plugin, labels=()):
        self.plugin, self.labels, self.inputs, self.params, self.name = plugin, list(labels), {}, {}, ""

    def setScriptName(self, n):
        self.name = n

    def getScriptName(self):
        return self.name

    def getMaxInputCount(self):
        return len(self.labels)

    def getInputLabel(self, i):
        return self.labels[i]

    def connectInput(self, i, node):
        self.inputs[i] = node

    def getParam(self, name):
        return self.params.setdefault(name, Param(name, choice=name in ("output", "device")))


class App:
    def __init__(self):
        self.nodes = []

    def add(self, node):
        self.nodes.append(node)
        return node

    def createNode(self, plugin):
        return self.add(Node(plugin, ["Background", "Source", "Mask"]))

    def createReader(self, path):
        return self.add(Node("reader:" + path))

    def createWriter(self, path):
        return self.add(Node("writer:" + path))


app = App()
os.environ["COLLAPSE_SHOT"] = shot
runpy.run_path(os.path.join(os.path.dirname(__file__), "..", "natron", "collapse_comp.py"),
               init_globals={"app": app})
by = {n.name: n for n in app.nodes}
c = by.get("Collapse")
check(c is not None and c.plugin == "org.collapseofx.Collapse", "a Collapse node (org.collapseofx.Collapse)")
here = os.path.dirname(os.path.abspath(shot))
check(c is not None and c.inputs.get(1) is by.get("ReadSource")
      and by["ReadSource"].plugin == "reader:" + os.path.join(here, "plate.png"),
      "the plate's Read feeds the input labelled Source (the shot's path made absolute)")
check(c is not None and c.inputs.get(2) is by.get("ReadMask"), "the matte's Read feeds Mask")
check(c is not None and c.params["seed"].values == {0: 7} and c.params["bottomLeft"].values == {0: 110, 1: 23},
      "the shot's [params] are set (seed, bottomLeft by dimension)")
w = by.get("Writer")
check(w is not None and w.inputs.get(0) is c and w.params["formatType"].values == {0: 0},
      "a Write node named Writer after Collapse, at the input's size")
# The built-in reader (no tomllib): the same dictionary as tomllib for the shot.
ns = runpy.run_path(os.path.join(os.path.dirname(__file__), "..", "natron", "collapse_comp.py"))
real = ns["read_shot"](shot)
import builtins
orig = builtins.__import__
builtins.__import__ = lambda n, *a, **k: (_ for _ in ()).throw(ImportError(n)) if n in ("tomllib", "tomli") else orig(n, *a, **k)
try:
    fallback = ns["read_shot"](shot)
finally:
    builtins.__import__ = orig
check(fallback == real, "its own shot reader (for Natron's Python without tomllib) reads the shot as tomllib does")
sys.exit(1 if failed else 0)
