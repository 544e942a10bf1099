"""Batches: many audio files, one video each, rendered here or as Dask tasks.

A batch is a client of ``render``: each file is one render (``_render.render_file``),
each outcome reported as it is known, and the Dask tasks go through the same
``_distributed.Tasks`` loop as segments do.
"""
import glob
import os
import shutil
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from . import _ffmpeg
from ._encode import read_source_tag, source_tag
from ._errors import Cancelled, FastvizWarning, InputError, OptionError, OutputError
from ._execute import Run
from ._ffmpeg import MAX_FRAME_SIDE
from ._files import check_output, kind
from ._formats import DEFAULT_FORMAT, FORMATS, as_fraction, check_frames, output_format
from ._plan import options_from
from ._progress import progress_bar
from ._render import render_file

# What a folder's audio files end with; a file named on its own is taken whatever its name.
AUDIO_EXTENSIONS = frozenset({".aac", ".aif", ".aifc", ".aiff", ".ape", ".au", ".caf", ".flac",
                              ".m4a", ".mka", ".mp3", ".oga", ".ogg", ".opus", ".wav", ".wma",
                              ".wv"})


def expand_inputs(items):
    """The audio files that ``items`` name, in order, each once.

    A folder gives the audio files in it (not in its subfolders), sorted by name: those
    whose extension is in ``AUDIO_EXTENSIONS``, hidden files left out. A glob pattern
    (``*``, ``?``, ``[``; ``**`` spans folders) gives every file it matches, sorted: the
    pattern says which. Any other item is taken as a file as it is, even a missing one
    (the render then reports it). A folder or pattern with nothing in it is an error.

    Examples
    --------
    >>> [str(p) for p in expand_inputs(["a.wav", "b.flac", "a.wav"])]
    ['a.wav', 'b.flac']
    """
    found = {}
    for item in items:
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS
                           and not p.name.startswith(".") and p.is_file())
            if not files:
                raise InputError(f"no audio files in folder {path} (looked for "
                                 f"{', '.join(sorted(AUDIO_EXTENSIONS))})")
        elif any(c in str(item) for c in "*?[") and not path.exists():
            files = sorted(Path(p) for p in glob.glob(str(item), recursive=True)
                           if os.path.isfile(p))
            if not files:
                raise InputError(f"no file matches {item}")
        else:
            files = [path]
        for file in files:
            found.setdefault(os.path.realpath(file), file)
    return list(found.values())


def output_paths(inputs, outdir, suffix=".mp4"):
    """``outdir/NAME.mp4`` (or ``suffix``) for each input, NAME its stem; never two alike.

    The first input with a stem gets ``STEM.mp4``; a later one with the same stem (another
    folder, another extension) gets ``STEM-2.mp4``, ``STEM-3.mp4``, ... in input order,
    skipping any name that is another input's own stem. Names are compared ignoring case,
    as macOS and Windows do. The same inputs give the same names, so a rerun finds them.

    Examples
    --------
    >>> [p.name for p in output_paths(["a/song.wav", "b/song.wav", "song-2.flac"], "out")]
    ['song.mp4', 'song-3.mp4', 'song-2.mp4']
    """
    stems = [Path(p).stem for p in inputs]
    reserved, used, names = {s.casefold() for s in stems}, set(), []
    for stem in stems:
        name, number = stem, 1
        while name.casefold() in used or (number > 1 and name.casefold() in reserved):
            number += 1
            name = f"{stem}-{number}"
        used.add(name.casefold())
        names.append(Path(outdir) / f"{name}{suffix}")
    return names


class Outcome(NamedTuple):
    """What became of one input of a batch (``render_batch``).

    Examples
    --------
    >>> Outcome(Path("a.wav"), Path("out/a.mp4")).error is None
    True
    """

    input: Path
    output: Path  # None when the input named no file (an empty folder, a glob)
    error: Exception = None  # what stopped it, or None
    skipped: bool = False  # its video was there already, from this input


def _failed(audio, output, exc):
    """The Outcome of a failed input, its error kept without its traceback and chained
    exceptions: they hold every frame of the failed render (its scene, its arrays), and
    a batch of thousands of bad files would keep them all."""
    exc.__traceback__ = exc.__cause__ = exc.__context__ = None
    return Outcome(audio, output, exc)


def _render_file(audio, output, opts, scratch_dir, stop_name):
    """Dask task: one file's whole render (``render_file``), abandoned when the batch is
    stopped, its temporary file in the batch's ``scratch_dir``.

    Returns the notes (``FastvizWarning`` messages) it raised, for the driver to raise
    again: a worker's warnings would otherwise stay in its own log."""
    import warnings

    from distributed import Event

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FastvizWarning)
        try:
            render_file(audio, output, opts, Run(opts.jobs, False, Event(stop_name).is_set),
                        scratch_dir)
        except Cancelled:  # nobody waits for the result: end quietly, not as a failure
            return []
    return [str(w.message) for w in caught if issubclass(w.category, FastvizWarning)]


def render_batch(audios, outdir, *, client=None, scheduler=None, overwrite=False,
                 progress=True, on_outcome=None, cancel=None, **options):
    """Render many audio files, each to ``outdir/NAME.mp4`` (or the ``format``'s own
    extension, ``NAME.webm``...), and report each outcome.

    Parameters
    ----------
    audios : list of str or Path
        Files, folders and glob patterns (see ``expand_inputs``).
    outdir : str or Path
        Folder of the videos, made if missing; names as ``output_paths`` gives them.
    client, scheduler : optional
        Render the files in parallel on Dask, one task a file (see ``connect``); then
        ``outdir`` and the inputs must be at the same paths on the workers. Without
        either, the files are rendered one after another here.
    overwrite : bool
        Replace existing videos. By default a video already there is skipped when
        fastviz made it from this very input (its ``source_tag``), so a rerun resumes;
        any other file there is kept and reported. No video may replace an input.
    progress : bool or callable
        One progress bar, of the files rendered, on stderr; or a callable
        ``progress(done, total, seconds_left)`` counting files.
    on_outcome : callable, optional
        Called with each ``Outcome`` as it is known (refused or skipped before
        rendering, then rendered or failed), in the order they finish.
    cancel : callable, optional
        Asked about ten times a second, also while a file is analysed; when it
        returns true the batch stops (the renders running are told to stop and waited
        for) and ``Cancelled`` is raised. The videos finished before are kept.
    **options
        As for ``render``.

    Returns
    -------
    list of Outcome
        ``(input, output, error, skipped)`` in input order; ``error`` is the exception
        that stopped that input (a folder or pattern with no audio is one too).

    Examples
    --------
    ::

        outcomes = render_batch(["talks/", "extra/*.flac"], "videos", fps=25)
        failed = [(o.input, o.error) for o in outcomes if o.error]
    """
    # bad options stop the batch now, not file by file
    opts = options_from("render_batch", dict(options, overwrite=overwrite, progress=False))
    format, suffix = _suffix(outdir, opts)
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"output folder {outdir} is {kind(outdir)}, not a folder")
    outcomes = {}  # input -> Outcome, in input order
    for item in audios:  # an empty folder or pattern is one failed item, not the batch
        try:
            outcomes.update((p, None) for p in expand_inputs([item]) if p not in outcomes)
        except InputError as exc:
            outcomes[Path(item)] = _failed(Path(item), None, exc)
    inputs = [p for p, outcome in outcomes.items() if outcome is None]
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make output folder {outdir}: {exc.strerror}") from None
    todo = []
    for audio, output in zip(inputs, output_paths(inputs, outdir, suffix)):
        outcomes[audio] = _before_rendering(audio, output, inputs, overwrite, format)
        if outcomes[audio] is None:
            outcomes[audio] = Outcome(audio, output)  # rendered, unless it fails
            todo.append((audio, output))

    def done(outcome):
        outcomes[outcome.input] = outcome
        if on_outcome is not None:
            on_outcome(outcome)

    for outcome in list(outcomes.values()):
        if outcome.error is not None or outcome.skipped:
            done(outcome)
    if not todo:  # nothing to render: no progress to show
        return list(outcomes.values())
    with progress_bar(len(todo), outdir.name or "batch", progress, unit="file") as bar:
        if client is None and scheduler is None:
            for audio, output in todo:
                if cancel is not None and cancel():
                    raise Cancelled(f"the batch into {outdir} was cancelled")
                try:
                    render_file(audio, output, opts, Run(opts.jobs, False, cancel))
                except Cancelled:
                    raise
                except Exception as exc:
                    done(_failed(audio, output, exc))
                else:
                    done(outcomes[audio])
                bar.update(1)
        else:
            _render_batch_on(client, scheduler, todo, opts, done, outcomes, bar, cancel,
                             outdir)
    return list(outcomes.values())


def _before_rendering(audio, output, inputs, overwrite, format):
    """The outcome of an input decided before rendering (refused, skipped), or None.

    What is at the output is looked at before anything reads it: a folder, a pipe or a
    device there is refused (no ffmpeg is run on a FIFO to read its tag), and so is an
    input, even with ``overwrite``.
    """
    try:
        check_output(output, True, inputs)
    except OutputError as exc:
        return _failed(audio, output, exc)
    if overwrite or not os.path.lexists(output):
        return None
    if not FORMATS[format].tags:
        return Outcome(audio, output, OutputError(
            f"output {output} exists, and a {format.upper()} holds no tag that says which "
            "input it was made from; pass overwrite=True to render it again"))
    if read_source_tag(output) == source_tag(audio):
        return Outcome(audio, output, skipped=True)
    return Outcome(audio, output, OutputError(
        f"output {output} exists and is not fastviz's video of {audio}; pass "
        "overwrite=True to replace it"))


def _suffix(outdir, opts):
    """``(format, extension)`` of a batch's videos: the format's first extension
    (``.mp4`` by default); the format, codec, transparent and frame rate checked here,
    once, not file by file. A sequence of frames is one folder a render, not a batch's."""
    format = opts.format or DEFAULT_FORMAT
    if format in FORMATS and FORMATS[format].sequence is not None:
        raise OptionError(f"a batch writes one video a file, {Path(outdir) / 'NAME.mp4'}; "
                          f"format {format} ({FORMATS[format].words}) needs one render at "
                          "a time")
    suffix = FORMATS[format].suffixes[0] if format in FORMATS else ".mp4"
    row, codec = output_format(Path(outdir) / f"NAME{suffix}", format, opts.codec,
                               opts.transparent)[1:]
    fps = row.fps if opts.fps is None else as_fraction(opts.fps)
    check_frames(format, codec, MAX_FRAME_SIDE, MAX_FRAME_SIDE, fps)  # the rate, here
    return format, suffix


def _render_batch_on(client, scheduler, todo, opts, done, outcomes, bar, cancel, outdir):
    """The batch's renders as Dask tasks. Their temporary files go in a hidden folder of
    the batch's own in ``outdir``, which the driver removes at the end: a worker killed
    mid-render (``kill -9``, out of memory) leaves its ``.part`` file there, not beside
    the videos, even when Dask reruns its render elsewhere and the batch succeeds."""
    from ._distributed import connect

    token = uuid.uuid4().hex[:16]
    try:
        scratch = Path(tempfile.mkdtemp(prefix=f".fastviz-batch-{token}-", dir=outdir))
    except OSError as exc:
        raise OutputError(f"cannot write in {outdir}: {exc.strerror}") from None
    try:
        with connect(client, scheduler) as dask_client:
            _run_batch(dask_client, token, todo, opts, done, outcomes, bar, cancel,
                       scratch.absolute())
    finally:
        with _ffmpeg.signals_held():
            shutil.rmtree(scratch, ignore_errors=True)


def _run_batch(client, token, todo, opts, done, outcomes, bar, cancel, scratch):
    import warnings

    from ._distributed import Tasks

    opts = replace(opts, jobs=opts.jobs or 1)  # as for segments
    with Tasks(client, token) as tasks:
        for a, o in todo:
            tasks.submit((a, o), _render_file, str(a.absolute()), str(o.absolute()),
                         opts, str(scratch), key=o.name)
        for (audio, output), future in tasks.finished(cancel, "the batch"):
            try:
                notes = future.result()
            except Exception as exc:
                done(_failed(audio, output, exc))
            else:
                for note in notes:  # the worker's notes, here where they are shown
                    warnings.warn(note, FastvizWarning, stacklevel=2)
                done(outcomes[audio])
            bar.update(1)
