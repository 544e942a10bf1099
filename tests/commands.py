"""The ffmpeg command lines each kind of render runs, recorded and normalised.

A safety net for refactors of the pipeline (issue 18): the commands that write files
must stay exactly as they are, and the probes (reads of the audio, ``-demuxers``...)
must not grow in number. ``tests/test_commands.py`` compares a fresh run of every
scenario with ``tests/data/ffmpeg_commands.json``; to record that file again (after a
change to the commands that is meant)::

    python tests/commands.py --record [SCENARIO ...]
    FASTVIZ_RECORD_COMMANDS=1 python -m pytest tests/test_commands.py

Nothing is mocked: each scenario renders for real, with the bundled ffmpeg.
``subprocess.Popen`` is replaced by a subclass that notes each ffmpeg's argument list
and working folder and then starts it as usual (``subprocess.run`` and
``check_output`` start theirs through it, so they are noted too), and
``tempfile.mkstemp`` and ``mkdtemp`` by wrappers that note the random part of every
scratch name they make, so it is replaced exactly. fastviz's ``functools`` caches are
emptied before each scenario, so each runs what a fresh ``fastviz`` process runs.

Normalised: the scenario's folder is ``<tmp>``, the temporary folder (``TMPDIR``)
``<tmpdir>``, a scratch name's random part ``<rand>``, the ffmpeg binary ``ffmpeg``,
the safe demuxers (which depend on the ffmpeg build) ``<safe demuxers>``, the source
tag's hash (of the audio's real path) ``<hash>``, pipe and descriptor numbers ``<fd>``
and a thread count equal to the machine's cores ``<cpu_count>``. Order is kept.
"""
import argparse
import difflib
import json
import logging
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # as a script: tests/ is not on the path
from helpers import tone, write_wav  # noqa: E402

RECORDED = Path(__file__).parent / "data" / "ffmpeg_commands.json"
SIZE = "160x120"  # small: the commands are the point, not the pictures
# Scenarios run through the command line, fastviz.cli.main(ARGS) with <tmp> the
# scenario's folder; "segments" runs through the API on an in-process Dask cluster.
CLI = {
    "mp4": "render <tmp>/in.wav -o <tmp>/out.mp4",
    "webm": "render <tmp>/in.wav -o <tmp>/out.webm",
    "mov": "render <tmp>/in.wav -o <tmp>/out.mov",
    "gif": "render <tmp>/in.wav -o <tmp>/out.gif",
    "png": "render <tmp>/in.wav -o <tmp>/frames/",
    "webm-transparent": "render <tmp>/in.wav -o <tmp>/out.webm --transparent",
    "mov-transparent": "render <tmp>/in.wav -o <tmp>/out.mov --transparent",
    "png-transparent": "render <tmp>/in.wav -o <tmp>/frames/ --transparent",
    "cut": "render <tmp>/in.wav -o <tmp>/cut.mp4 --start 0.5 --duration 0.75",
    "6-channels-mp4": "render <tmp>/six.wav -o <tmp>/six.mp4",
    "6-channels-webm": "render <tmp>/six.wav -o <tmp>/six.webm",
    "encoder-libx264rgb": "render <tmp>/in.wav -o <tmp>/rgb.mp4 --encoder libx264rgb",
    "demo": "demo -o <tmp>/demo.mp4 --duration 1",
    "frame": "frame <tmp>/in.wav --at 0.5 -o <tmp>/frame.png",
}
SEGMENTS = "render(<tmp>/in.wav, <tmp>/segments.mp4, client=<in-process LocalCluster, " \
    "2 workers>, segments=2)"
SCENARIOS = [*CLI, "segments"]
LISTINGS = ("-version", "-demuxers", "-encoders", "-h")


def _inputs(work):
    """The scenarios' audio: 1.5 s of a chord (mono), and 1.5 s of six channels."""
    chord = tone(440, 1.5) + 0.3 * tone(3000, 1.5)
    write_wav(work / "in.wav", chord, 44100)
    write_wav(work / "six.wav", np.stack([tone(300 * (k + 1), 1.5) for k in range(6)]),
              44100)


def _run(name, work):
    """Render scenario ``name`` in the folder ``work``."""
    if name == "segments":
        import distributed

        from fastviz import render

        logger = logging.getLogger("distributed")
        level = logger.level
        logger.setLevel(logging.WARNING)  # its start-up lines would bury a failure
        try:
            with distributed.LocalCluster(
                    n_workers=2, threads_per_worker=1, processes=False,
                    dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                    silence_logs=logging.CRITICAL,
                    local_directory=str(work / "dask")) as cluster, \
                    distributed.Client(cluster) as client:
                render(work / "in.wav", work / "segments.mp4", client=client, segments=2,
                       size=tuple(map(int, SIZE.split("x"))), progress=False)
        finally:
            logger.setLevel(level)
        return
    from fastviz.cli import main

    args = [a.replace("<tmp>", str(work)) for a in shlex.split(CLI[name])]
    code = main([*args, "--size", SIZE, "-q"])
    if code != 0:
        raise RuntimeError(f"fastviz {shlex.join(args)} exited {code}")


def _clear_caches():
    """Empty every functools cache of fastviz's modules (safe_demuxers, encoder_codec,
    the trial encodes...): a scenario then runs what a fresh process runs."""
    for name, module in list(sys.modules.items()):
        if name == "fastviz" or name.startswith("fastviz."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


class Recorder:
    """What ``patches`` notes: ffmpeg commands (argv, cwd) in start order, and the
    scratch names made (their path -> the path with <rand> for the random part)."""

    def __init__(self):
        self.ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()  # its own -version check, run now
        self.commands, self.scratch = [], {}

    def patches(self, monkeypatch):
        """Wrap Popen, mkstemp and mkdtemp with ``monkeypatch`` (undone with it)."""
        real_popen, real_mkstemp, real_mkdtemp = (subprocess.Popen, tempfile.mkstemp,
                                                  tempfile.mkdtemp)
        recorder = self

        class RecordingPopen(real_popen):  # a subclass: isinstance checks still hold
            def __init__(self, args, *rest, **kwargs):
                argv = [os.fspath(a) for a in ([args] if isinstance(args, (str, bytes))
                                               else args)]
                if argv and os.path.basename(str(argv[0])).startswith("ffmpeg"):
                    cwd = kwargs.get("cwd")
                    recorder.commands.append((argv, None if cwd is None else
                                              os.fspath(cwd)))
                super().__init__(args, *rest, **kwargs)

        def note(path, prefix, suffix):
            head, base = os.path.split(path)
            prefix = tempfile.gettempprefix() if prefix is None else prefix
            suffix = suffix or ""
            named = base[:len(prefix)] + "<rand>" + base[len(base) - len(suffix):]
            for full in {path, os.path.abspath(path)}:
                self.scratch[full] = os.path.join(os.path.dirname(full), named)

        def mkstemp(suffix=None, prefix=None, dir=None, text=False):
            fd, path = real_mkstemp(suffix, prefix, dir, text)
            note(path, prefix, suffix)
            return fd, path

        def mkdtemp(suffix=None, prefix=None, dir=None):
            path = real_mkdtemp(suffix, prefix, dir)
            note(path, prefix, suffix)
            return path

        monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
        monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)

    def normalised(self, roots):
        """The commands as ``{"argv": [...], "cwd": ...}`` (cwd only when set), with
        ``roots`` ({real folder: placeholder}) and every other varying part replaced."""
        replace = sorted(self.scratch.items(), key=lambda kv: -len(kv[0]))
        for real, placeholder in roots.items():
            replace += [(real, placeholder), (os.path.realpath(real), placeholder)]

        def text(value):
            for real, placeholder in replace:
                value = value.replace(real, placeholder)
            value = re.sub(r"fastviz source [0-9a-f]{16}", "fastviz source <hash>", value)
            value = re.sub(r"\bpipe:\d+", "pipe:<fd>", value)
            value = re.sub(r"/(?:dev|proc/self)/fd/\d+", "/dev/fd/<fd>", value)
            for real in roots:
                if real in value or os.path.realpath(real) in value:
                    raise ValueError(f"a path was left as it is in {value!r}")
            return value

        out = []
        for argv, cwd in self.commands:
            args = ["ffmpeg" if argv[0] == self.ffmpeg else os.path.basename(argv[0])]
            for before, arg in zip(argv, argv[1:]):
                if before == "-format_whitelist":
                    arg = "<safe demuxers>"
                elif before == "-threads" and arg == str(os.cpu_count()):
                    arg = "<cpu_count>"
                args.append(text(arg))
            out.append({"argv": args} if cwd is None else {"argv": args, "cwd": text(cwd)})
        return out


def is_write(command):
    """Whether a command writes a file (an encode, a trial encode, the audio's encode,
    a join, a cut by stream copy): fastviz names every file it writes ``file:PATH``,
    last. Probes (listings, decodes of the audio or a trial file) write to a pipe."""
    argv = command["argv"]
    return argv[-1].startswith("file:") and not any(a in LISTINGS for a in argv)


def record(name, root):
    """Run scenario ``name`` in a new folder under ``root``; its normalised record:
    ``{"run", "order", "writes", "probes"}``."""
    work, scratch = root / name / "work", root / name / "tmp"
    work.mkdir(parents=True)
    scratch.mkdir()
    _inputs(work)
    _clear_caches()
    recorder = Recorder()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(scratch))  # TMPDIR, for this scenario
        recorder.patches(patch)
        _run(name, work)
    commands = recorder.normalised({str(scratch): "<tmpdir>", str(work): "<tmp>"})
    run = SEGMENTS if name == "segments" else f"fastviz {CLI[name]} --size {SIZE} -q"
    return {"run": run,
            "order": ["write" if is_write(c) else "probe" for c in commands],
            "writes": [c for c in commands if is_write(c)],
            "probes": [c for c in commands if not is_write(c)]}


def load(path=RECORDED):
    """The recorded scenarios, ``{name: record}`` (empty when there is no file yet)."""
    if not Path(path).exists():
        return {}
    return json.loads(Path(path).read_text())["scenarios"]


def save(scenarios, path=RECORDED):
    """Write ``scenarios`` (merged into what is recorded already), in SCENARIOS order."""
    merged = {**load(path), **scenarios}
    ordered = {name: merged[name] for name in [*SCENARIOS, *sorted(merged)]
               if name in merged}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps({
        "about": "ffmpeg commands of each scenario, recorded from a real run by "
                 "tests/commands.py (see its docstring; re-record with "
                 "`python tests/commands.py --record`). writes: compared exactly; "
                 "probes: their number may only go down; order: the sequence of both.",
        "scenarios": ordered}, indent=1) + "\n")


def lines(commands):
    """Commands as lines to diff: a header line each, then one argument a line."""
    out = []
    for index, command in enumerate(commands):
        where = f" (in {command['cwd']})" if "cwd" in command else ""
        out.append(f"command {index}{where}:")
        out += [f"    {arg}" for arg in command["argv"]]
    return out


def diff(expected, got, what):
    """Which commands differ and a unified diff of them, or "" when they are equal."""
    if expected == got:
        return ""
    if len(expected) == len(got):
        changed = [str(i) for i, (a, b) in enumerate(zip(expected, got)) if a != b]
        summary = f"{what}: command {', '.join(changed)} of {len(got)} changed"
    else:
        summary = f"{what}: {len(expected)} recorded, {len(got)} in this run"
    return "\n".join([summary, *difflib.unified_diff(
        lines(expected), lines(got), f"recorded {what}", f"this run's {what}",
        lineterm="")])


def main(argv=None):
    parser = argparse.ArgumentParser(description="Record (or show) the ffmpeg commands of "
                                     "each scenario.")
    parser.add_argument("--record", action="store_true", help=f"write them to {RECORDED}")
    parser.add_argument("scenarios", nargs="*", help=f"default all: {', '.join(SCENARIOS)}")
    args = parser.parse_args(argv)
    found = {}
    with tempfile.TemporaryDirectory(prefix="fastviz-commands-") as root:
        for name in args.scenarios or SCENARIOS:
            found[name] = record(name, Path(root))
            print(f"{name}: {len(found[name]['writes'])} writes, "
                  f"{len(found[name]['probes'])} probes", file=sys.stderr)
    if args.record:
        save(found)
        print(f"recorded in {RECORDED}", file=sys.stderr)
    else:
        json.dump(found, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
