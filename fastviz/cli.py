"""Command line: ``fastviz render AUDIO -o OUT.mp4``, ``fastviz demo``, ``fastviz --version``."""
import argparse
import atexit
import contextlib
import os
import re
import signal
import sys
import threading
import warnings

from . import __version__
from ._errors import FastvizError, FastvizWarning, OptionError
from ._options import OUTPUT, SCENE, option_fields
from ._progress import stderr

EPILOG = """examples:
  fastviz demo                                    the built-in demo to jinglebells.mp4
  fastviz render song.wav -o song.mp4             on the bundled brain and grid
  fastviz render talk.mp3 -o talk.mp4 --background brain.png --electrodes grid.csv
  fastviz render take.flac -o take.mp4 --start 60 --duration 30 --size 1280x720 -y
  fastviz render eeg.wav -o eeg.mp4 --montage biosemi64 --look dark
  fastviz render song.wav -o post.mp4 --dot-size 100 --sampling instant   the post's look
  fastviz render song.wav -o overlay.mov --transparent   only the dots, with alpha
  fastviz render song.wav -o frames/                     numbered PNG frames
  fastviz frame song.wav --at 12 -o frame.png     the frame the video shows at 12 s
  fastviz layout --electrodes grid.csv --background brain.png -o layout.png

exit codes: 0 written; 1 an error in a file, the machine or ffmpeg (one "error:"
line says what and which file); 2 a usage error: an unknown flag, a missing
argument, or a flag's value or a combination of flags that cannot work, whatever
the files (--crf 60, --fps 60 for a GIF, --transparent with .mp4); 130, 143, 129
stopped by SIGINT (Ctrl-C), SIGTERM, SIGHUP. Nothing is left at the output path
unless the video is complete."""

# Library messages name Python keywords; the command line names its flags instead.
_SPLIT = ("segments", "segment_seconds", "scheduler", "at")  # the command line's own
_OPTIONS = (*(f.name for f in option_fields() if f.metadata["commands"]
              and not f.metadata["flags"]), *_SPLIT)
_FLAGS = {"overwrite=True": "-y", "electrodes=...": "--electrodes",
          **{name: f"--{name.replace('_', '-')}" for name in _OPTIONS}}
_KEYWORD = re.compile(r"\b(overwrite=True|electrodes=\.\.\.|"
                      rf"(?:{'|'.join(_OPTIONS)})(?= must\b| needs\b))")


def flag_words(message):
    """A library message with its keyword names given as the command line's flags.

    Examples
    --------
    >>> flag_words("output o.mp4 exists; pass overwrite=True to replace it")
    'output o.mp4 exists; pass -y to replace it'
    >>> flag_words("size must be (width, height) > 0")
    '--size must be (width, height) > 0'
    """
    return _KEYWORD.sub(lambda m: _FLAGS[m.group(1)], message)


class Stopped(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM or SIGHUP, so the render unwinds as on Ctrl-C."""

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopRecord:
    """The first stop signal a command got (``signum``, None for none) and, once the
    render ran, what it moved into place (``owned.published``); for a batch, each
    ``Outcome`` as it is known (``outcomes``). ``is_set`` is the render's ``cancel``: a
    stop whose exception was swallowed (raised inside a ``__del__``, which Python only
    prints) still ends the render at its next check."""

    def __init__(self):
        self.signum, self.owned, self.outcomes = None, None, []
        self._event = threading.Event()

    def record(self, signum):
        self.signum = signum
        self._event.set()

    def is_set(self):
        return self._event.is_set()

    def raise_it(self):
        raise KeyboardInterrupt if self.signum == signal.SIGINT else Stopped(self.signum)


@contextlib.contextmanager
def _signals_stop_the_render():
    """Ctrl-C, SIGTERM and SIGHUP stop the render: yields the ``StopRecord``.

    The first signal is recorded and raised in the render (``_run``), or, when it lands
    in a block that holds them (a move into place, a cleanup: ``_ffmpeg.signals_held``),
    raised as the block ends. Later ones are only counted out: the cleanup the first
    started runs to its end, and the exit code is the first's. A signal that lands
    outside the render (while the answer is printed) is not raised either: the answer
    reads the record.
    """
    stop = StopRecord()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signal handlers can only be set from the main thread
        return
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    signums = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {s: signal.getsignal(s) for s in signums}

    def handler(signum, frame):
        if stop.signum is not None:
            return
        stop.record(signum)
        if not _in_the_render(frame):
            return
        # no block holds them before it loads, nor while it is half imported
        holding = getattr(sys.modules.get("fastviz._ffmpeg"), "holding", None)
        if holding is not None and holding():
            sys.modules["fastviz._ffmpeg"].defer(stop.raise_it)
            return
        stop.raise_it()

    for s in signums:
        signal.signal(s, handler)
    try:
        yield stop
    finally:
        for s, previous_handler in previous.items():
            signal.signal(s, previous_handler)


def _in_the_render(frame):
    """Whether ``frame`` runs inside ``_run``, the render (not the answer after it)."""
    while frame is not None:
        if frame.f_code is _run.__code__:
            return True
        frame = frame.f_back
    return False


def _parsed(parse):
    """An argparse type of an option's ``parse``: its ``ValueError`` as a usage error."""
    def convert(text):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = parse.__name__  # argparse names a failed type by it
    return convert


GROUPS = {SCENE: "scene (default: the built-in brain and grid)",
          OUTPUT: "output format (default: from the extension)"}
QUIET = {"render": "no progress", "demo": "no progress", "frame": "no message",
         "layout": "no message"}


def _add_options(sub, command):
    """``command``'s flags, from the option table (``_options.Options``): one flag a
    field, its help and its parsing beside it there; every default is None, so a look
    fills what a flag does not give, then the option's own default."""
    groups = {}
    for f in option_fields():
        meta = f.metadata
        if not meta["commands"] or command not in meta["commands"]:
            continue
        group = meta["group"]
        if group not in groups:
            groups[group] = sub.add_argument_group(GROUPS[group]) if group in GROUPS else sub
        flags = meta["flags"] or (f"--{f.name.replace('_', '-')}",)
        kwargs = dict(dest=f.name, help=meta["help"].replace("%", "%%"))
        if meta["switch"]:
            kwargs.update(action="store_true", default=None)
        else:  # int and float as argparse names them ("invalid int value")
            parse = meta["parse"]
            kwargs.update(choices=meta["choices"], type=parse if parse in (int, float, None)
                          else _parsed(parse))
        groups[group].add_argument(*flags, **kwargs)
    sub.add_argument("-q", "--quiet", action="store_true", help=QUIET[command])
    sub.add_argument("--debug", action="store_true", help="show a traceback with an error")


def _parser():
    parser = argparse.ArgumentParser(
        prog="fastviz", description="Render audio as electrodes pulsing on a brain.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"fastviz {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render an audio file to a video",
                                 epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    render.add_argument("audio", nargs="+", help="audio file (WAV, FLAC, OGG, MP3, a "
                        "video's sound...); with --outdir, several files, folders or globs")
    where = render.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", help="video to write: .mp4, .webm, .mov, .gif, "
                       "or a folder/ or %%05d.png pattern for PNG frames")
    where.add_argument("--outdir", help="render each input to OUTDIR/NAME.mp4 (or the "
                       "--format's extension); existing videos are skipped (a rerun "
                       "resumes) unless -y")
    dask = render.add_argument_group("Dask (pip install '.[dask]' in fastviz's folder)")
    dask.add_argument("--scheduler", help="local, local:N (N worker processes here) or "
                      "tcp://HOST:PORT of a running Dask scheduler")
    dask.add_argument("--segments", type=int, help="split the video into N segments, "
                      "encoded in parallel and joined without re-encoding")
    dask.add_argument("--segment-seconds", type=float, help="segments of this length "
                      "instead (default with --scheduler: 30 s, at least one a worker)")
    dask.add_argument("--segment-dir", help="a folder all workers share: segments are "
                      "written there instead of sent back through Dask")
    demo = commands.add_parser("demo", help="render the built-in Jingle Bells demo",
                               epilog=EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("-o", "--output", default="jinglebells.mp4",
                      help="video to write, as for render -o (default: %(default)s)")
    looks = commands.add_parser("looks", help="list the bundled looks (--look NAME)")
    looks.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    looks.set_defaults(quiet=True)
    frame = commands.add_parser("frame", help="write the frame a render shows at a time, "
                                "as a PNG", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    frame.add_argument("audio", help="audio file, as for render")
    frame.add_argument("--at", type=float, required=True, help="seconds into the video")
    frame.add_argument("-o", "--output", required=True, help="PNG to write")
    layout = commands.add_parser("layout", help="draw the scene with each electrode's "
                                 "name and band, as a PNG", epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    layout.add_argument("-o", "--output", required=True, help="PNG to write")
    for name, sub in (("render", render), ("demo", demo), ("frame", frame),
                      ("layout", layout)):
        _add_options(sub, name)
    return parser


def main(argv=None):
    """Run the command line; return the exit code."""
    err = stderr()
    with _signals_stop_the_render() as stop, warnings.catch_warnings():
        args = _parser().parse_args(argv)  # a stop meanwhile is recorded, and answered
        if stop.signum is not None:
            return _answer(args, stop, None, None, err)
        if not args.debug:  # a library's warnings are not the user's business
            warnings.simplefilter("ignore")
        warnings.simplefilter("once", FastvizWarning)
        warnings.showwarning = lambda message, *rest, **kw: print(f"note: {message}",
                                                                  file=err)
        path = error = None
        try:
            path = _run(args, stop)
        except BaseException as exc:  # answered below, a stop first
            error = exc
        return _answer(args, stop, path, error, err)


def _answer(args, stop, path, error, err):
    """Print the command's outcome and return its exit code: what is on disk decides.

    A stop (a signal) exits with its code whatever else happened, and says whether the
    output was written: it was when the render returned, or moved it into place just
    before the stop came; a batch says which videos it finished. Otherwise an error
    exits 2 when it is a usage error (an ``OptionError``, or any ``ValueError``: a
    value or a combination of options that cannot work, whatever the files), else 1
    (a file, the machine, ffmpeg).
    """
    if stop.signum is not None:
        what = ("interrupted" if stop.signum == signal.SIGINT
                else f"stopped by {signal.Signals(stop.signum).name}")
        written = path is not None or bool(stop.owned and stop.owned.published)
        if getattr(args, "outdir", None) is not None:
            print(f"error: {what}; {_what_a_batch_left(stop.outcomes, args.outdir)}",
                  file=err)
        elif written:
            print(f"error: {what}, but only after {args.output} was written: it is "
                  "complete", file=err)
        else:
            print(f"error: {what}; no output was written", file=err)
        return 128 + stop.signum
    if error is None:
        if not args.quiet and path is not None:
            print(f"wrote {path}", file=err)
        return 0
    if isinstance(error, KeyboardInterrupt):  # raised by hand, not by a signal here
        print("error: interrupted; no output was written", file=err)
        return 130
    if args.debug or not isinstance(error, Exception):
        raise error
    print(f"error: {error_words(error)}", file=err)
    return 2 if isinstance(error, ValueError) else 1


def _what_a_batch_left(outcomes, outdir):
    """What an interrupted batch leaves: the videos it finished (or found made before)
    by then, from its ``outcomes`` so far, or nothing."""
    made = sum(o.error is None for o in outcomes)
    if not made:
        return "no output was written"
    return (f"{_videos(made)} finished before {'is' if made == 1 else 'are'} in {outdir}; "
            "the ones being rendered were not written (a rerun resumes)")


def error_words(exc):
    """An error in one line, never empty: the library's message with the command line's
    flags for its keywords; a MemoryError (which has no message) says so; anything else
    is a bug, named as one."""
    if isinstance(exc, MemoryError):
        return "out of memory; try a smaller --size or fewer --jobs"
    if isinstance(exc, (FastvizError, ValueError, OSError)):
        return flag_words(str(exc)) or type(exc).__name__
    return (f"unexpected {type(exc).__name__}: {exc} (a fastviz bug: --debug shows the "
            "traceback to report)")


def _run(args, stop):
    """The command itself, as one render: the stop signals raise in here only."""
    from . import _ffmpeg

    with _ffmpeg.reaper() as stop.owned:  # every process any part of it started
        return _command(args, stop)


def _command(args, stop):
    from ._render import demo, frame, layout, render

    if args.command == "looks":
        return _list_looks()
    options = {f.name: getattr(args, f.name) for f in option_fields()
               if hasattr(args, f.name) and getattr(args, f.name) is not None}
    if args.command == "layout":
        layout(args.output, **options)
        return args.output
    if args.command == "frame":
        frame(args.audio, args.at, args.output, **options)
        return args.output
    options["progress"] = not args.quiet
    if args.command == "demo":
        return demo(args.output, cancel=stop.is_set, **options)
    split = dict(scheduler=args.scheduler, segments=args.segments,
                 segment_seconds=args.segment_seconds, segment_dir=args.segment_dir)
    if args.outdir is not None:
        return _batch(args, options, split, stop)
    if len(args.audio) > 1:
        raise OptionError(f"{len(args.audio)} inputs need --outdir DIR (one video each), "
                          "not -o")
    return render(args.audio[0], args.output, cancel=stop.is_set, **split, **options)


def _list_looks():
    """Print each bundled look's name and description, and where the file is."""
    from importlib import resources

    from ._scene import bundled_looks

    for name, look in bundled_looks().items():
        print(f"{name:12} {look.get('description', '')}")
    print(f"\n(copy {resources.files('fastviz') / 'data' / 'looks.toml'}, edit it, and "
          "pass --look path.toml)")
    return None


def _batch(args, options, split, stop):
    """Render every input to OUTDIR/NAME.mp4; report each failure and a summary."""
    from ._batch import render_batch

    if any(split[k] is not None for k in ("segments", "segment_seconds", "segment_dir")):
        raise OptionError("--outdir renders whole files in parallel; --segments, "
                          "--segment-seconds and --segment-dir split one file")
    options = {k: v for k, v in options.items() if k not in ("overwrite", "progress")}
    outcomes = render_batch(args.audio, args.outdir, scheduler=args.scheduler,
                            overwrite=bool(args.overwrite), progress=not args.quiet,
                            cancel=stop.is_set, on_outcome=stop.outcomes.append, **options)
    err = stderr()
    failed = [o for o in outcomes if o.error is not None]
    for outcome in failed:
        print(f"error: {outcome.input}: {error_words(outcome.error)}", file=err)
    print("summary:", file=err)  # each input's outcome, in input order
    for o in outcomes:
        status = "failed" if o.error else "skipped" if o.skipped else "ok"
        print(f"  {status:7}  {o.input}{'' if o.error else f' -> {o.output}'}"
              f"{' (made before)' if o.skipped else ''}", file=err)
    if failed:
        rest = (f"the other videos are in {args.outdir}" if len(failed) < len(outcomes)
                else "no video was written")
        raise BatchFailed(f"{len(failed)} of {len(outcomes)} files failed; {rest}")
    made = sum(not o.skipped for o in outcomes)
    kept = len(outcomes) - made
    if args.quiet:
        pass
    elif made:
        print(f"wrote {_videos(made)} to {args.outdir}"
              f"{f'; {_videos(kept)} made before were kept' if kept else ''}", file=err)
    else:
        print(f"nothing to render: the {_videos(kept)} in {args.outdir} were made before "
              "from these inputs (-y renders them again)", file=err)
    return None


def _videos(n):
    return f"{n} video{'' if n == 1 else 's'}"


class BatchFailed(FastvizError):
    """Some files of a batch failed; each was reported as it came."""


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
