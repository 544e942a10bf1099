"""Command line: ``fastviz render AUDIO -o OUT.mp4``, ``fastviz demo``, ``fastviz --version``."""
import argparse
import atexit
import os
import sys

from . import __version__
from ._errors import FastvizError


def _size(text):
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, got {text!r}") from None
    return width, height


def _parser():
    parser = argparse.ArgumentParser(
        prog="fastviz", description="Render audio as electrodes pulsing on a brain.")
    parser.add_argument("--version", action="version", version=f"fastviz {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render an audio file to an MP4")
    render.add_argument("audio", help="audio file (WAV, FLAC, OGG, MP3, ...)")
    render.add_argument("-o", "--output", required=True, help="MP4 to write")
    demo = commands.add_parser("demo", help="render the built-in Jingle Bells demo")
    demo.add_argument("-o", "--output", default="jinglebells.mp4",
                      help="MP4 to write (default: %(default)s)")
    for sub in (render, demo):
        scene = sub.add_argument_group("scene (default: the built-in brain and grid)")
        scene.add_argument("--background", help="background picture")
        scene.add_argument("--electrodes", help="CSV with x_2d,y_2d pixel columns")
        scene.add_argument("--cmap", help="matplotlib colour map name, or colours "
                           "joined by commas (default: the post's red-light-green)")
        sub.add_argument("--size", type=_size, help="video WIDTHxHEIGHT "
                         "(default: the picture's)")
        sub.add_argument("--fps", default="30", help="frame rate, e.g. 30 or 30000/1001")
        sub.add_argument("--jobs", type=int, help="render threads (default: all cores)")
        sub.add_argument("--preset", default="veryfast", help="libx264 preset")
        sub.add_argument("--crf", type=int, default=20, help="libx264 quality, 0-51")
        sub.add_argument("--start", type=float, help="seconds of audio to skip")
        sub.add_argument("--duration", type=float, help="seconds of audio to render")
        sub.add_argument("--channel", type=int,
                         help="analyse this channel (from 0) instead of the mono mix")
        sub.add_argument("-y", "--overwrite", action="store_true",
                         help="replace an existing output")
        sub.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv=None):
    """Run the command line; return the exit code."""
    from ._render import demo, render

    args = _parser().parse_args(argv)
    cmap = args.cmap
    if cmap and "," in cmap:
        cmap = [c.strip() for c in cmap.split(",")]
    options = dict(background=args.background, electrodes=args.electrodes, size=args.size,
                   fps=args.fps, jobs=args.jobs, preset=args.preset, crf=args.crf,
                   start=args.start, duration=args.duration, channel=args.channel,
                   cmap=cmap, overwrite=args.overwrite, progress=not args.quiet)
    try:
        if args.command == "demo":
            path = demo(args.output, **options)
        else:
            path = render(args.audio, args.output, **options)
    except (FastvizError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; no output was written", file=sys.stderr)
        return 130
    if not args.quiet:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def run():
    """The ``fastviz`` command and ``python -m fastviz``: ``main()``, then a quick exit.

    This ends the process; programs call ``main()``. After the video is written,
    Python's teardown of the modules a render loads (scipy, scikit-learn, numba, MNE,
    pandas) takes 0.3-0.5 s here: a sixth of a short clip's run. So the exit handlers
    run and the streams are flushed, in a normal exit's order (``atexit._run_exitfuncs``
    is what it calls), and only the teardown is skipped. Every thread fastviz starts is
    a daemon thread, which a normal exit would not wait for either.
    """
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when the descriptor was closed
                stream.flush()
        except (OSError, ValueError):  # a closed pipe: the video is written all the same
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
