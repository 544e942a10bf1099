"""The pipeline: audio -> envelopes -> per-electrode amplitudes -> frames -> video."""
import difflib
import math
import tempfile
import warnings
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from ._analysis import audio_envelopes, electrode_bands, scale_minmax
from ._audio import as_channels_first, check_channel
from ._demo import demo_scene, jingle_bells
from ._encode import (
    FORMATS,
    GIF_FPS,
    GIF_WIDTH,
    VideoWriter,
    as_fraction,
    check_output,
    check_preset,
    output_format,
    speed_settings,
)
from ._errors import FastvizError, FastvizWarning, InputError, OutputError
from ._ffmpeg import check_frame_size
from ._progress import progress_bar
from ._raster import FrameRenderer, load_background, load_electrodes, values_at

CHUNK_FRAMES = 8  # frames a worker renders per task; a few chunks per worker in memory
MAX_FPS = 240
MIN_FPS = Fraction(1, 1000)


@dataclass(frozen=True)
class Options:
    """Everything a user can set for a render; checked once, here.

    background, electrodes : picture file and CSV (``x_2d``, ``y_2d``) in its pixels.
        Default: the bundled brain and grid; electrodes alone go on the bundled brain.
    size : (width, height) of the video; default the picture's.
    fps : frame rate (number or ``"a/b"``), default 30 (a GIF: 15).
    jobs : render threads; None or -1 uses every core.
    speed : ``"fastest"``, ``"balanced"`` (default) or ``"smallest"``: x264 settings
        measured to keep VMAF 95 against lossless (``_encode.SPEEDS``, README).
    preset, crf : libx264 (and x265) settings, for experts; each given one replaces
        the speed's own.
    start, duration : seconds of the audio to skip, and to keep.
    channel : analyse this channel (0-based) instead of the mono mix.
    cmap, dot_size, alpha : see ``FrameRenderer``.
    overwrite : replace an existing output.
    progress : show a progress bar on stderr.
    format, codec : the output's format (a key of ``_encode.FORMATS``; default from its
        extension) and codec (``"hevc"``, ``"av1"``...; default the format's first).
        A GIF is at most 480 pixels wide unless ``size`` is given.
    transparent : only the dots, with an alpha channel (.mov, .webm, PNG frames).
    encoder : any video encoder of the bundled ffmpeg (``"h264_nvenc"``), checked by a
        one-frame trial encode before the analysis.

    Examples
    --------
    >>> Options(fps="30000/1001", preset="ultrafast").crf
    20
    """

    background: object = None
    electrodes: object = None
    size: tuple = None
    fps: object = 30
    jobs: int = None
    speed: str = None
    preset: str = None
    crf: int = None
    start: float = None
    duration: float = None
    channel: int = None
    cmap: object = None
    dot_size: float = 100.0
    alpha: float = 1.0
    overwrite: bool = False
    progress: bool = True
    format: str = None
    codec: str = None
    transparent: bool = False
    encoder: str = None

    def __post_init__(self):
        fps = as_fraction(self.fps)
        if not MIN_FPS <= fps <= MAX_FPS:
            raise ValueError(f"fps must be from {MIN_FPS} (a frame every 1000 s) to "
                             f"{MAX_FPS} frames a second (what players and H.264's levels "
                             f"are made for), got {self.fps}")
        if self.background is not None and self.electrodes is None:
            raise InputError("a background picture needs electrode positions in its "
                             "pixels (electrodes=...)")
        if self.size is not None:
            if (isinstance(self.size, str) or len(self.size) != 2
                    or not all(_is_whole(v) and v > 0 for v in self.size)):
                raise ValueError(f"size must be a (width, height) pair of whole numbers "
                                 f"above 0, got {self.size!r}")
            check_frame_size(*self.size)
        if self.jobs is not None and not (_is_whole(self.jobs) and self.jobs != 0):
            raise ValueError(f"jobs must be a whole number of threads, or -1 for every "
                             f"core, got {self.jobs!r}")
        preset, crf = speed_settings(self.speed, self.preset, self.crf)
        object.__setattr__(self, "preset", preset)  # frozen: set once, here
        object.__setattr__(self, "crf", crf)
        check_preset(self.preset)
        if not (_is_whole(self.crf) and 0 <= self.crf <= 51):
            raise ValueError(f"crf must be a whole number in 0..51, got {self.crf!r}")
        for name, low in (("start", 0), ("duration", 1e-9)):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float, np.number))
                                          and math.isfinite(value) and value >= low):
                raise ValueError(f"{name} must be a finite number of seconds "
                                 f"{'>= 0' if low == 0 else '> 0'}, got {value!r}")


def _is_whole(value):
    """Whether ``value`` is an integer (of any numeric type), not a float or a string."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def options_from(function, options):
    """``Options(**options)``, with a misspelt keyword named as ``function``'s.

    Examples
    --------
    >>> options_from("render", {"fsp": 25})
    Traceback (most recent call last):
    ...
    TypeError: render() got an unexpected keyword argument 'fsp'; did you mean 'fps'?
    """
    known = [f.name for f in fields(Options)]
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TypeError(f"{function}() got an unexpected keyword argument {name!r}{hint}")
    return Options(**options)


def make_renderer(options, names=None):
    """The FrameRenderer for ``options``' scene (the bundled one by default).

    ``options.electrodes`` may be a CSV path, a table (a pandas DataFrame) with ``x_2d``
    and ``y_2d`` columns, an (n, 2) array of (x, y) pixel positions, or a dict of
    channel name to (x, y) when ``names`` are given. There is no ``(xs, ys)`` form: a
    pair would read the same as two points, so separate coordinates go through
    ``np.column_stack([xs, ys])``.
    """
    background, electrodes = options.background, options.electrodes
    if background is None:  # electrodes alone are placed on the bundled brain
        background, demo_electrodes = demo_scene()
        electrodes = demo_electrodes if electrodes is None else electrodes
    if isinstance(electrodes, (str, Path)):
        xs, ys = load_electrodes(electrodes)
    elif isinstance(electrodes, dict):
        if names is None:
            raise InputError("electrodes as a dict need channel names: use "
                             "render_signal with an MNE object")
        missing = [n for n in names if n not in electrodes]
        if missing:
            raise InputError(f"no position for channel(s) {missing[:5]} in electrodes")
        xs, ys = np.array([electrodes[n] for n in names], float).T
    elif hasattr(electrodes, "columns"):
        xs, ys = np.asarray(electrodes[["x_2d", "y_2d"]], float).T
    else:
        points = np.asarray(electrodes, float)
        if points.ndim != 2 or points.shape[1] != 2:
            raise InputError(f"electrodes must be (n, 2) points (x, y), got shape "
                             f"{points.shape}; for separate x and y arrays pass "
                             "np.column_stack([xs, ys])")
        xs, ys = points.T
    size = options.size
    if size is None and options.format == "gif":  # slides and READMEs: small
        background = load_background(background)
        height, width = background.shape[:2]
        if width > GIF_WIDTH:
            size = (GIF_WIDTH, max(1, round(height * GIF_WIDTH / width)))
    return FrameRenderer(background, xs, ys, size=size, cmap=options.cmap,
                         dot_size=options.dot_size, alpha=options.alpha)


def output_options(function, output, options, inputs=()):
    """``Options`` for writing ``output``: its format resolved from the name (a GIF at
    15 fps unless ``fps`` is given), checked with the output before any work."""
    opts = options_from(function, options)
    format = output_format(output, opts.format, opts.codec, opts.transparent)[0]
    opts = replace(opts, format=format)
    if format == "gif" and "fps" not in options:
        opts = replace(opts, fps=GIF_FPS)
    check_output(output, opts.overwrite, inputs, format)
    if opts.encoder is not None:  # a writer made and dropped: it runs the trial encode
        width, height = opts.size or (256, 144)
        VideoWriter(output, (width + width % 2, height + height % 2), opts.fps,
                    overwrite=True, format=format, codec=opts.codec,
                    encoder=opts.encoder, pixel_format=FORMATS[format].frames)
    return opts


def frame_count(duration, fps):
    """ceil(duration * fps): enough frames to cover the audio, the last one partly."""
    return max(1, math.ceil(round(duration * as_fraction(fps), 9)))


def frame_values(amplitudes, rate, fps, first, stop, rows=None):
    """Values of frames ``[first, stop)``: ``amplitudes`` at t = i / fps, (n, n_electrodes).

    ``rows`` picks each electrode's row of ``amplitudes`` (the audio path keeps one row
    a band, not one per electrode). Any range gives the same numbers as the whole.
    """
    values = values_at(amplitudes, rate, np.arange(first, stop) / float(as_fraction(fps)))
    return values if rows is None else values[:, rows]


def iter_frames(renderer, values, n_frames, jobs=None, pixel_format="nv12"):
    """Yield blocks of frames ``[0, n_frames)`` in order, drawn by joblib threads.

    ``pixel_format`` is ``"nv12"`` (``frames_nv12``), ``"rgb24"`` (``frames``) or
    ``"rgba"`` (``frames_rgba``).

    ``values(first, stop)`` gives the (stop - first, n_electrodes) values of those
    frames (``frame_values``). Each worker renders ``CHUNK_FRAMES`` at a time into its
    own buffer, reused for every window, so memory does not grow with the length and
    no page is faulted in twice: a yielded block is valid until the next one is asked
    for.
    """
    from joblib import Parallel, delayed, effective_n_jobs

    n_jobs = min(effective_n_jobs(-1 if jobs is None else jobs),
                 -(-n_frames // CHUNK_FRAMES))  # no idle buffers for short videos
    draw = {"nv12": renderer.frames_nv12, "rgb24": renderer.frames,
            "rgba": renderer.frames_rgba}[pixel_format]
    buffers = [np.empty((CHUNK_FRAMES, *renderer.frame_shape(pixel_format)), np.uint8)
               for _ in range(n_jobs)]

    def block(first, stop, out):
        return draw(values(first, stop), out[:stop - first])

    window = CHUNK_FRAMES * n_jobs
    with Parallel(n_jobs=n_jobs, backend="threading") as parallel:
        for first in range(0, n_frames, window):
            starts = range(first, min(first + window, n_frames), CHUNK_FRAMES)
            yield from parallel(delayed(block)(a, min(a + CHUNK_FRAMES, n_frames), out)
                                for a, out in zip(starts, buffers))


@dataclass(frozen=True)
class Plan:
    """A render decided: the scene, what to draw when, and the sound to mux.

    Made once on the driver, after the analysis; one ffmpeg (``write_video``) or many
    segments (``fastviz._distributed``) draw it alike.
    """

    renderer: FrameRenderer
    amplitudes: np.ndarray  # (n_rows, n_samples), sample k at k / rate
    rate: float
    rows: np.ndarray  # each electrode's row of amplitudes, or None for one row each
    fps: Fraction
    n_frames: int
    audio: object = None  # a file, (samples, rate), or None
    audio_start: float = None
    audio_duration: float = None

    def values(self, first, stop):
        """Values of frames ``[first, stop)``, (stop - first, n_electrodes)."""
        return frame_values(self.amplitudes, self.rate, self.fps, first, stop, self.rows)


def write_video(plan, output, options):
    """Render ``plan``'s frames and encode them through one ffmpeg."""
    renderer = plan.renderer
    pixel_format = "rgba" if options.transparent else FORMATS[options.format or "mp4"].frames
    size = (renderer.nv12_size if pixel_format == "nv12"
            else (renderer.width, renderer.height))
    writer = VideoWriter(output, size, plan.fps, audio=plan.audio,
                         audio_start=plan.audio_start, audio_duration=plan.audio_duration,
                         preset=options.preset, crf=options.crf, pixel_format=pixel_format,
                         overwrite=options.overwrite, n_frames=plan.n_frames,
                         format=options.format, codec=options.codec,
                         transparent=options.transparent, encoder=options.encoder)
    with writer, progress_bar(plan.n_frames, Path(output).name, options.progress) as bar:
        for frames in iter_frames(renderer, plan.values, plan.n_frames, options.jobs,
                                  pixel_format):
            writer.write(frames)
            bar.update(len(frames))
    return Path(output)


def plan_render(audio, opts):
    """Analyse an audio file and build the scene for ``opts``; returns a ``Plan``."""
    renderer = make_renderer(opts)
    env = audio_envelopes(audio, channel=opts.channel, start=opts.start,
                          duration=opts.duration)
    if env.dark.any():
        bands_hz = " and ".join(f"{f:.0f}" for f in env.freqs[env.dark])
        warnings.warn(f"the {bands_hz} Hz band(s) stay dark: {audio} holds no sound "
                      "there (its sample rate is too low)", FastvizWarning, stacklevel=3)
    bands = electrode_bands(renderer.ys, len(env.freqs))
    return Plan(renderer, scale_minmax(env.values), env.rate, bands, as_fraction(opts.fps),
                frame_count(env.duration, opts.fps), audio, opts.start, opts.duration)


def render(audio, output, *, client=None, scheduler=None, segments=None,
           segment_seconds=None, segment_dir=None, **options):
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
        Render in segments on Dask (``pip install 'fastviz[dask]'``) and join them:
        see ``fastviz._distributed.render_segments``. ``scheduler`` is ``"local"``,
        ``"local:N"`` or ``"tcp://HOST:PORT"``; ``client`` a ``dask.distributed.Client``.
        Giving any of these renders in segments; by default one ffmpeg does it all.
    **options
        See ``Options``: background, electrodes, size, fps, jobs, preset, crf, start,
        duration, channel, cmap, dot_size, alpha, overwrite, progress, format, codec,
        transparent, encoder.

    Returns
    -------
    Path of the video.

    Examples
    --------
    ::

        render("song.wav", "song.mp4", fps=25, preset="ultrafast")
    """
    opts = output_options("render", output, options,
                          [audio, options.get("background"), options.get("electrodes")])
    split = dict(client=client, scheduler=scheduler, n_segments=segments,
                 segment_seconds=segment_seconds, segment_dir=segment_dir)
    if not any(v is not None for v in split.values()):
        return write_video(plan_render(audio, opts), output, opts)
    if opts.format != "mp4" or opts.codec not in (None, "h264") or opts.encoder:
        raise OutputError(f"output {output}: segments are libx264 MP4 (.mp4, .m4v), "
                          "joined by stream copy; render other formats and encoders in "
                          "one piece")
    from ._distributed import render_segments  # imports this module: not at the top

    return render_segments(plan_render(audio, opts), output, opts, **split)


def demo(output="jinglebells.mp4", **options):
    """Render the built-in demo: synthesised Jingle Bells on the bundled brain.

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
            return render(wav, output, **options)
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
    values = np.asarray(data, float)
    if values.ndim != 2 or not values.size:
        raise InputError(f"signal must be an (n_electrodes, n_times) array, "
                         f"got shape {values.shape}")
    if np.isinf(values).any():
        raise InputError("signal has infinite values; use NaN to hide a dot")
    if not rate or rate <= 0:
        raise InputError("rate (Hz) is required with a signal array")
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


def _projected_scene(locs, size):
    """Plain background and a left lateral projection of 3-D head positions."""
    if not np.isfinite(locs).all():
        raise InputError("some channels have no position: set a montage on the MNE "
                         "object, or pass background= and electrodes=")
    width, height = size or (800, 600)
    xy = np.stack([-locs[:, 1], -locs[:, 2]], axis=1)  # anterior to the left, up is up
    span = np.ptp(xy, axis=0)
    scale = 0.8 * min(width / max(span[0], 1e-9), height / max(span[1], 1e-9))
    xy = (xy - xy.min(axis=0) - span / 2) * scale + (width / 2, height / 2)
    return np.full((height, width, 3), 235, np.uint8), xy[:, 0], xy[:, 1]


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
    opts = output_options("render_signal", output, options,
                          [audio if not isinstance(audio, tuple) else None])
    if opts.channel is not None:
        raise ValueError("channel picks an audio channel to analyse; render_signal draws "
                         "every electrode of its signal, so pass a subset of it instead")
    values, rate, names, locs = _signal(data, rate)
    values, audio = _cut(values, rate, audio, opts.start, opts.duration)
    if opts.background is None and opts.electrodes is None and locs is not None:
        background, xs, ys = _projected_scene(locs, opts.size)
        opts = replace(opts, background=background, electrodes=np.column_stack([xs, ys]))
    renderer = make_renderer(opts, names)
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
            raise ValueError(f"scaling needs vmin < vmax, got {scaling}")
        amplitudes = np.clip((values - vmin) / (vmax - vmin), 0, 1)
    plan = Plan(renderer, amplitudes, rate, None, as_fraction(opts.fps),
                frame_count(values.shape[1] / rate, opts.fps), audio,
                *((None, None) if isinstance(audio, tuple) else (opts.start, opts.duration)))
    return write_video(plan, output, opts)
