# A Natron recipe for a Collapse shot: Read (plate) [+ Read (matte), Read (clean plate)]
# -> Collapse (org.collapseofx.Collapse) -> Write, its parameters from a collapse-render
# shot file. NatronRenderer runs it as a script (the Write node is named "Writer"):
#
#   COLLAPSE_SHOT=/show/shot.toml NatronRenderer -w Writer /show/renders/collapse.####.png 1-96 collapse_comp.py
#
# or, without the environment variable:  NatronRenderer -c "collapse_shot='/show/shot.toml'" -w Writer ...
# (`NatronRenderer -t collapse_comp.py` only sources it into the interpreter and renders nothing.)
# Natron needs the bundle on its plug-in path: OFX_PLUGIN_PATH=/path/to (the folder holding
# Collapse.ofx.bundle). The shot's paths are relative to its folder, as for collapse-render.
# Save the graph as a project for artists with app.saveProjectAs(path) (NatronRenderer -t).
import ast
import os

PLUGIN_ID = "org.collapseofx.Collapse"


def read_shot(path):
    """A shot file as a dict (its [params] under "params"): tomllib/tomli where Natron's
    Python has them, else the subset shot files use (key = string/number/bool/array)."""
    try:
        try:
            import tomllib as toml
        except ImportError:
            import tomli as toml
        with open(path, "rb") as f:
            return toml.load(f)
    except ImportError:
        pass
    shot, table = {}, None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split(" #")[0].strip() if not line.lstrip().startswith("#") else ""
            if not line:
                continue
            if line.startswith("["):
                table = shot.setdefault(line.strip("[] "), {})
                continue
            key, _, value = line.partition("=")
            value = value.strip()
            value = {"true": "True", "false": "False"}.get(value, value)
            try:
                (table if table is not None else shot)[key.strip()] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                raise ValueError("%s:%d: cannot read '%s' (install tomli for full TOML)" % (path, n, line))
    return shot


def input_index(node, label):
    for i in range(node.getMaxInputCount()):
        if node.getInputLabel(i) == label:
            return i
    raise RuntimeError("%s has no input %s" % (node.getScriptName(), label))


def set_param(node, name, value):
    param = node.getParam(name)
    if param is None:
        raise RuntimeError("Collapse has no parameter '%s'" % name)
    if isinstance(value, (list, tuple)):
        for dim, v in enumerate(value):
            param.setValue(v, dim)
    elif isinstance(value, str) and hasattr(param, "getOption"):  # a choice, by its label
        param.set(value)
    else:
        param.setValue(value)


def build(app, shot_path, output=None):
    shot = read_shot(shot_path)
    here = os.path.dirname(os.path.abspath(shot_path))
    at = lambda p: p if os.path.isabs(p) else os.path.join(here, p)
    collapse = app.createNode(PLUGIN_ID)
    collapse.setScriptName("Collapse")
    for clip, key in (("Source", "plate"), ("Mask", "mask"), ("Background", "background")):
        if shot.get(key):
            reader = app.createReader(at(shot[key]))
            reader.setScriptName("Read" + clip)
            collapse.connectInput(input_index(collapse, clip), reader)
    for name, value in sorted(shot.get("params", {}).items()):
        set_param(collapse, name, value)
    writer = app.createWriter(output or at(shot.get("output", "frames/collapse.####.png")))
    writer.setScriptName("Writer")
    writer.getParam("formatType").setValue(0)  # the input's size, not the project's
    writer.connectInput(0, collapse)
    return collapse, writer


shot_file = globals().get("collapse_shot") or os.environ.get("COLLAPSE_SHOT")
if "app" in globals():
    if not shot_file:
        raise RuntimeError("collapse_comp.py: no shot file: set COLLAPSE_SHOT or -c \"collapse_shot='...'\"")
    build(app, shot_file, os.environ.get("COLLAPSE_OUTPUT"))  # noqa: F821 (Natron's app)
