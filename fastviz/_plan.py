"""Resolve a render once: options, output, scene and analysis into a frozen ``Plan`` (what
to draw) and ``OutputSpec`` (what to write), which any executor runs as they are.

    options ──Options (every option checked)──▶ output_target (format, codec, path, trial
    encode) ──▶ scene (picture, electrodes, frame size) ──▶ analysis (the audio decoded
    once; its channels read from that decode) ──▶ Plan + OutputSpec
"""
import difflib
import math
import os
import warnings
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from ._analysis import envelopes_of, scale_minmax
from ._audio import as_channels_first, check_rate
from ._command import OutputSpec
from ._demo import demo_scene
from ._encode import source_tag
from ._encoders import encoder_codec
from ._errors import FastvizWarning, InputError, OptionError, shown
from ._execute import Run, watching
from ._ffmpeg import check_frame_size
from ._formats import DEFAULT_FORMAT, FORMATS, as_fraction, check_frames
from ._options import OPTION_NAMES, Options
from ._output import audio_spec, output_target
from ._raster import FrameRenderer, values_at
from ._scene import build_scene, load_look, look_file, scene_bands


@dataclass(frozen=True)
class Plan:
    """A render decided: the renderer (its scene), what to draw when, how many frames.

    Made once on the driver, after the analysis; one ffmpeg (``_execute``) or many
    segments (``_distributed``) draw it alike.
    """

    renderer: FrameRenderer
    amplitudes: np.ndarray  # (n_rows, n_samples), sample k at k / rate
    rate: float
    rows: np.ndarray  # each electrode's row of amplitudes, or None for one row each
    fps: Fraction
    n_frames: int

    def values(self, first, stop):
        """Values of frames ``[first, stop)``, (stop - first, n_electrodes)."""
        return frame_values(self.amplitudes, self.rate, self.fps, first, stop, self.rows)


def frame_count(duration, fps):
    """ceil(duration * fps): enough frames to cover the audio, the last one partly."""
    return max(1, math.ceil(round(duration * fps, 9)))


def frame_values(amplitudes, rate, fps, first, stop, rows=None):
    """Values of frames ``[first, stop)``: ``amplitudes`` at t = i / fps, (n, n_electrodes).

    ``rows`` picks each electrode's row of ``amplitudes`` (the audio path keeps one row
    a band, not one per electrode). Any range gives the same numbers as the whole.
    """
    values = values_at(amplitudes, rate, np.arange(first, stop) / float(fps))
    return values if rows is None else values[:, rows]


def with_look(options):
    """``options`` over their look's settings: what a call gives wins (None is not given)."""
    if options.get("look") is None:
        return options
    look = load_look(options["look"])
    return {**look, **{k: v for k, v in options.items() if not (k in look and v is None)}}


def options_from(function, options):
    """``Options(**options)``, with a misspelt keyword named as ``function``'s.

    Examples
    --------
    >>> options_from("render", {"fsp": 25})
    Traceback (most recent call last):
    ...
    TypeError: render() got an unexpected keyword argument 'fsp'; did you mean 'fps'?
    """
    options = with_look(options)
    for name in options:
        if name not in OPTION_NAMES:
            close = difflib.get_close_matches(name, OPTION_NAMES, n=1)
            hint = f"; did you mean {shown(close[0])}?" if close else ""
            raise TypeError(f"{function}() got an unexpected keyword argument {shown(name)}{hint}")
    return Options(**options)


def input_files(audio, opts):
    """Every file a render of ``audio`` with ``opts`` reads, from this one place: the
    audio, the picture, the electrode table, the look file. The output may be none of
    them (``check_output``, ``publish``)."""
    files = (audio, opts.background, opts.electrodes, look_file(opts.look)[0])
    return tuple(Path(f) for f in files if isinstance(f, (str, os.PathLike)))


def preview_codec(opts):
    """The ``Codec`` a preview's frame is shaped for: the ``format``'s (an MP4's by
    default, what a render writes), or the chosen encoder's."""
    format = opts.format or DEFAULT_FORMAT
    if opts.encoder is not None:
        return encoder_codec(opts.encoder, format, opts.transparent)
    row = FORMATS[format]
    return row.codecs[opts.codec or row.default_codec]


def make_scene(opts, target=None, names=None):
    """The ``Scene`` of ``opts`` (the bundled brain and grid by default) at the frame
    size of ``target`` (an ``_output.Target``; None: a preview's).

    ``opts.electrodes`` may be a CSV path, a table (a pandas DataFrame) with ``x_2d``
    and ``y_2d`` columns, an (n, 2) array of (x, y) pixel positions, or a dict of
    channel name to (x, y) when ``names`` are given. There is no ``(xs, ys)`` form: a
    pair would read the same as two points, so separate coordinates go through
    ``np.column_stack([xs, ys])``.
    """
    background, electrodes = opts.background, opts.electrodes
    if background is None and opts.montage is None:  # electrodes alone: the brain
        background, demo_electrodes = demo_scene()
        electrodes = demo_electrodes if electrodes is None else electrodes

    def build(size):
        return build_scene(background, electrodes, montage=opts.montage, size=size,
                           fit=opts.fit, bg_color=opts.bg_color,
                           brightness=opts.brightness, invert=opts.invert, names=names)

    scene = build(opts.size)
    height, width = scene.background.shape[:2]
    format = (opts.format or DEFAULT_FORMAT) if target is None else target.format
    widest = FORMATS[format].width
    if opts.size is None and widest is not None and width > widest:  # a GIF for slides
        scene = build((widest, max(1, round(height * widest / width))))
        height, width = scene.background.shape[:2]
    check_frame_size(width, height)
    codec = preview_codec(opts) if target is None else target.codec
    if target is not None or opts.format is not None:  # a preview of a format, too
        check_frames(format, codec, width, height, fps_of(opts, target))
    if codec.even and (width % 2 or height % 2):
        # 4:2:0 video needs even sizes: the frame gets a black column or row here, once,
        # so previews, layouts and the video show the same picture
        scene = replace(scene, background=np.pad(
            scene.background, ((0, height % 2), (0, width % 2), (0, 0))))
    return scene


def make_renderer(opts, names=None, scene=None):
    """The FrameRenderer for ``opts``' scene (``make_scene``), or for ``scene``."""
    scene = make_scene(opts, names=names) if scene is None else scene
    return FrameRenderer(scene.background, scene.xs, scene.ys, cmap=opts.cmap,
                         dot_size="auto" if opts.dot_size is None else opts.dot_size,
                         alpha=opts.alpha, colors=scene.colors, sizes=scene.sizes,
                         picture_width=scene.picture_width)


def where(opts):
    """How an error names the scene: its table file, or the montage."""
    if opts.montage is not None:
        return f"montage {opts.montage}"
    if isinstance(opts.electrodes, (str, Path)):
        return f"electrode table {opts.electrodes}"
    return "the electrodes" if opts.electrodes is not None else "the bundled table"


def plan_render(audio, opts, target=None):
    """Analyse an audio file and build the scene for ``opts`` (framed for ``target``,
    an ``_output.Target``; None: a preview); returns a ``Plan``."""
    return analyse(audio, opts, target)[0]


@dataclass(frozen=True)
class Analysis:
    """What the analysis of a render's input found, which no scene or output changes:
    ``amplitudes`` (a row a band of the audio, ``n_bands`` rows; or a row an electrode
    of a signal, ``n_bands`` None), sample k at k / ``rate``, over ``duration``
    seconds; ``layout``, the audio file's (channels, channel mask), or (None, 0)."""

    amplitudes: np.ndarray
    rate: float
    duration: float
    n_bands: int = None
    layout: tuple = (None, 0)


def drawing(opts, target=None, names=None):
    """``(Scene, FrameRenderer)`` of ``opts`` framed for ``target`` (None: a preview):
    what every frame is drawn on."""
    scene = make_scene(opts, target, names)
    return scene, make_renderer(opts, scene=scene)


def plan_of(analysis, opts, drawn, fps):
    """The ``Plan`` that draws ``analysis`` on ``drawn`` (``drawing``) at ``fps``."""
    scene, renderer = drawn
    rows = (None if analysis.n_bands is None
            else scene_bands(scene, analysis.n_bands, opts.bands_by, where(opts)))
    return Plan(renderer, analysis.amplitudes, analysis.rate, rows, fps,
                frame_count(analysis.duration, fps))


def analyse(audio, opts, target=None, run=None):
    """``plan_render``, and the (channels, channel mask) of the file, read from the
    analysis's own decode: ``(Plan, layout)``. ``run`` (an ``_execute.Run``): its
    cancel and progress during the analysis."""
    drawn = drawing(opts, target)
    fps = fps_of(opts, target)
    analysis = analyse_audio(audio, opts, fps, run)
    return plan_of(analysis, opts, drawn, fps), analysis.layout


def analyse_audio(audio, opts, fps, run=None, name=None):
    """The ``Analysis`` of ``audio``, a file or ``(samples, rate)`` (already cut to
    ``opts.start`` and ``opts.duration``: ``cut_sound``), as ``opts`` say; ``run``'s
    cancel asked and its progress told (``_execute.watching``) as it reads, at ``fps``.
    ``name``: how messages name the audio (default the file, or "the audio array")."""
    samples = isinstance(audio, tuple)
    name = name or ("the audio array" if samples else str(audio))
    source, rate = audio if samples else (audio, None)
    with watching(run or Run(progress=False), f"the analysis of {name}",
                  f"analysing {name if samples else Path(name).name}", fps) as on_block:
        env = envelopes_of(source, rate, channel=opts.channel,
                           start=None if samples else opts.start,
                           duration=None if samples else opts.duration,
                           sampling=opts.sampling, on_block=on_block)
    if env.dark.any():
        bands_hz = " and ".join(f"{f:.0f}" for f in env.freqs[env.dark])
        warnings.warn(f"the {bands_hz} Hz band(s) stay dark: {name} holds no sound "
                      "there (its sample rate is too low)", FastvizWarning, stacklevel=5)
    return Analysis(env.scaled(), env.rate, env.duration, len(env.freqs),
                    (env.channels, env.channel_mask))


def audio_input(audio):
    """``audio`` as a render takes it: a path (str or ``os.PathLike``) as it is, a
    ``(samples, rate)`` pair checked (samples as float32 ``(n_channels, n)``), or
    ``"file"`` for a binary file object (``read``); else an ``InputError`` naming what
    was given and what is accepted.

    Examples
    --------
    >>> audio_input(("song", 44100))
    Traceback (most recent call last):
    ...
    fastviz._errors.InputError: audio samples must be numbers, got str 'song'
    """
    if isinstance(audio, (str, os.PathLike)):
        return audio
    if isinstance(audio, tuple) and len(audio) == 2:
        samples, rate = audio
        try:
            samples = as_channels_first(samples)
        except (TypeError, ValueError):
            raise InputError(f"audio samples must be numbers, got "
                             f"{type(samples).__name__} {shown(samples)}") from None
        return samples, check_rate(rate)
    if callable(getattr(audio, "read", None)):
        return "file"
    raise InputError(f"audio must be the path of an audio file, a (samples, rate) pair "
                     f"or a binary file object open for reading; got "
                     f"{type(audio).__name__} {shown(audio)}")


def cut_sound(sound, start, duration, what="the audio array"):
    """``(samples, rate)`` from ``start`` for ``duration`` seconds (None: to its end); an
    ``InputError`` naming ``what`` when ``start`` is past its end."""
    samples, rate = sound
    first = round((start or 0) * rate)
    if start is not None and first >= samples.shape[1]:
        raise InputError(f"start {start} s is past the end of {what} "
                         f"({samples.shape[1] / rate:.3f} s)")
    stop = None if duration is None else first + max(1, round(duration * rate))
    return samples[:, first:stop], rate


def signal_input(data, rate):
    """(values (n_electrodes, n_times), rate, channel names, 3-D positions or None) of
    a signal: an array at ``rate``, or an MNE Raw, Epochs (averaged) or Evoked."""
    if hasattr(data, "info") and hasattr(data, "get_data"):  # an MNE Raw, Epochs, Evoked
        import mne

        if isinstance(data, mne.BaseEpochs):
            data = data.average()  # a movie of the evoked response
        picks = mne.pick_types(data.info, eeg=True, ecog=True, seeg=True, dbs=True,
                               exclude="bads")
        if not len(picks):
            raise InputError("the MNE object has no ECoG, sEEG, DBS or EEG channels")
        if rate is not None and rate != data.info["sfreq"]:
            raise InputError(f"rate={rate} differs from the MNE object's own sampling "
                             f"rate, {data.info['sfreq']} Hz: leave rate out")
        values = data.get_data(picks=picks)
        locs = np.array([data.info["chs"][p]["loc"][:3] for p in picks])
        return values, data.info["sfreq"], [data.ch_names[p] for p in picks], locs
    try:
        values = np.asarray(data, float)
    except (ValueError, TypeError):  # ragged rows, text
        raise InputError(f"signal must be an (n_electrodes, n_times) array of numbers, "
                         f"every row as long; got {type(data).__name__}") from None
    if values.ndim != 2 or not values.size:
        raise InputError(f"signal must be an (n_electrodes, n_times) array, "
                         f"got shape {values.shape}")
    if np.isinf(values).any():
        raise InputError("signal has infinite values; use NaN to hide a dot")
    if rate is None:
        raise InputError("rate (Hz) is required with a signal array")
    if not (isinstance(rate, (int, float, np.number)) and 0 < rate < math.inf):
        raise InputError(f"rate must be a sampling rate in Hz above 0, got {shown(rate)}")
    return values, float(rate), None, None


def cut_signal(values, rate, start, duration):
    """The part of a signal from ``start`` for ``duration`` seconds."""
    first = round((start or 0) * rate)
    if first >= values.shape[1]:
        raise InputError(f"start {start} s is past the end of the signal "
                         f"({values.shape[1] / rate:.3f} s)")
    stop = values.shape[1] if duration is None else first + max(1, round(duration * rate))
    return values[:, first:stop]


def analyse_signal(values, rate, smoothing=None, scaling="minmax"):
    """The ``Analysis`` of a signal: low-passed at ``smoothing`` Hz (MNE's FIR filter),
    scaled per electrode (``"minmax"``) or from ``(vmin, vmax)`` to 0..1."""
    if smoothing is not None:
        import mne

        if np.isnan(values).any():
            raise InputError("smoothing needs a signal without NaN (a filter would "
                             "spread each NaN over its neighbours)")
        values = mne.filter.filter_data(values, rate, None, smoothing, verbose="error")
    if isinstance(scaling, str) and scaling == "minmax":
        amplitudes = scale_minmax(values)
    else:
        vmin, vmax = scaling
        if not vmax > vmin:
            raise OptionError(f"scaling needs vmin < vmax, got {scaling}")
        amplitudes = np.clip((values - vmin) / (vmax - vmin), 0, 1)
    return Analysis(amplitudes, rate, values.shape[1] / rate)


def fps_of(opts, target):
    """The frame rate: the target's (the format's default unless given), or a preview's."""
    if target is not None:
        return target.fps
    return FORMATS[opts.format or DEFAULT_FORMAT].fps if opts.fps is None else as_fraction(opts.fps)


def output_spec_of(target, plan, opts, inputs, audio=None, layout=None, cut=True,
                   scratch_dir=None, tag=True):
    """The ``OutputSpec`` that writes ``plan`` to ``target``: its frame size from the
    renderer, the sound of ``audio`` (its ``layout`` as the analysis read it, cut as
    the options say when ``cut``), tagged with the audio file it was made from (unless
    not ``tag``: a scratch copy of a file object is nobody's source)."""
    renderer = plan.renderer
    width, height = (renderer.nv12_size if target.pixel_format == "nv12"
                     else (renderer.width, renderer.height))
    file = tag and isinstance(audio, (str, os.PathLike))
    sound = audio_spec(audio, target.format, opts.start if cut else None,
                       opts.duration if cut else None, plan.n_frames, plan.fps, layout,
                       where=target.path)
    return OutputSpec(target.path, target.format, target.codec, target.pixel_format,
                      width, height, plan.fps, opts.preset, opts.crf, opts.transparent,
                      sound, plan.n_frames, (("comment", source_tag(audio)),) if file else (),
                      opts.overwrite, inputs,
                      None if scratch_dir is None else Path(scratch_dir), target.named)


def resolve(audio, output, opts, scratch_dir=None):
    """``(Plan, OutputSpec)`` of rendering the audio file ``audio`` to ``output`` with
    ``opts``: the output checked before the analysis, the audio probed once."""
    inputs = input_files(audio, opts)
    target = output_target(output, opts, inputs)
    plan, layout = analyse(audio, opts, target)
    return plan, output_spec_of(target, plan, opts, inputs, audio, layout,
                                scratch_dir=scratch_dir)
