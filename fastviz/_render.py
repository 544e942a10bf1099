"""The public API: render, render_signal, demo, frame, layout; each a thin use of a
``Prepared`` render (``_prepared``), which resolves once, then executes.

    arguments ──prepare (every check, the scene, the analysis, once)──▶ Prepared
        ──write: Plan + OutputSpec ──EXECUTORS (one machine | Dask segments)──▶ the output
"""
import math
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from ._audio import check_channel
from ._demo import jingle_bells
from ._display import picture
from ._errors import FastvizError, InputError, OptionError, OutputError, shown
from ._execute import Run
from ._files import check_output, publish, temporary_file
from ._formats import PICTURE
from ._options import OPTION_NAMES
from ._output import output_target
from ._plan import input_files, make_scene, options_from, where
from ._prepared import EXECUTORS, Prepared, check_split, execute, split_of
from ._scene import scene_bands

__all__ = ["EXECUTORS", "execute", "render_file", "render", "demo", "render_signal",
           "frame", "layout"]


def render_file(audio, output, opts, run, scratch_dir=None, split=None, given=None):
    """``render`` of checked ``opts`` (the user's own ``given`` options): the output
    resolved and checked, then the render prepared and written (on Dask with
    ``split``, ``render_segments``' settings); the temporary file in ``scratch_dir``."""
    target = output_target(output, opts, input_files(audio, opts))
    split = check_split(target, opts, output, split or {})  # before the analysis
    with Prepared.of_audio(audio, opts, given, target, run) as prepared:
        return prepared.write_to(target, opts, run, split, scratch_dir)


def render(audio, output, *, client=None, scheduler=None, segments=None,
           segment_seconds=None, segment_dir=None, cancel=None, **options):
    """Render an audio file to a video of electrodes pulsing on a brain, with the audio.

    Parameters
    ----------
    audio : str, Path, (samples, rate) or binary file object
        Any audio file ffmpeg decodes; or samples ((n,), (n_channels, n) or (n,
        n_channels), floats in -1..1 or integers at full scale) at a whole number of
        Hz, whose sound the video carries; or a file object open in binary mode.
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
        Asked about ten times a second while the audio is analysed, while drawing, or
        while the segments render; when it returns true the render stops, nothing is
        written, no ffmpeg is left, and ``Cancelled`` is raised. For a front end's
        "stop" button.
    **options
        See ``Options``: {names}. ``progress`` is True (a bar on stderr; tqdm's
        widget in a notebook), False, or a callable ``progress(done, total,
        seconds_left)`` (see ``fastviz._progress``).

    Returns
    -------
    Video
        The video's path (a ``pathlib.Path``), which plays itself in a notebook.

    Examples
    --------
    ::

        render("song.wav", "song.mp4", fps=25, preset="ultrafast")
    """
    opts = options_from("render", options)
    split = split_of(client, scheduler, segments, segment_seconds, segment_dir)
    return render_file(audio, output, opts, Run(opts.jobs, opts.progress, cancel),
                       split=split, given=options)


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


def render_signal(data, output, rate=None, *, audio=None, scaling="minmax",
                  smoothing=None, client=None, scheduler=None, segments=None,
                  segment_seconds=None, segment_dir=None, cancel=None, **options):
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
    client, scheduler, segments, segment_seconds, segment_dir, cancel : optional
        As for ``render``.
    **options
        As for ``render``. ``electrodes`` may also be an (n, 2) array of pixel positions
        or a dict from channel name to (x, y). With neither a background nor electrodes,
        an MNE object's channel positions are drawn in a left lateral projection on a
        plain background.

    Returns
    -------
    Video
        The video's path, which plays itself in a notebook.

    Examples
    --------
    ::

        raw = mne.io.RawArray(data, info)
        render_signal(raw, "ecog.mp4", smoothing=5.0)
    """
    opts = options_from("render_signal", options)
    target = output_target(output, opts,
                           input_files(None if isinstance(audio, tuple) else audio, opts))
    split = check_split(target, opts, output, split_of(client, scheduler, segments,
                                                       segment_seconds, segment_dir))
    prepared = Prepared.of_signal(data, rate, opts, options, target, audio, scaling,
                                  smoothing)
    return prepared.write_to(target, prepared.opts, Run(opts.jobs, opts.progress, cancel),
                             split)


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
    Picture
        (H, W, 3) uint8: a NumPy array, which shows itself in a notebook.

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
    with Prepared.of_audio(audio, opts, options) as prepared:
        image = prepared.frame(at)
    if output is not None:
        _write_png(image, output, opts.overwrite, inputs)
    return image


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
    Picture
        (H, W, 3) uint8: a NumPy array, which shows itself in a notebook.

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
    scene = make_scene(opts)  # as a Prepared's, without an input to analyse
    image = picture(draw_layout(scene, scene_bands(scene, len(FREQS), opts.bands_by,
                                                   where(opts))))
    if output is not None:
        _write_png(image, output, opts.overwrite, inputs)
    return image
