#!/usr/bin/env python3
"""Build, print or submit an OpenCue job that renders a Collapse shot in chunks.

Built with OpenCue's own outline library (PyPI: opencue-pyoutline, imported as `outline`):
an Outline with two layers,

  check   one frame (outline.modules.shell.ShellCommand): collapse-render --list-params
          loads the bundle and the shot once before anything renders;
  render  outline.modules.shell.Shell over the frame range, `chunk` frames per OpenCue
          frame: Cuebot replaces #FRAME_START# / #FRAME_END# with each chunk's first and
          last frame, so one collapse-render renders one chunk (the model loads once).

  python3 farm/opencue/collapse_outline.py --shot /show/shot.toml --out /show/renders \
      --frames 1-96 --chunk 8 [--device GPU] [--tensorrt] --spec       # print the job spec (XML)
  ... --commands   # print each chunk's command as RQD would run it (tokens replaced)
  ... --submit [--server cuebot:8443]                                   # launch on Cuebot

Paths must be the ones the render nodes see. See docs/FARM.md.
"""
import argparse
import re
import shlex
import sys

import outline
import outline.cuerun
from outline.modules.shell import Shell, ShellCommand

RANGE = re.compile(r"^(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?$")


def frame_step(frames):
    """The step of an OpenCue range 'A', 'A-B' or 'A-BxN' (the forms collapse-render takes too)."""
    m = RANGE.match(frames)
    if not m:
        sys.exit(f"collapse_outline: frame range '{frames}' must look like 12, 1-96 or 1-96x2")
    return int(m.group(3) or 1)


def renderer_word(renderer):
    """The program on the node: the given path, else $COLLAPSE_RENDER, else collapse-render on PATH."""
    return shlex.quote(renderer) if renderer else '"${COLLAPSE_RENDER:-collapse-render}"'


def sh(script):
    """One command line for RQD, whatever shell (or none) runs it."""
    return "/bin/sh -c " + shlex.quote(script)


def build(shot, out, frames, chunk, device="Auto", tensorrt=False, renderer=None,
          name="collapse", output_name="collapse.####.png", tensorrt_cache=None,
          service=None, tags=None, show=None, shot_name=None):
    """The outline.Outline for one shot (nothing is contacted)."""
    q = shlex.quote
    step = frame_step(frames)
    first = RANGE.match(frames).group(1)
    prog = renderer_word(renderer)
    sets = f"--set device={q(device)}" + (" --set useTensorRT=true" if tensorrt else "")

    ol = outline.Outline(name, frame_range=frames, show=show, shot=shot_name)
    check = ShellCommand("check", command=sh(
        f"{prog} --version && {prog} --shot {q(shot)} --frames {first} {sets} --list-params >/dev/null"))
    chunk_frames = "#FRAME_START#-#FRAME_END#" + (f"x{step}" if step > 1 else "")
    sums = f"{q(out + '/checksums')}/frames-#FRAME_START#-#FRAME_END#.txt"
    render = Shell("render", chunk=int(chunk), range=frames, command=sh(
        f"mkdir -p {q(out + '/checksums')} && exec {prog} --shot {q(shot)} --frames {chunk_frames}"
        f" --out {q(out + '/' + output_name)} --checksums {sums} {sets}"))
    for layer in (check, render):
        if service:
            layer.set_service(service)
        if tags:
            layer.set_arg("tags", tags)
        if tensorrt_cache:
            layer.set_env("COLLAPSE_TENSORRT_CACHE", tensorrt_cache)
    if device == "GPU":
        render.set_arg("gpus", 1)
    ol.add_layer(check)
    ol.add_layer(render)
    render.depend_all(check)
    return ol


def chunk_commands(ol):
    """(layer, frames, command) for every OpenCue frame of the outline, its tokens replaced the
    way Cuebot does: the frame's chunk is the layer's next `chunk` frames (pyoutline's own
    Layer.get_local_frame_set), #FRAME_START# its first and #FRAME_END# its last."""
    import FileSequence  # installed with pyoutline
    out = []
    for layer in ol.get_layers():
        frame_set = list(FileSequence.FrameSet(layer.get_frame_range()))
        chunk = layer.get_chunk_size()
        for start in frame_set[::chunk]:
            local = list(layer.get_local_frame_set(start))
            cmd = layer.get_arg("command")
            for token, value in (("#IFRAME#", start), ("#FRAME_START#", start),
                                 ("#FRAME_END#", local[-1]), ("#FRAME_CHUNK#", chunk)):
                cmd = cmd.replace(token, str(value))
            out.append((layer.get_name(), local, cmd))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shot", required=True, help="shot file (TOML), as the nodes see it")
    ap.add_argument("--out", required=True, help="output folder; checksums/ in it gets one file per chunk")
    ap.add_argument("--frames", required=True, help="12, 1-96 or 1-96x2")
    ap.add_argument("--chunk", type=int, default=8, help="frames per OpenCue frame (default 8)")
    ap.add_argument("--device", choices=["Auto", "CPU", "GPU"], default="Auto")
    ap.add_argument("--tensorrt", action="store_true", help="render with --set useTensorRT=true")
    ap.add_argument("--tensorrt-cache", help="COLLAPSE_TENSORRT_CACHE on the nodes (node-local disk)")
    ap.add_argument("--renderer", help="collapse-render on the nodes (default $COLLAPSE_RENDER, else PATH)")
    ap.add_argument("--output-name", default="collapse.####.png")
    ap.add_argument("--name", default="collapse", help="job name (OpenCue prefixes show-shot-user)")
    ap.add_argument("--show"), ap.add_argument("--shot-name")
    ap.add_argument("--service", help="OpenCue service of the layers")
    ap.add_argument("--tags", help="host tags, e.g. gpu")
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--spec", action="store_true", help="print the OpenCue job spec (XML)")
    what.add_argument("--commands", action="store_true", help="print each chunk's command, tokens replaced")
    what.add_argument("--submit", action="store_true", help="launch the job on Cuebot")
    ap.add_argument("--server", help="Cuebot host[:port] for --submit")
    a = ap.parse_args(argv)
    if a.chunk < 1:
        ap.error("--chunk must be at least 1")

    ol = build(a.shot, a.out, a.frames, a.chunk, a.device, a.tensorrt, a.renderer, a.name,
               a.output_name, a.tensorrt_cache, a.service, a.tags, a.show, a.shot_name)
    launcher = outline.cuerun.OutlineLauncher(ol, server=a.server or False)
    if a.submit:
        # use_pycuerun=False: the layers' commands go to Cuebot as they are (no pycuerun
        # wrapper, so the nodes need collapse-render, not pyoutline).
        for job in launcher.launch(use_pycuerun=False):
            print(f"submitted {job.name()}")
    elif a.spec:
        print(launcher.serialize(use_pycuerun=False))
    elif a.commands:
        for layer, frames, cmd in chunk_commands(ol):
            print(f"{layer}\t{frames[0]}-{frames[-1]}\t{cmd}")
    else:
        for layer, frames, _ in chunk_commands(ol):
            print(f"{layer}: frames {frames[0]}-{frames[-1]}")


if __name__ == "__main__":
    main()
