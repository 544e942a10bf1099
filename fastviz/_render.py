"""The pipeline: audio -> envelopes -> per-electrode amplitudes -> frames -> MP4."""
import math
import sys
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ._analysis import audio_envelopes, electrode_bands, scale_minmax
from ._demo import demo_scene, jingle_bells
from ._encode import VideoWriter, as_fraction, check_output
from ._errors import InputError
from ._raster import FrameRenderer, load_electrodes

CHUNK_FRAMES = 8  # frames a worker renders per task; a few chunks per worker in memory


@dataclass(frozen=True)
class Options:
    """Everything a user can set for a render; checked once, here.

    background, electrodes : picture file and CSV (``x_2d``, ``y_2d``); both or neither
        (neither: the bundled brain and grid).
    size : (width, height) of the video; default the picture's.
    fps : frame rate (number or ``"a/b"``), default 30.
    jobs : render threads; None or -1 uses every core.
    preset, crf : libx264 settings. Default ``veryfast`` and 20: the encoder is the
        slowest stage, and veryfast is twice as fast as ``medium`` at 20 (visually clean).
    start, duration : seconds of the audio to skip, and to keep.
    channel : analyse this channel (0-based) instead of the mono mix.
    cmap, dot_size, alpha : see ``FrameRenderer``.
    overwrite : replace an existing output.
    progress : show a progress bar on stderr.
    """

    background: object = None
    electrodes: object = None
    size: tuple = None
    fps: object = 30
    jobs: int = None
    preset: str = "veryfast"
    crf: int = 20
    start: float = None
    duration: float = None
    channel: int = None
    cmap: object = None
    dot_size: float = 100.0
    alpha: float = 1.0
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self):
        as_fraction(self.fps)
        if (self.background is None) != (self.electrodes is None):
            raise InputError("give both a background picture and an electrode table, "
                             "or neither for the built-in brain")
        if self.size is not None and (len(self.size) != 2 or min(self.size) <= 0):
            raise ValueError(f"size must be (width, height) > 0, got {self.size}")
        if not 0 <= int(self.crf) <= 51:
            raise ValueError(f"crf must be in 0..51, got {self.crf}")
        if self.start is not None and self.start < 0:
            raise ValueError(f"start must be >= 0 seconds, got {self.start}")
        if self.duration is not None and self.duration <= 0:
            raise ValueError(f"duration must be > 0 seconds, got {self.duration}")


def make_renderer(options):
    """The FrameRenderer for ``options``' scene (the bundled one by default)."""
    background, electrodes = options.background, options.electrodes
    if background is None:
        background, electrodes = demo_scene()
    xs, ys = load_electrodes(electrodes) if isinstance(electrodes, (str, Path)) else electrodes
    return FrameRenderer(background, xs, ys, size=options.size, cmap=options.cmap,
                         dot_size=options.dot_size, alpha=options.alpha)


def values_at(amplitudes, rate, times):
    """Amplitudes linearly interpolated at ``times`` (seconds), held past the ends.

    Parameters
    ----------
    amplitudes : ndarray, shape (n_electrodes, n_samples)
        Sample k is at time ``k / rate``.
    rate : float
    times : array_like, shape (n,)

    Returns
    -------
    ndarray, shape (n, n_electrodes)

    Examples
    --------
    >>> values_at(np.array([[0.0, 1.0]]), 2.0, [0.25, 9.0])
    array([[0.5],
           [1. ]])
    """
    pos = np.clip(np.asarray(times, float) * rate, 0, amplitudes.shape[1] - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, amplitudes.shape[1] - 1)
    w = pos - i0
    return (amplitudes[:, i0] * (1 - w) + amplitudes[:, i1] * w).T


def frame_count(duration, fps):
    """ceil(duration * fps): enough frames to cover the audio, the last one partly."""
    return max(1, math.ceil(round(duration * as_fraction(fps), 9)))


def iter_frames(renderer, amplitudes, rate, n_frames, fps, jobs=None):
    """Yield blocks of frames in order, rendered in parallel by joblib threads.

    Frame i shows the amplitudes at t = i / fps. At most ``jobs`` blocks of
    ``CHUNK_FRAMES`` are rendered ahead, so memory does not grow with the length.
    """
    from joblib import Parallel, delayed, effective_n_jobs

    fps = as_fraction(fps)
    n_jobs = effective_n_jobs(-1 if jobs is None else jobs)

    def block(first, stop):
        times = np.arange(first, stop) / float(fps)
        return renderer.frames(values_at(amplitudes, rate, times))

    window = CHUNK_FRAMES * n_jobs
    with Parallel(n_jobs=n_jobs, backend="threading") as parallel:
        for first in range(0, n_frames, window):
            stops = range(first, min(first + window, n_frames), CHUNK_FRAMES)
            yield from parallel(delayed(block)(a, min(a + CHUNK_FRAMES, n_frames))
                                for a in stops)


def write_video(renderer, amplitudes, rate, duration, output, options, audio=None,
                audio_start=None, audio_duration=None):
    """Render ``ceil(duration * fps)`` frames of ``amplitudes`` and encode them."""
    from tqdm import tqdm

    n_frames = frame_count(duration, options.fps)
    writer = VideoWriter(output, (renderer.width, renderer.height), options.fps,
                         audio=audio, audio_start=audio_start,
                         audio_duration=audio_duration, preset=options.preset,
                         crf=options.crf, overwrite=options.overwrite)
    with writer, tqdm(total=n_frames, unit="frame", desc=Path(output).name,
                      disable=not options.progress, file=sys.stderr,
                      dynamic_ncols=True) as bar:
        for frames in iter_frames(renderer, amplitudes, rate, n_frames, options.fps,
                                  options.jobs):
            writer.write(frames)
            bar.update(len(frames))
    return Path(output)


def render(audio, output, **options):
    """Render an audio file to an MP4 of electrodes pulsing on a brain, with the audio.

    Parameters
    ----------
    audio : str or Path
        Any audio file ffmpeg decodes.
    output : str or Path
        The MP4 to write; an existing file is kept unless ``overwrite=True``.
    **options
        See ``Options``: background, electrodes, size, fps, jobs, preset, crf, start,
        duration, channel, cmap, dot_size, alpha, overwrite, progress.

    Returns
    -------
    Path of the video.

    Examples
    --------
    >>> render("song.wav", "song.mp4", fps=25, preset="ultrafast")  # doctest: +SKIP
    """
    opts = Options(**options)
    check_output(output, opts.overwrite)
    renderer = make_renderer(opts)
    env = audio_envelopes(audio, channel=opts.channel, start=opts.start,
                          duration=opts.duration)
    bands = electrode_bands(renderer.ys, len(env.freqs))
    amplitudes = scale_minmax(env.values)[bands]
    return write_video(renderer, amplitudes, env.rate, env.duration, output, opts,
                       audio=audio, audio_start=opts.start, audio_duration=opts.duration)


def demo(output="jinglebells.mp4", **options):
    """Render the built-in demo: synthesised Jingle Bells on the bundled brain.

    Examples
    --------
    >>> demo("jinglebells.mp4", overwrite=True)  # doctest: +SKIP
    """
    from scipy.io import wavfile

    samples, rate = jingle_bells()
    with tempfile.TemporaryDirectory(prefix="fastviz-") as tmp:
        wav = Path(tmp) / "jinglebells.wav"
        wavfile.write(wav, rate, samples)
        return render(wav, output, **options)


OPTION_NAMES = [f.name for f in fields(Options)]
