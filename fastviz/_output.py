"""Resolve an output once: the user's path, format, codec, encoder, frames and sound,
checked, into a frozen ``OutputSpec`` that the writers trust.

Two doors lead here: a render (``_plan.resolve``: ``output_target`` before the
analysis, ``output_spec_of`` after it) and the public ``VideoWriter(path, size, fps,
...)`` (``output_spec``). Both use the same checks, each once.
"""
import os
import warnings
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from ._audio import AudioStream, as_channels_first, check_rate
from ._command import AudioSpec, OutputSpec
from ._encoders import encoder_codec, trial_encode
from ._errors import FastvizWarning, shown
from ._ffmpeg import check_frame_size
from ._files import check_output
from ._formats import (
    FORMATS,
    MAX_AAC_CHANNELS,
    as_fraction,
    check_frames,
    check_preset,
    output_format,
)


def frame_format(format, codec, transparent=False, encoder=None):
    """What the writer of ``format`` takes: ``"rgba"`` with ``transparent``, else the
    format's frames, or, for a chosen ``encoder``, its ``codec``'s own
    (``Codec.frames``)."""
    if transparent:
        return "rgba"
    return FORMATS[format].frames if encoder is None else codec.frames


@dataclass(frozen=True)
class Target:
    """An output's where and what, decided before the analysis: ``path`` (checked; for
    frames their pattern), ``format``, ``codec``, ``pixel_format``, ``fps`` (the
    format's default unless given) and the output as named (``named``)."""

    path: Path
    format: str
    codec: object
    pixel_format: str
    fps: Fraction
    named: Path


def output_target(output, opts, inputs):
    """The ``Target`` of writing ``output`` with ``opts`` (``Options``), refused now if
    it cannot work: its format and codec, the path against ``inputs``, an ``encoder``
    by a trial encode at ``opts.size`` (or 256 x 144)."""
    format, row, codec = output_format(output, opts.format, opts.codec, opts.transparent)
    fps = row.fps if opts.fps is None else as_fraction(opts.fps)
    path = check_output(output, opts.overwrite, inputs, format)
    if opts.encoder is not None:
        codec = encoder_codec(opts.encoder, format, opts.transparent)
    target = Target(path, format, codec,
                    frame_format(format, codec, opts.transparent, opts.encoder), fps,
                    Path(output))
    if opts.encoder is not None:
        width, height = opts.size or (256, 144)
        check_frames(format, codec, width, height, fps)
        trial_encode(OutputSpec(path, format, codec, target.pixel_format, width + width % 2,
                                height + height % 2, fps, opts.preset, opts.crf),
                     opts.encoder)
    return target


def retarget(spec, output):
    """``spec`` written to ``output`` instead, checked as its own output was."""
    output_format(output, spec.format, transparent=spec.transparent)
    path = check_output(output, spec.overwrite, spec.inputs, spec.format)
    return replace(spec, path=path, named=Path(output))


def downmix_note(source, channels):
    """A note when ``source`` has more channels than the video keeps: they are averaged."""
    if channels > MAX_AAC_CHANNELS:
        warnings.warn(f"{source} has {channels} channels, more than the "
                      f"{MAX_AAC_CHANNELS} a video's sound keeps here (AAC's limit, kept for "
                      "Opus too): the "
                      "sound is their average, in both stereo channels", FastvizWarning,
                      stacklevel=4)


def audio_spec(audio, format, start=None, duration=None, n_frames=None, fps=None,
               layout=None, where=None):
    """The ``AudioSpec`` of ``audio`` (a file or ``(samples, rate)``) in ``format``, or
    None: none given, or a format without sound (a note says so, naming ``where``).

    A file is probed here, once, unless its ``layout`` (channels, channel mask) is
    known (the analysis read it). With ``n_frames``, the sound is cut at the last frame.
    """
    if audio is None:
        return None
    row = FORMATS[format]
    if row.audio is None:
        warnings.warn(f"{where} is {format.upper()}, which has no sound: the audio drives "
                      "the animation and is left out", FastvizWarning, stacklevel=3)
        return None
    if n_frames is not None:  # the sound stops with the last frame
        end = float(n_frames / fps)
        duration = end if duration is None else min(float(duration), end)
    if isinstance(audio, tuple):
        samples, rate = audio
        rate = check_rate(rate)
        samples = as_channels_first(samples)
        downmix_note("the audio array", len(samples))
        return AudioSpec(samples=samples, rate=rate, channels=len(samples),
                         duration=duration, codec=row.audio)
    if layout is None or layout[0] is None:
        with AudioStream(audio) as stream:  # fails now, not after the render
            layout = stream.channels, stream.channel_mask
    downmix_note(audio, layout[0])
    return AudioSpec(source=Path(audio), channels=layout[0], channel_mask=layout[1],
                     start=start, duration=duration, codec=row.audio)


def output_spec(path, size, fps, *, audio=None, audio_start=None, audio_duration=None,
                preset="veryfast", crf=20, pixel_format="rgb24", overwrite=False,
                n_frames=None, metadata=None, format=None, codec=None, transparent=False,
                encoder=None, inputs=(), scratch_dir=None):
    """The ``OutputSpec`` of ``VideoWriter``'s arguments (see there), every one checked."""
    format, row, chosen = output_format(path, format, codec, transparent)
    transparent = bool(transparent)
    if encoder is not None:
        chosen = encoder_codec(encoder, format, transparent)
    inputs = tuple(inputs) + ((audio,) if isinstance(audio, (str, os.PathLike)) else ())
    named, path = Path(path), check_output(path, overwrite, inputs, format)
    width, height = (int(s) for s in size)
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {size}")
    check_frame_size(width, height)
    fps = as_fraction(fps)
    check_frames(format, chosen, width, height, fps)
    if (pixel_format == "rgba") != transparent:
        raise ValueError("pixel_format 'rgba' goes with transparent=True, and only it")
    if pixel_format not in ("rgb24", "rgba") and not (
            pixel_format == "nv12" and not (width % 2 or height % 2)
            and chosen.frames == "nv12"):
        raise ValueError(f"pixel_format must be 'rgb24', or 'nv12' with an even size "
                         f"and a BT.709 Y'CbCr encoder; got {shown(pixel_format)} at "
                         f"{width}x{height} for {path} ({chosen.encoder})")
    n_frames = None if n_frames is None else int(n_frames)
    spec = OutputSpec(path, format, chosen, pixel_format, width, height, fps,
                      check_preset(str(preset)), int(crf), transparent,
                      audio_spec(audio, format, audio_start, audio_duration, n_frames,
                                 fps, where=path),
                      n_frames, tuple(dict(metadata or {}).items()), bool(overwrite),
                      inputs, None if scratch_dir is None else Path(scratch_dir), named)
    if encoder is not None:
        trial_encode(spec, encoder)
    return spec
