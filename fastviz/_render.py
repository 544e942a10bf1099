"""The public API: render, render_signal, demo, frame, layout; each resolves once, then
executes.

    arguments ──_plan.resolve (every check, once)──▶ Plan + OutputSpec
        ──EXECUTORS (one machine | Dask segments)──▶ the output
"""
import importlib
import math
import tempfile
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np

from ._analysis import scale_minmax
from ._audio import as_channels_first, check_channel
from ._demo import jingle_bells
from ._errors import FastvizError, InputError, OptionError, OutputError, shown
from ._execute import Run
from ._files import check_output, publish, temporary_file
from ._formats import FORMATS, PICTURE
from ._options import OPTION_NAMES
from ._output import output_target
from ._plan import (
    Plan,
    analyse,
    frame_count,
    input_files,
    make_renderer,
    make_scene,
    options_from,
    output_spec_of,
    plan_render,
    where,
)
from ._scene import projected_scene, scene_bands

# How a resolved render is executed: a name -> (module, function taking the plan, the
# output spec, a Run and the executor's own settings). A new way (a service's worker
# pool) is one row; the modules load only when used.
EXECUTORS = {"local": ("fastviz._execute", "write_video"),
             "dask": ("fastviz._distributed", "render_segments")}


def execute(plan, spec, run, executor="local", **settings):
    """Run a resolved render with ``EXECUTORS[executor]``; returns the output's path."""
    module, function = EXECUTORS[executor]
    return getattr(importlib.import_module(module), function)(plan, spec, run, **settings)


def _segmentable(target, opts, output):
    """Refuse segments for a format or codec that cannot be joined by stream copy."""
    row = FORMATS[target.format]
    if opts.encoder is None and (opts.codec or row.default_codec) in row.segments:
        return
    kinds = "; ".join(f"{row.codecs[c].encoder} {name.upper()} ({', '.join(row.suffixes)})"
                      for name, row in FORMATS.items() for c in row.segments)
    raise OptionError(f"output {output}: segments are {kinds}, joined by stream copy; "
                      "render other formats and encoders in one piece")


def render_file(audio, output, opts, run, scratch_dir=None, split=None):
    """``render`` of checked ``opts``: resolve, then execute (on Dask with ``split``,
    ``render_segments``' settings); the temporary file in ``scratch_dir``."""
    split = {k: v for k, v in (split or {}).items() if v is not None}
    inputs = input_files(audio, opts)
    target = output_target(output, opts, inputs)
    if split:
        from ._distributed import check_split

        _segmentable(target, opts, output)
        check_split(**split)  # before the analysis
    plan, layout = analyse(audio, opts, target)
    spec = output_spec_of(target, plan, opts, inputs, audio, layout, scratch_dir=scratch_dir)
    return execute(plan, spec, run, "dask" if split else "local", **split)


def render(audio, output, *, client=None, scheduler=None, segments=None,
           segment_seconds=None, segment_dir=None, cancel=None, **options):
    """Render an audio file to a video of electrodes pulsing on a brain, with the audio.

    Parameters
    ----------
    audio : str or Path
        Any audio file ffmpeg decodes.
    output : str or Path
        The video to write, its format from its extension (``.mp4``, ``.webm``,
        ``.mov``, ``.gif``, a folder or ``%05d.png`` for PNG frames); an existing file
        is kept unless ``overwrite=True``.
    client, scheduler, segments, segment_seconds, segment_dir : optional
        Render in segments on Dask (``pip install '.[dask]'`` in fastviz's folder) and
        join them: see ``fastviz._distributed.render_segments`` (``EXECUTORS``).
        ``scheduler`` is ``"local"``, ``"local:N"`` or ``"tcp://HOST:PORT"``;
        ``client`` a ``dask.distributed.Client``.
        Giving any of these renders in segments; by default one ffmpeg does it all.
    cancel : callable, optional
        Asked about twice a second while drawing, or while the segments render; when
        it returns true the render stops, nothing is written, and ``Cancelled`` is
        raised. For a front end's "stop" button.
    **options
        See ``Options``: {names}.

    Returns
    -------
    Path of the video.

    Examples
    --------
    ::

        render("song.wav", "song.mp4", fps=25, preset="ultrafast")
    """
    opts = options_from("render", options)
    split = dict(client=client, scheduler=scheduler, n_segments=segments,
                 segment_seconds=segment_seconds, segment_dir=segment_dir)
    return render_file(audio, output, opts, Run(opts.jobs, opts.progress, cancel),
                       split=split)


render.__doc__ = render.__doc__.replace("{names}", "\n        ".join(
    textwrap.wrap(", ".join(OPTION_NAMES), 76)))


def demo(output="jinglebells.mp4", *, cancel=None, **options):
    """Render the built-in demo: synthesised Jingle Bells on the bundled brain; as
    ``render`` (``cancel`` too).

    Examples
    --------
    ::

        demo("jinglebells.mp4", overwrite=True)
    """
    from scipy.io import wavfile

    opts = options_from("demo", options)  # refuse bad options before synthesising
    samples, rate = jingle_bells()
    check_channel(opts.channel, 1, "the demo song")
    length = len(samples) / rate
    if opts.start is not None and opts.start >= length:
        raise InputError(f"start {opts.start} s is past the end of the demo song "
                         f"({length:.1f} s)")
    with tempfile.TemporaryDirectory(prefix="fastviz-") as tmp:
        wav = Path(tmp) / "jinglebells.wav"
        wavfile.write(wav, rate, samples)
        try:
            return render(wav, output, cancel=cancel, **options)
        except FastvizError as exc:  # name the song, not a deleted scratch file
            raise type(exc)(str(exc).replace(str(wav), "the demo song")) from None


def _signal(data, rate):
    """(values (n_electrodes, n_times), rate, channel names, 3-D positions or None)."""
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


def _cut(values, rate, audio, start, duration):
    """The part of a signal (and of an audio array) from ``start`` for ``duration`` s."""
    first = round((start or 0) * rate)
    if first >= values.shape[1]:
        raise InputError(f"start {start} s is past the end of the signal "
                         f"({values.shape[1] / rate:.3f} s)")
    stop = values.shape[1] if duration is None else first + max(1, round(duration * rate))
    if isinstance(audio, tuple):
        samples, audio_rate = audio
        samples = as_channels_first(samples)
        a = round((start or 0) * audio_rate)
        b = None if duration is None else a + round(duration * audio_rate)
        audio = (samples[:, a:b], audio_rate)
    return values[:, first:stop], audio


def render_signal(data, output, rate=None, *, audio=None, scaling="minmax",
                  smoothing=None, **options):
    """Render any per-electrode signal to a video, optionally with sound.

    Parameters
    ----------
    data : array_like or MNE Raw, Epochs or Evoked
        An (n_electrodes, n_times) array sampled at ``rate``, or an MNE object whose
        ECoG, sEEG, DBS or EEG channels are drawn (Epochs are averaged first).
    output : str or Path
        The video to write, as for ``render``.
    rate : float, optional
        Sampling rate in Hz of an array ``data``.
    audio : str, Path or (samples, rate), optional
        Sound to mux in.
    scaling : "minmax" or (vmin, vmax)
        "minmax" scales each electrode over the whole recording as the post does
        (``MinMaxScaler((0, 1.6))``, clipped at 1); a pair maps vmin..vmax to 0..1 for
        every electrode alike, clipped.
    smoothing : float, optional
        Low-pass cut-off in Hz applied before scaling (MNE's FIR filter).
    **options
        As for ``render``. ``electrodes`` may also be an (n, 2) array of pixel positions
        or a dict from channel name to (x, y). With neither a background nor electrodes,
        an MNE object's channel positions are drawn in a left lateral projection on a
        plain background.

    Returns
    -------
    Path of the video.

    Examples
    --------
    ::

        raw = mne.io.RawArray(data, info)
        render_signal(raw, "ecog.mp4", smoothing=5.0)
    """
    opts = options_from("render_signal", options)
    inputs = input_files(None if isinstance(audio, tuple) else audio, opts)
    target = output_target(output, opts, inputs)
    if opts.channel is not None:
        raise OptionError("channel picks an audio channel to analyse; render_signal draws "
                          "every electrode of its signal, so pass a subset of it instead")
    values, rate, names, locs = _signal(data, rate)
    values, audio = _cut(values, rate, audio, opts.start, opts.duration)
    if opts.background is None and opts.electrodes is None and locs is not None:
        background, xs, ys = projected_scene(locs, opts.size)
        opts = replace(opts, background=background, electrodes=np.column_stack([xs, ys]))
    renderer = make_renderer(opts, scene=make_scene(opts, target, names))
    if renderer.n_electrodes != len(values):
        raise InputError(f"the signal has {len(values)} electrodes but the scene has "
                         f"{renderer.n_electrodes} positions")
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
    plan = Plan(renderer, amplitudes, rate, None, target.fps,
                frame_count(values.shape[1] / rate, target.fps))
    spec = output_spec_of(target, plan, opts, inputs, audio,
                          cut=not isinstance(audio, tuple))
    return execute(plan, spec, Run(opts.jobs, opts.progress))


def _write_png(picture, path, overwrite, inputs):
    """Save an (H, W, 3) uint8 picture as a PNG at ``path`` (checked before the work
    by ``check_output``), complete or not at all."""
    from PIL import Image

    part = temporary_file(path)
    try:
        try:
            Image.fromarray(picture).save(part, format="PNG")
        except OSError as exc:  # a full disk says only "[Errno 28]"
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        publish(part, path, overwrite, inputs)  # as the umask says; never over a newcomer
    finally:
        part.unlink(missing_ok=True)
    return path


def frame(audio, at, output=None, **options):
    """The frame a render of ``audio`` shows at ``at`` seconds, as a picture.

    The same analysis and scene as ``render``; the frame is number
    ``floor(at * fps)`` of the video (counted from ``start``), drawn as RGB by
    ``FrameRenderer.frames``. The video encodes ``frames_nv12`` of the same values:
    at ``crf=0`` its decoded frame equals that NV12 frame exactly, and its luma equals
    this picture's BT.709 luma to within 1 (tested); colour differs by 4:2:0 chroma.

    Parameters
    ----------
    audio : str or Path
    at : float
        Seconds from the start of the video.
    output : str or Path, optional
        A ``.png`` to write (kept unless ``overwrite=True``).
    **options
        As for ``render``.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)

    Examples
    --------
    ::

        picture = frame("song.wav", 12.0, "frame.png")
    """
    opts = options_from("frame", options)
    inputs = input_files(audio, opts)
    if output is not None:
        output = check_output(output, opts.overwrite, inputs, format=PICTURE)
    if not (isinstance(at, (int, float, np.number)) and 0 <= at < math.inf):
        raise OptionError(f"at must be a finite number of seconds >= 0, got {shown(at)}")
    plan = plan_render(audio, opts)
    index = math.floor(round(at * plan.fps, 9))
    if index >= plan.n_frames:
        raise InputError(f"at must be within the video: {at} s is past the video's end "
                         f"({plan.n_frames} frames at "
                         f"{plan.fps} fps, {float(plan.n_frames / plan.fps):.3f} s)")
    picture = plan.renderer.frames(plan.values(index, index + 1))[0]
    if output is not None:
        _write_png(picture, output, opts.overwrite, inputs)
    return picture


def layout(output=None, **options):
    """A picture of the scene with each electrode's name (or index) and band.

    Each electrode is marked with a small dot and labelled ``NAME/BAND`` in Pillow's
    own font, on the picture at the video's size, to check a table or a montage before
    rendering. Band 0 is the lowest frequency (400 Hz).

    Parameters
    ----------
    output : str or Path, optional
        A ``.png`` to write.
    **options
        The scene options of ``render``: background, electrodes, montage, size, fit,
        bg_color, bands_by.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)

    Examples
    --------
    >>> layout(montage="biosemi32", size=(200, 200)).shape
    (200, 200, 3)
    """
    from ._analysis import FREQS
    from ._scene import draw_layout

    opts = options_from("layout", options)
    inputs = input_files(None, opts)
    if output is not None:
        output = check_output(output, opts.overwrite, inputs, format=PICTURE)
    scene = make_scene(opts)
    picture = draw_layout(scene, scene_bands(scene, len(FREQS), opts.bands_by, where(opts)))
    if output is not None:
        _write_png(picture, output, opts.overwrite, inputs)
    return picture
