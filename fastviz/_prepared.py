"""A render prepared once and used many ways: the handle front ends hold.

    prepare(audio, **options) ──options, scene, analysis (once)──▶ Prepared
        .frame(t)  .frames(first, stop)  .make_frame(t)  .make_mask(t)  .layout()
                                                    (one raster each, no analysis)
        .write(output, **output_options) ──output_target + OutputSpec──▶ EXECUTORS ──▶ Video

``render``, ``render_signal``, ``frame`` and ``layout`` (``_render``) are thin uses of
it, so what a front end draws is what ``render`` writes. Writing in another format
whose frames differ (a GIF's width and rate) builds the scene again, never the analysis.
"""
import importlib
import io
import math
import numbers
import os
import tempfile
import weakref
from dataclasses import replace
from pathlib import Path

import numpy as np

from ._display import picture, preview, video
from ._errors import Cancelled, FastvizError, InputError, OptionError, shown
from ._execute import Run
from ._formats import DEFAULT_FORMAT, FORMATS, check_frames
from ._options import OPTION_NAMES, WRITE_OPTIONS, option_fields
from ._output import output_target
from ._plan import (
    analyse_audio,
    analyse_signal,
    audio_input,
    cut_signal,
    cut_sound,
    drawing,
    fps_of,
    input_files,
    options_from,
    output_spec_of,
    plan_of,
    preview_codec,
    signal_input,
)
from ._scene import draw_layout, projected_scene

# How a resolved render is executed: a name -> (module, function taking the plan, the
# output spec, a Run and the executor's own settings). A new way (a service's worker
# pool) is one row; the modules load only when used.
EXECUTORS = {"local": ("fastviz._execute", "write_video"),
             "dask": ("fastviz._distributed", "render_segments")}
PIXEL_FORMATS = {"rgb": "rgb24", "rgb24": "rgb24", "rgba": "rgba", "nv12": "nv12"}
SPLIT = ("client", "scheduler", "segments", "segment_seconds", "segment_dir")


def execute(plan, spec, run, executor="local", **settings):
    """Run a resolved render with ``EXECUTORS[executor]``; returns the output's path."""
    module, function = EXECUTORS[executor]
    return getattr(importlib.import_module(module), function)(plan, spec, run, **settings)


def check_split(target, opts, output, split):
    """``split`` (``render_segments``' settings, None left out), refused before the
    analysis if it cannot work: a format or codec that cannot be joined by stream copy."""
    split = {k: v for k, v in split.items() if v is not None}
    if not split:
        return split
    from ._distributed import check_split as check_dask

    row = FORMATS[target.format]
    if opts.encoder is not None or (opts.codec or row.default_codec) not in row.segments:
        kinds = "; ".join(f"{row.codecs[c].encoder} {name.upper()} ({', '.join(row.suffixes)})"
                          for name, row in FORMATS.items() for c in row.segments)
        raise OptionError(f"output {output}: segments are {kinds}, joined by stream copy; "
                          "render other formats and encoders in one piece")
    check_dask(**split)
    return split


def split_of(client=None, scheduler=None, segments=None, segment_seconds=None,
             segment_dir=None):
    """The keywords of ``render`` that pick Dask segments, as ``render_segments``'."""
    return dict(client=client, scheduler=scheduler, n_segments=segments,
                segment_seconds=segment_seconds, segment_dir=segment_dir)


def _spool(file, what):
    """The bytes of the binary ``file`` object, from where it stands, in a scratch file
    of fastviz's own: the audio is read twice (the analysis, then the sound), and
    ffmpeg reads it as any file, with the same checks."""
    if isinstance(file, io.TextIOBase):
        raise InputError(f"{what} is open in text mode: open it in binary mode ('rb')")
    if getattr(file, "closed", False):
        raise InputError(f"{what} is closed: give an open file, or its path")
    name = getattr(file, "name", None)
    suffix = Path(name).suffix if isinstance(name, str) else ""
    fd, path = tempfile.mkstemp(prefix="fastviz-audio-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                try:
                    chunk = file.read(1 << 20)
                except (OSError, ValueError, UnicodeDecodeError) as exc:  # ValueError: closed
                    raise InputError(f"cannot read {what}: {getattr(exc, 'strerror', None) or exc}"
                                     ) from None
                if not chunk:
                    break
                if not isinstance(chunk, (bytes, bytearray, memoryview)):
                    raise InputError(f"{what} gives {type(chunk).__name__}, not bytes: "
                                     "open it in binary mode ('rb')")
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return Path(path)


def _removed(path):
    Path(path).unlink(missing_ok=True)


class Prepared:
    """A render prepared once: its options checked, its scene built, its input
    analysed. Draws any frame, and writes the video, without analysing again.

    Made by ``prepare`` and ``prepare_signal``; ``render``, ``render_signal``,
    ``frame`` and ``layout`` are thin uses of it, so what it draws is what ``render``
    writes (tested: its frames equal a lossless render's, decoded). Frames are shaped
    for ``format`` (an MP4's by default). Safe to use from several threads at once.
    Use as a context manager, or call ``close``, to remove at once the scratch copy a
    file object is read through (it is removed when the object is collected anyway).

    Attributes
    ----------
    n_frames : int
        Frames of the video: ceil(duration of the input x fps).
    fps : Fraction
        Its frame rate.
    duration : float
        Its length in seconds, ``n_frames / fps`` (the last frame partly covers the
        input).
    size : (int, int)
        Its frame (width, height).

    Examples
    --------
    ::

        song = prepare("song.wav", size=(800, 600))
        picture = song.frame(12.0)           # (600, 800, 3) uint8, a few ms each
        song.write("song.mp4", progress=print_progress, cancel=stop.is_set)
        song.write("song.gif")               # a GIF's width: a new scene, the same analysis
    """

    def __init__(self, opts, given, analysis, drawn, target, sound, inputs, cut=True,
                 tag=True, names=None, projected=None, scratch=None):
        self.opts, self._given, self._analysis = opts, given, analysis
        self._scene = drawn[0]
        self._sound, self._inputs, self._cut, self._tag = sound, inputs, cut, tag
        self._names, self._projected = names, projected or {}
        fps = fps_of(opts, target)
        self.plan = plan_of(analysis, opts, drawn, fps)
        self._frames_for = self._frame_key(opts, target)
        self._scratch = scratch
        self._finalizer = None if scratch is None else weakref.finalize(self, _removed,
                                                                          scratch)

    # ------------------------------------------------------------------ making one
    @classmethod
    def of_audio(cls, audio, opts, given=None, target=None, run=None):
        """Prepare ``audio`` (a path, ``(samples, rate)`` or a binary file object) with
        checked ``opts``, framed for ``target`` (an ``_output.Target``; None: a
        preview's); ``run``'s cancel and progress during the analysis."""
        source = audio_input(audio)
        scratch, name, tag, cut = None, None, True, True
        if isinstance(source, str) and source == "file":
            file_name = getattr(audio, "name", None)
            name = (f"file object {file_name}" if isinstance(file_name, str)
                    else f"the {type(audio).__name__} object")
            scratch = source = _spool(audio, name)
            tag = False
        elif isinstance(source, tuple):  # cut here: the sound is these samples
            source = cut_sound(source, opts.start, opts.duration)
            tag = cut = False
        try:
            if run is not None and run.cancel is not None and run.cancel():  # before the
                raise Cancelled(f"the analysis of {name or source} was cancelled")  # scene
            drawn = drawing(opts, target)
            analysis = analyse_audio(source, opts, fps_of(opts, target), run, name)
            return cls(opts, given, analysis, drawn, target, source,
                       input_files(audio, opts), cut, tag, scratch=scratch)
        except BaseException as exc:
            if scratch is not None:
                _removed(scratch)
                if isinstance(exc, FastvizError):  # name the object, not the copy
                    raise type(exc)(str(exc).replace(str(scratch), name)) from None
            raise

    @classmethod
    def of_signal(cls, data, rate, opts, given=None, target=None, audio=None,
                  scaling="minmax", smoothing=None):
        """Prepare a signal (an array at ``rate``, or an MNE object) with checked
        ``opts``, framed for ``target``, with the sound of ``audio`` (a path, or
        ``(samples, rate)`` cut as the signal is)."""
        if opts.channel is not None:
            raise OptionError("channel picks an audio channel to analyse; render_signal "
                              "draws every electrode of its signal, so pass a subset of "
                              "it instead")
        sound, cut = audio, True
        if audio is not None:
            sound = audio_input(audio)
            if isinstance(sound, str) and sound == "file":
                raise InputError("the sound of a signal is a file's path or a (samples, "
                                 "rate) pair")
        values, rate, names, locs = signal_input(data, rate)
        values = cut_signal(values, rate, opts.start, opts.duration)
        if isinstance(sound, tuple):
            sound, cut = cut_sound(sound, opts.start, opts.duration), False
        projected = {}
        if opts.background is None and opts.electrodes is None and locs is not None:
            background, xs, ys = projected_scene(locs, opts.size)
            projected = dict(background=background, electrodes=np.column_stack([xs, ys]))
            opts = replace(opts, **projected)
        drawn = drawing(opts, target, names)
        if drawn[1].n_electrodes != len(values):
            raise InputError(f"the signal has {len(values)} electrodes but the scene has "
                             f"{drawn[1].n_electrodes} positions")
        analysis = analyse_signal(values, rate, smoothing, scaling)
        return cls(opts, given, analysis, drawn, target, sound,
                   input_files(audio if cut else None, opts), cut, True, names, projected)

    @staticmethod
    def _frame_key(opts, target):
        """What shapes the frames: the format, its codec and the frame rate."""
        if target is None:
            return opts.format or DEFAULT_FORMAT, preview_codec(opts), fps_of(opts, None)
        return target.format, target.codec, target.fps

    # ------------------------------------------------------------------ what it is
    @property
    def n_frames(self):
        return self.plan.n_frames

    @property
    def fps(self):
        return self.plan.fps

    @property
    def duration(self):
        return float(self.plan.n_frames / self.plan.fps)

    @property
    def size(self):
        return self.plan.renderer.width, self.plan.renderer.height

    def __repr__(self):
        width, height = self.size
        return (f"<fastviz.Prepared: {self.n_frames} frames at {self.fps} fps "
                f"({self.duration:.2f} s), {width}x{height}>")

    # ------------------------------------------------------------------ drawing
    def index_at(self, t):
        """The number of the frame the video shows at ``t`` seconds: floor(t x fps)."""
        if not (isinstance(t, (numbers.Real, np.number)) and not isinstance(t, bool)
                and 0 <= t < math.inf):  # a Fraction too: k / prepared.fps is frame k
            raise OptionError(f"at must be a finite number of seconds >= 0, got {shown(t)}")
        if t >= self.duration:  # before the multiplication, which 1e308 overflows
            index = self.n_frames
        else:
            exact = isinstance(t, numbers.Rational)  # floats as render has always had them
            index = math.floor(round((t if exact else float(t)) * self.fps, 9))
        if index >= self.n_frames:
            raise InputError(f"at must be within the video: {t} s is past the video's end "
                             f"({self.n_frames} frames "
                             f"at {self.fps} fps, {self.duration:.3f} s)")
        return index

    def frames(self, first, stop, pixel_format="rgb"):
        """Frames ``[first, stop)`` as a block: ``"rgb"`` (n, H, W, 3), ``"rgba"`` (n, H,
        W, 4: the dots alone, straight alpha) or ``"nv12"`` (n, 3H/2, W: what an MP4
        encodes) uint8."""
        if not (isinstance(first, (int, np.integer)) and isinstance(stop, (int, np.integer))
                and 0 <= first < stop <= self.n_frames):
            raise OptionError(f"frames needs whole numbers 0 <= first < stop <= "
                              f"{self.n_frames}, got {shown(first)}, {shown(stop)}")
        if pixel_format not in PIXEL_FORMATS:
            raise OptionError(f"pixel_format must be rgb, rgba or nv12, got "
                              f"{shown(pixel_format)}")
        renderer, values = self.plan.renderer, self.plan.values(int(first), int(stop))
        draw = {"rgb24": renderer.frames, "rgba": renderer.frames_rgba,
                "nv12": renderer.frames_nv12}[PIXEL_FORMATS[pixel_format]]
        return draw(values)

    def frame(self, t, pixel_format="rgb"):
        """The frame the video shows at ``t`` seconds (frame floor(t x fps)), as
        ``frames`` draws it; a ``Picture`` (an array that shows itself in a notebook)
        for ``"rgb"`` and ``"rgba"``."""
        index = self.index_at(t)
        block = self.frames(index, index + 1, pixel_format)[0]
        return block if pixel_format == "nv12" else picture(block)

    def _clamped(self, t):
        """The frame number at ``t``, held at the ends (moviepy asks a little past them)."""
        t = float(t)
        if not math.isfinite(t):
            raise OptionError(f"t must be a finite number of seconds, got {shown(t)}")
        t = min(max(t, 0.0), float(self.n_frames / self.fps))  # held at the ends
        return min(math.floor(round(t * self.fps, 9)), self.n_frames - 1)

    def make_frame(self, t):
        """moviepy's ``frame_function``: ``t`` -> the (H, W, 3) uint8 frame the video
        shows then (held at the ends); with ``transparent=True``, the dots' colours,
        for compositing with ``make_mask``."""
        index = self._clamped(t)
        if self.opts.transparent:
            return np.ascontiguousarray(self.frames(index, index + 1, "rgba")[0, ..., :3])
        return self.frames(index, index + 1)[0]

    def make_mask(self, t):
        """moviepy's mask ``frame_function``: ``t`` -> the dots' coverage, (H, W) float
        in 0..1 (``VideoClip(prepared.make_mask, is_mask=True)``)."""
        index = self._clamped(t)
        return self.frames(index, index + 1, "rgba")[0, ..., 3] / 255.0

    def layout(self):
        """The scene with each electrode marked and labelled ``NAME/BAND`` (a signal's
        electrodes: ``NAME``), as ``fastviz.layout`` draws it; a ``Picture``."""
        return picture(draw_layout(self._scene, self.plan.rows))

    def preview(self, at=0.0):
        """An interactive preview for Jupyter: a time slider over the frame, redrawn
        from ``frame`` as it moves (needs ipywidgets). Returns the widget."""
        return preview(self, at)

    # ------------------------------------------------------------------ writing
    def _options_with(self, changes):
        """``opts`` with the ``WRITE_OPTIONS`` in ``changes``, checked again as a whole."""
        for name in changes:
            if name in OPTION_NAMES and name not in WRITE_OPTIONS:
                raise TypeError(f"write() takes how the video is written ("
                                f"{', '.join(WRITE_OPTIONS)}), not {name!r}: what is drawn "
                                "was decided by prepare(); prepare again to change it")
        if not changes:
            return self.opts
        given = self._given
        if given is None:
            given = {f.name: getattr(self.opts, f.name) for f in option_fields()}
        opts = options_from("write", {**given, **changes})
        return replace(opts, **self._projected) if self._projected else opts

    def _plan_for(self, target, opts):
        """The plan whose frames ``target`` takes: this one, or the same analysis on a
        scene built again for the target's frames (a GIF's width and rate)."""
        if self._frame_key(opts, target) == self._frames_for:
            renderer = self.plan.renderer
            check_frames(target.format, target.codec, renderer.width, renderer.height,
                         target.fps)
            return self.plan
        return plan_of(self._analysis, opts, drawing(opts, target, self._names), target.fps)

    def write(self, output, *, client=None, scheduler=None, segments=None,
              segment_seconds=None, segment_dir=None, cancel=None, **output_options):
        """Write the video to ``output``, through any executor, without analysing again.

        Parameters
        ----------
        output : str or Path
            As for ``render``: its format from its extension, or ``format=``.
        client, scheduler, segments, segment_seconds, segment_dir : optional
            Render in segments on Dask, as for ``render``.
        cancel : callable, optional
            As for ``render``: asked about ten times a second; true stops the render
            within about that, nothing is left behind, and ``Cancelled`` is raised.
        **output_options
            How it is written: fps, jobs, speed, preset, crf, overwrite, progress,
            format, codec, transparent, encoder. What is drawn was decided by
            ``prepare``.

        Returns
        -------
        Video
            The output's path, which plays itself in a notebook.
        """
        if self._finalizer is not None and not self._finalizer.alive:
            raise OptionError("this prepared render was closed, and with it the copy of "
                              "its file object's sound: prepare it again to write it")
        opts = self._options_with(output_options)
        target = output_target(output, opts, self._inputs)
        split = check_split(target, opts, output, split_of(client, scheduler, segments,
                                                           segment_seconds, segment_dir))
        return self.write_to(target, opts, Run(opts.jobs, opts.progress, cancel), split)

    def write_to(self, target, opts, run, split=None, scratch_dir=None):
        """``write`` of a resolved ``target`` and checked ``opts`` and ``split``."""
        plan = self._plan_for(target, opts)
        spec = output_spec_of(target, plan, opts, self._inputs, self._sound,
                              self._analysis.layout, cut=self._cut, scratch_dir=scratch_dir,
                              tag=self._tag)
        path = execute(plan, spec, run, "dask" if split else "local", **(split or {}))
        return video(path, target.format)

    # ------------------------------------------------------------------ lifetime
    def close(self):
        """Remove the scratch copy of a file object's audio now (else when collected);
        the frames stay drawable, only ``write`` with its sound needs the copy."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def prepare(audio, *, cancel=None, **options):
    """Prepare a render of ``audio`` once: the options checked, the scene built, the
    audio analysed; then draw any frame and write the video from it.

    Parameters
    ----------
    audio : str, Path, (samples, rate) or binary file object
        An audio file ffmpeg decodes; samples ((n,), (n_channels, n) or (n,
        n_channels), floats in -1..1 or integers at full scale) at a whole number of
        Hz; or a file object open for reading in binary mode (read from where it
        stands, into a scratch file fastviz removes).
    cancel : callable, optional
        Asked about ten times a second while the audio is analysed; true stops it and
        raises ``Cancelled``.
    **options
        As for ``render`` (``progress=`` a callable reports the analysis, with
        ``total`` None: the length of a file is known once it is decoded).

    Returns
    -------
    Prepared

    Examples
    --------
    ::

        song = prepare("song.wav", size=(800, 600))
        song.frame(12.0)                       # the frame render shows at 12 s
        song.write("song.mp4", overwrite=True)
    """
    opts = options_from("prepare", options)
    return Prepared.of_audio(audio, opts, options,
                             run=Run(opts.jobs, opts.progress, cancel))


def prepare_signal(data, rate=None, *, audio=None, scaling="minmax", smoothing=None,
                   **options):
    """Prepare a render of any per-electrode signal once, as ``prepare`` does audio.

    Parameters
    ----------
    data, rate, audio, scaling, smoothing, **options
        As for ``render_signal``.

    Returns
    -------
    Prepared

    Examples
    --------
    ::

        movie = prepare_signal(raw, smoothing=5.0)
        movie.frame(1.5)
    """
    opts = options_from("prepare_signal", options)
    return Prepared.of_signal(data, rate, opts, options, audio=audio, scaling=scaling,
                              smoothing=smoothing)
