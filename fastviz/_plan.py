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

from ._analysis import envelopes_of
from ._command import OutputSpec
from ._demo import demo_scene
from ._encode import source_tag
from ._encoders import encoder_codec
from ._errors import FastvizWarning, shown
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


def analyse(audio, opts, target=None):
    """``plan_render``, and the (channels, channel mask) of the file, read from the
    analysis's own decode: ``(Plan, layout)``."""
    scene = make_scene(opts, target)
    renderer = make_renderer(opts, scene=scene)
    env = envelopes_of(audio, channel=opts.channel, start=opts.start,
                       duration=opts.duration, sampling=opts.sampling)
    if env.dark.any():
        bands_hz = " and ".join(f"{f:.0f}" for f in env.freqs[env.dark])
        warnings.warn(f"the {bands_hz} Hz band(s) stay dark: {audio} holds no sound "
                      "there (its sample rate is too low)", FastvizWarning, stacklevel=4)
    bands = scene_bands(scene, len(env.freqs), opts.bands_by, where(opts))
    fps = fps_of(opts, target)
    plan = Plan(renderer, env.scaled(), env.rate, bands, fps, frame_count(env.duration, fps))
    return plan, (env.channels, env.channel_mask)


def fps_of(opts, target):
    """The frame rate: the target's (the format's default unless given), or a preview's."""
    if target is not None:
        return target.fps
    return FORMATS[opts.format or DEFAULT_FORMAT].fps if opts.fps is None else as_fraction(opts.fps)


def output_spec_of(target, plan, opts, inputs, audio=None, layout=None, cut=True,
                   scratch_dir=None):
    """The ``OutputSpec`` that writes ``plan`` to ``target``: its frame size from the
    renderer, the sound of ``audio`` (its ``layout`` as the analysis read it, cut as
    the options say when ``cut``), tagged with the audio file it was made from."""
    renderer = plan.renderer
    width, height = (renderer.nv12_size if target.pixel_format == "nv12"
                     else (renderer.width, renderer.height))
    file = isinstance(audio, (str, os.PathLike))
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
