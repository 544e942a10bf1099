"""The pipeline: audio -> envelopes -> per-electrode amplitudes -> frames -> video."""
import difflib
import math
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import _ffmpeg
from ._analysis import SAMPLINGS, audio_envelopes, scale_minmax
from ._audio import as_channels_first, check_channel
from ._demo import demo_scene, jingle_bells
from ._encode import (
    FORMATS,
    GIF_FPS,
    GIF_WIDTH,
    PICTURE,
    VideoWriter,
    as_fraction,
    check_frames,
    check_output,
    check_preset,
    encoder_codec,
    frame_format,
    output_format,
    source_tag,
    speed_settings,
)
from ._errors import (
    Cancelled,
    FastvizError,
    FastvizWarning,
    InputError,
    OptionError,
    OutputError,
    shown,
)
from ._ffmpeg import check_frame_size
from ._progress import progress_bar
from ._raster import FrameRenderer, values_at
from ._scene import FITS, build_scene, load_look, look_file, projected_scene, scene_bands

CHUNK_FRAMES = 8  # frames a worker renders per task; a few chunks per worker in memory
MAX_FPS = 240
CANCEL_CHECK_SECONDS = 0.5
MIN_FPS = Fraction(1, 1000)


@dataclass(frozen=True)
class Options:
    """Everything a user can set for a render; checked once, here.

    background, electrodes : picture file and CSV (``x_2d``, ``y_2d``, optionally
        ``name``, ``band``, ``color``, ``size``) in its pixels. Default: the bundled
        brain and grid; electrodes alone go on the bundled brain.
    montage : an MNE montage name (``"biosemi64"``): its electrodes over a drawn head,
        instead of a picture and a table.
    size : (width, height) of the video; default the picture's (800 x 800 for a montage).
    fit : how a picture meets ``size``: ``"pad"`` (default: keep its shape, letterboxed
        in ``bg_color``), ``"stretch"`` or ``"crop"``.
    bg_color : colour under transparent pixels, of the letterbox and of a montage's
        background (default white).
    brightness, invert : the picture's pixels are inverted (255 - value) if ``invert``,
        then multiplied by ``brightness`` (default 1).
    look : a bundled look's name (``"dark"``, ``"colorblind"``), ``path.toml`` or
        ``path.toml:NAME``: its settings (cmap, bg_color, brightness, alpha, dot_size)
        apply where the call gives none.
    bands_by : ``"y"`` (bottom electrodes get the lowest band), ``"x"`` (left ones do)
        or ``"table"`` (the table's ``band`` column); default the column when the table
        has one, else ``"y"``.
    fps : frame rate (number or ``"a/b"``), default 30 (a GIF: 15, and at most 50).
    jobs : render threads; None or -1 uses every core.
    speed : ``"fastest"``, ``"balanced"`` (default) or ``"smallest"``: x264 settings
        measured to keep VMAF 95 against lossless (``_encode.SPEEDS``, README).
    preset, crf : libx264 (and x265) settings, for experts; each given one replaces
        the speed's own.
    start, duration : seconds of the audio to skip, and to keep.
    channel : analyse this channel (0-based) instead of the mono mix.
    sampling : what an envelope sample is: ``"interval"`` (default: each band's amplitude
        averaged over the 36 ms its instant stands for, so short sounds show whatever
        their phase) or ``"instant"`` (the post's: the amplitude at the instant).
    cmap, dot_size, alpha : see ``FrameRenderer``. ``dot_size`` is in points of a figure
        10 inches wide at the picture's width (so dots scale with the picture, not the
        frame); default ``"auto"``: the largest dot 0.9 times the lower quartile of the
        distances between nearest electrodes, readable on any scene (34.5 points on the
        bundled grid).
        100 is the post's.
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
    montage: str = None
    size: tuple = None
    fit: str = "pad"
    bg_color: object = "white"
    brightness: float = 1.0
    invert: bool = False
    bands_by: str = None
    look: str = None
    fps: object = 30
    jobs: int = None
    speed: str = None
    preset: str = None
    crf: int = None
    start: float = None
    duration: float = None
    channel: int = None
    sampling: str = "interval"
    cmap: object = None
    dot_size: object = None
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
            raise OptionError(f"fps must be from {MIN_FPS} (a frame every 1000 s) to "
                              f"{MAX_FPS} frames a second (what players and H.264's levels "
                              f"are made for), got {self.fps}")
        if self.fit not in FITS:
            raise OptionError(f"fit must be one of {', '.join(FITS)}, got {shown(self.fit)}")
        if self.sampling not in SAMPLINGS:
            raise OptionError(f"sampling must be one of {', '.join(SAMPLINGS)}, got "
                              f"{shown(self.sampling)}")
        if self.bands_by not in (None, "x", "y", "table"):
            raise OptionError(f"bands_by must be x, y or table, got {shown(self.bands_by)}")
        if self.dot_size is not None and not (
                isinstance(self.dot_size, str) and self.dot_size == "auto") and not (
                isinstance(self.dot_size, (int, float, np.number)) and self.dot_size >= 0):
            raise OptionError(f"dot_size must be a number of points >= 0 or 'auto', got "
                              f"{shown(self.dot_size)}")
        if self.montage is not None and (self.background is not None
                                         or self.electrodes is not None):
            raise OptionError("montage places its own electrodes on a drawn head: give "
                              "it without a background or electrodes")
        if self.background is not None and self.electrodes is None:
            raise OptionError("a background picture needs electrode positions in its "
                              "pixels (electrodes=...)")
        if self.size is not None:
            if (isinstance(self.size, str) or len(self.size) != 2
                    or not all(_is_whole(v) and v > 0 for v in self.size)):
                raise OptionError(f"size must be a (width, height) pair of whole numbers "
                                  f"above 0, got {shown(self.size)}")
            check_frame_size(*self.size)
        if self.jobs is not None and not (_is_whole(self.jobs) and self.jobs != 0):
            raise OptionError(f"jobs must be a whole number of threads, or -1 for every "
                              f"core, got {shown(self.jobs)}")
        preset, crf = speed_settings(self.speed, self.preset, self.crf)
        object.__setattr__(self, "preset", preset)  # frozen: set once, here
        object.__setattr__(self, "crf", crf)
        check_preset(self.preset)
        if not (_is_whole(self.crf) and 0 <= self.crf <= 51):
            raise OptionError(f"crf must be a whole number in 0..51, got {shown(self.crf)}")
        for name, low in (("start", 0), ("duration", 1e-9)):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float, np.number))
                                          and math.isfinite(value) and value >= low):
                raise OptionError(f"{name} must be a finite number of seconds "
                                  f"{'>= 0' if low == 0 else '> 0'}, got {shown(value)}")


def _is_whole(value):
    """Whether ``value`` is an integer (of any numeric type), not a float or a string."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


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
    known = [f.name for f in fields(Options)]
    for name in options:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {shown(close[0])}?" if close else ""
            raise TypeError(f"{function}() got an unexpected keyword argument {shown(name)}{hint}")
    return Options(**options)


def make_scene(options, names=None):
    """The ``Scene`` of ``options`` (the bundled brain and grid by default).

    ``options.electrodes`` may be a CSV path, a table (a pandas DataFrame) with ``x_2d``
    and ``y_2d`` columns, an (n, 2) array of (x, y) pixel positions, or a dict of
    channel name to (x, y) when ``names`` are given. There is no ``(xs, ys)`` form: a
    pair would read the same as two points, so separate coordinates go through
    ``np.column_stack([xs, ys])``.
    """
    background, electrodes = options.background, options.electrodes
    if background is None and options.montage is None:  # electrodes alone: the brain
        background, demo_electrodes = demo_scene()
        electrodes = demo_electrodes if electrodes is None else electrodes
    def build(size):
        return build_scene(background, electrodes, montage=options.montage, size=size,
                           fit=options.fit, bg_color=options.bg_color,
                           brightness=options.brightness, invert=options.invert,
                           names=names)

    scene = build(options.size)
    height, width = scene.background.shape[:2]
    if options.size is None and options.format == "gif" and width > GIF_WIDTH:
        scene = build((GIF_WIDTH, max(1, round(height * GIF_WIDTH / width))))  # slides
        height, width = scene.background.shape[:2]
    codec = output_codec(options)
    if options.format is not None:
        check_frames(options.format, codec, width, height, options.fps)
    if codec.even and (width % 2 or height % 2):
        # 4:2:0 video needs even sizes: the frame gets a black column or row here, once,
        # so previews, layouts and the video show the same picture
        scene = replace(scene, background=np.pad(
            scene.background, ((0, height % 2), (0, width % 2), (0, 0))))
    return scene


def output_codec(options):
    """The ``Codec`` that will encode ``options``' video (an MP4's by default, which is
    what previews show)."""
    format = options.format or "mp4"
    if options.encoder is not None:
        return encoder_codec(options.encoder, format, options.transparent)
    row = FORMATS[format]
    return row.codecs[options.codec or next(iter(row.codecs))]


def make_renderer(options, names=None, scene=None):
    """The FrameRenderer for ``options``' scene (``make_scene``), or for ``scene``."""
    scene = make_scene(options, names) if scene is None else scene
    return FrameRenderer(scene.background, scene.xs, scene.ys, cmap=options.cmap,
                         dot_size="auto" if options.dot_size is None else options.dot_size,
                         alpha=options.alpha, colors=scene.colors, sizes=scene.sizes,
                         picture_width=scene.picture_width)


def input_files(audio, opts):
    """Every file a render of ``audio`` with ``opts`` reads, from this one place: the
    audio, the picture, the electrode table, the look file. The output may be none of
    them (``check_output``, ``publish``)."""
    files = (audio, opts.background, opts.electrodes, look_file(opts.look)[0])
    return tuple(Path(f) for f in files if isinstance(f, (str, os.PathLike)))


def output_options(function, output, options, audio=None):
    """``Options`` for writing ``output`` from ``audio``: its format resolved from the
    name (a GIF at 15 fps unless ``fps`` is given), checked with the output (against
    ``input_files``) before any work."""
    opts = options_from(function, options)
    format = output_format(output, opts.format, opts.codec, opts.transparent)[0]
    opts = replace(opts, format=format)
    if format == "gif" and "fps" not in options:
        opts = replace(opts, fps=GIF_FPS)
    check_output(output, opts.overwrite, input_files(audio, opts), format)
    if opts.encoder is not None:  # a writer made and dropped: it runs the trial encode
        width, height = opts.size or (256, 144)
        VideoWriter(output, (width + width % 2, height + height % 2), opts.fps,
                    overwrite=True, format=format, codec=opts.codec, encoder=opts.encoder,
                    pixel_format=frame_format(format, opts.encoder))
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
    from joblib import Parallel, cpu_count, delayed

    # joblib's threads, counted here: effective_n_jobs asks the default process backend,
    # which refuses more than one inside a daemonic process (a Dask worker).
    jobs = -1 if jobs is None else int(jobs)
    n_jobs = max(1, jobs if jobs > 0 else cpu_count() + 1 + jobs)
    n_jobs = min(n_jobs, -(-n_frames // CHUNK_FRAMES))  # no idle buffers for short videos
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
    inputs: tuple = ()  # every file the render reads (input_files): never written

    def values(self, first, stop):
        """Values of frames ``[first, stop)``, (stop - first, n_electrodes)."""
        return frame_values(self.amplitudes, self.rate, self.fps, first, stop, self.rows)

    def metadata(self):
        """The video's tags: which audio file it was made from (``source_tag``)."""
        audio = self.audio
        return {} if audio is None or isinstance(audio, tuple) else {
            "comment": source_tag(audio)}


def unless_cancelled(blocks, cancel, what):
    """``blocks``, asking ``cancel()`` about twice a second; raise ``Cancelled`` if true."""
    next_check = 0.0
    for block in blocks:
        if cancel is not None and time.monotonic() >= next_check:
            if cancel():
                raise Cancelled(f"{what} was cancelled")
            next_check = time.monotonic() + CANCEL_CHECK_SECONDS
        yield block


def write_video(plan, output, options, cancel=None, scratch_dir=None):
    """Render ``plan``'s frames and encode them through one ffmpeg (its temporary file in
    ``scratch_dir``, by default beside ``output``)."""
    renderer = plan.renderer
    pixel_format = frame_format(options.format or "mp4", options.encoder, options.transparent)
    size = (renderer.nv12_size if pixel_format == "nv12"
            else (renderer.width, renderer.height))
    writer = VideoWriter(output, size, plan.fps, audio=plan.audio,
                         audio_start=plan.audio_start, audio_duration=plan.audio_duration,
                         preset=options.preset, crf=options.crf, pixel_format=pixel_format,
                         overwrite=options.overwrite, n_frames=plan.n_frames,
                         metadata=plan.metadata(), format=options.format,
                         codec=options.codec, transparent=options.transparent,
                         encoder=options.encoder, inputs=plan.inputs,
                         scratch_dir=scratch_dir)
    with _ffmpeg.reaper(), writer, progress_bar(plan.n_frames, Path(output).name,
                                                options.progress) as bar:
        blocks = iter_frames(renderer, plan.values, plan.n_frames, options.jobs,
                             pixel_format)
        for frames in unless_cancelled(blocks, cancel, f"the render of {output}"):
            writer.write(frames)
            bar.update(len(frames))
    return Path(output)


def plan_render(audio, opts):
    """Analyse an audio file and build the scene for ``opts``; returns a ``Plan``."""
    scene = make_scene(opts)
    renderer = make_renderer(opts, scene=scene)
    env = audio_envelopes(audio, channel=opts.channel, start=opts.start,
                          duration=opts.duration, sampling=opts.sampling)
    if env.dark.any():
        bands_hz = " and ".join(f"{f:.0f}" for f in env.freqs[env.dark])
        warnings.warn(f"the {bands_hz} Hz band(s) stay dark: {audio} holds no sound "
                      "there (its sample rate is too low)", FastvizWarning, stacklevel=3)
    bands = scene_bands(scene, len(env.freqs), opts.bands_by, _where(opts))
    return Plan(renderer, env.scaled(), env.rate, bands, as_fraction(opts.fps),
                frame_count(env.duration, opts.fps), audio, opts.start, opts.duration,
                input_files(audio, opts))


def _where(opts):
    """How an error names the scene: its table file, or the montage."""
    if opts.montage is not None:
        return f"montage {opts.montage}"
    if isinstance(opts.electrodes, (str, Path)):
        return f"electrode table {opts.electrodes}"
    return "the electrodes" if opts.electrodes is not None else "the bundled table"


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
        join them: see ``fastviz._distributed.render_segments``. ``scheduler`` is ``"local"``,
        ``"local:N"`` or ``"tcp://HOST:PORT"``; ``client`` a ``dask.distributed.Client``.
        Giving any of these renders in segments; by default one ffmpeg does it all.
    cancel : callable, optional
        Asked about twice a second while drawing, or while the segments render; when
        it returns true the render stops, nothing is written, and ``Cancelled`` is
        raised. For a front end's "stop" button.
    **options
        See ``Options``: background, electrodes, montage, size, fit, bg_color,
        brightness, invert, bands_by, look, fps, jobs, speed, preset, crf, start,
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
    opts = output_options("render", output, options, audio)
    split = dict(client=client, scheduler=scheduler, n_segments=segments,
                 segment_seconds=segment_seconds, segment_dir=segment_dir)
    if not any(v is not None for v in split.values()):
        return write_video(plan_render(audio, opts), output, opts, cancel)
    if opts.format != "mp4" or opts.codec not in (None, "h264") or opts.encoder:
        raise OptionError(f"output {output}: segments are libx264 MP4 (.mp4, .m4v), "
                          "joined by stream copy; render other formats and encoders in "
                          "one piece")
    from ._distributed import check_split, render_segments  # they import this module

    check_split(**split)  # before the analysis
    return render_segments(plan_render(audio, opts), output, opts, cancel=cancel, **split)


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
                          None if isinstance(audio, tuple) else audio)
    if opts.channel is not None:
        raise OptionError("channel picks an audio channel to analyse; render_signal draws "
                          "every electrode of its signal, so pass a subset of it instead")
    values, rate, names, locs = _signal(data, rate)
    values, audio = _cut(values, rate, audio, opts.start, opts.duration)
    if opts.background is None and opts.electrodes is None and locs is not None:
        background, xs, ys = projected_scene(locs, opts.size)
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
            raise OptionError(f"scaling needs vmin < vmax, got {scaling}")
        amplitudes = np.clip((values - vmin) / (vmax - vmin), 0, 1)
    file = None if isinstance(audio, tuple) else audio
    plan = Plan(renderer, amplitudes, rate, None, as_fraction(opts.fps),
                frame_count(values.shape[1] / rate, opts.fps), audio,
                *((None, None) if file is None else (opts.start, opts.duration)),
                input_files(file, opts))
    return write_video(plan, output, opts)


def _write_png(picture, output, overwrite, inputs):
    """Save an (H, W, 3) uint8 picture as a PNG, complete or not at all."""
    from PIL import Image

    from ._encode import publish, temporary_file

    path = check_output(output, overwrite, inputs, format=PICTURE)
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
        check_output(output, opts.overwrite, inputs, format=PICTURE)
    if not (isinstance(at, (int, float, np.number)) and 0 <= at < math.inf):
        raise OptionError(f"at must be a finite number of seconds >= 0, got {shown(at)}")
    plan = plan_render(audio, opts)
    index = math.floor(round(at * plan.fps, 9))
    if index >= plan.n_frames:
        raise InputError(f"at {at} s is past the video's end ({plan.n_frames} frames at "
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
        check_output(output, opts.overwrite, inputs, format=PICTURE)
    scene = make_scene(opts)
    picture = draw_layout(scene, scene_bands(scene, len(FREQS), opts.bands_by, _where(opts)))
    if output is not None:
        _write_png(picture, output, opts.overwrite, inputs)
    return picture
