"""Encoders outside the format table: what the bundled ffmpeg has, and a trial encode.

Part of resolving an output (``_output``): ``encoder=`` names any video encoder of the
bundled ffmpeg, which gets a ``Codec`` here and is tried on one frame of colour stripes
before any work, so an encoder that cannot run here, or that shifts colours, is refused
in one line that says why and names what works.
"""
import functools
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from . import _ffmpeg
from ._command import video_arguments, video_input
from ._errors import EncodeError, OptionError, shown
from ._formats import DEVICE_FRAMES, ENCODERS, FORMATS, Codec, _described, nv12_picture

TRIAL_COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128))
COLOUR_TOLERANCE = 8  # levels: lossy codecs on flat stripes stay within 3; a wrong matrix
# or range is 20 or more off

@functools.cache
def video_encoders():
    """Names of the video encoders the bundled ffmpeg has (``ffmpeg -encoders``)."""
    rows = _ffmpeg.listing(["-encoders"]).split(" ------", 1)[-1].splitlines()
    return tuple(row.split()[1] for row in rows if row.strip().startswith("V"))


@functools.cache
def _encoder_help(encoder):
    """(supported pixel formats, whether it is a hardware encoder), from ffmpeg -h."""
    lines = _ffmpeg.listing(["-h", f"encoder={encoder}"]).splitlines()
    formats = next((x for x in lines if "Supported pixel formats:" in x), "")
    capabilities = next((x for x in lines if "General capabilities:" in x), "")
    return tuple(formats.split(":", 1)[-1].split()), "hardware" in capabilities.split()


def _video_formats():
    return [f for f in FORMATS if next(iter(FORMATS[f].codecs.values())).matrix == "bt709"]


def _own_encoders(format):
    """The encoders of ``format``'s table row, the default first, as a user reads them."""
    names = [c.encoder for c in FORMATS[format].codecs.values()]
    return ", ".join([f"{names[0]} (the default)", *names[1:]])


@functools.cache
def encoder_codec(encoder, format, transparent=False):
    """The ``Codec`` for any video encoder the bundled ffmpeg has, in ``format``'s place.

    A format's own encoder (``libx265`` in .mp4) keeps its settings; another runs at
    its defaults and gets what its decoders read right: RGB if it takes no Y'CbCr
    (``libx264rgb``, ``png``), BT.601 or full range where ``ENCODERS`` says so (VP8,
    JPEG), else the format's pixel format when it takes it (NV12 as it is when it takes
    that) or its first Y'CbCr one, BT.709. ``trial_encode`` checks it works here.
    """
    if transparent or format not in _video_formats():
        raise OptionError(f"encoder {encoder}: an encoder can be chosen for "
                          f"{_described(_video_formats())}, without transparent; "
                          f"{'transparent' if transparent else format} uses its own")
    row = FORMATS[format]
    own = next(iter(row.codecs.values()))
    if encoder not in video_encoders():
        raise OptionError(f"encoder must be a video encoder of the bundled ffmpeg; it has "
                          f"no {shown(encoder)} (`ffmpeg -encoders` lists them)")
    for codec in row.codecs.values():
        if codec.encoder == encoder:
            return codec
    supported, _ = _encoder_help(encoder)
    if supported and set(supported) <= DEVICE_FRAMES:
        raise OptionError(f"encoder {encoder} takes only frames already on its device "
                          f"({', '.join(supported)}), and fastviz hands frames in memory; "
                          f"in .{format} use {_own_encoders(format)}, or a hardware "
                          "encoder that takes frames in memory (h264_nvenc, h264_qsv)")
    known = ENCODERS.get(encoder)
    if known is not None:
        return known
    yuv = [f for f in supported if f.startswith("yuv") and not f.startswith("yuvj")]
    if supported and not yuv and not any(f.startswith("yuvj") for f in supported):
        rgb = [f for f in ("rgb24", "bgr24", "rgb0", "bgr0", "rgba", "bgra", "gbrp")
               if f in supported]
        return Codec(encoder, pix_fmt=(rgb or supported)[0], matrix=None)
    if supported and not yuv:  # JPEG's full-range Y'CbCr only
        return Codec(encoder, pix_fmt=supported[0], matrix="bt601", full_range=True)
    pix_fmt = own.pix_fmt if not supported or own.pix_fmt in supported else yuv[0]
    return Codec(encoder, pix_fmt=pix_fmt, nv12="nv12" in supported)


def _trial_frame(width, height, pixel_format):
    """One frame of upright stripes in ``TRIAL_COLOURS``, as ``pixel_format`` bytes."""
    rgb = np.zeros((height, width, 3), np.uint8)
    edges = np.linspace(0, width, len(TRIAL_COLOURS) + 1).astype(int)
    for colour, left, right in zip(TRIAL_COLOURS, edges, edges[1:]):
        rgb[:, left:right] = colour
    if pixel_format == "nv12":
        return nv12_picture(rgb, width, height).tobytes(), rgb
    return rgb.tobytes(), rgb


def trial_encode(spec, encoder):
    """Encode one frame of colour stripes as ``spec`` says (its frames, its encoder's
    arguments) into a scratch file of its format, then decode it back: refuse an
    encoder that cannot run here, or that shifts colours, in one line that says why
    and names what works. Once per encoder, format, input and size."""
    return _trial_encode(tuple(video_input(spec)), tuple(video_arguments(spec)),
                         spec.format, (spec.width, spec.height), spec.pixel_format,
                         encoder)


def _try(video_input, video_arguments, format, size, pixel_format):
    """(ffmpeg's exit code, its log, the decoded frame or None, the frame sent)."""
    row = FORMATS[format]
    frame, rgb = _trial_frame(*size, pixel_format)
    with tempfile.TemporaryDirectory(prefix="fastviz-") as scratch:
        target = Path(scratch) / "trial"
        proc, log, _ = _ffmpeg.start(
            [*video_input, *video_arguments, "-frames:v", "1", *row.muxer_settings,
             "-loglevel", "error", "-f", row.muxer, "-y", _ffmpeg.file_arg(target)],
            stdin=subprocess.PIPE)
        try:
            proc.stdin.write(frame)
            proc.stdin.close()
        except OSError:  # ffmpeg gave up before reading: its log says why
            pass
        try:
            code = proc.wait(timeout=60)
        finally:
            _ffmpeg.kill(proc)
        decoded = None
        if code == 0:
            reader, _, _ = _ffmpeg.start(
                ["-i", _ffmpeg.file_arg(target), "-frames:v", "1", "-f", "rawvideo",
                 "-pix_fmt", "rgb24", "-loglevel", "error", "-"], stdout=subprocess.PIPE)
            raw = reader.stdout.read()
            reader.wait()
            if len(raw) >= rgb.size:
                decoded = np.frombuffer(raw[:rgb.size], np.uint8).reshape(rgb.shape)
    return code, log, decoded, rgb


@functools.lru_cache(maxsize=64)
def _trial_encode(video_input, video_arguments, format, size, pixel_format, encoder):
    code, log, decoded, _ = _try(video_input, video_arguments, format, size,
                                 pixel_format)
    if code != 0:
        said = _ffmpeg.first_words(log)
        _, hardware = _encoder_help(encoder)
        if hardware:
            raise EncodeError(f"encoder {encoder} does not work here (ffmpeg: {said}); it "
                              "is a hardware encoder, which needs its device and driver on "
                              "this machine (NVENC: an NVIDIA GPU and its driver); without "
                              f"them, in .{format} use {_own_encoders(format)}")
        elsewhere = []
        for other in _video_formats():
            if other != format:
                codec = encoder_codec(encoder, other)
                args = ["-c:v", encoder, *(["-pix_fmt", codec.pix_fmt] if codec.pix_fmt
                                           else [])]
                if _try(video_input, args, other, size, pixel_format)[0] == 0:
                    elsewhere.append(other)
        if elsewhere:  # the format cannot hold its codec: the combination is wrong
            raise OptionError(f"encoder {encoder} does not work in .{format} (ffmpeg: "
                              f"{said}); its codec goes in {_described(elsewhere)}, and in "
                              f".{format} use {_own_encoders(format)}")
        default = next(iter(FORMATS[format].codecs.values())).encoder
        raise EncodeError(f"encoder {encoder} does not work in .{format} here (ffmpeg: "
                          f"{said}); encoder must name one that works here, or be left out "
                          f"for the default, {default}")
    width, height = size
    if decoded is None or width < 64 or height < 16:
        return  # too small to tell colours apart after 4:2:0
    edges = np.linspace(0, width, len(TRIAL_COLOURS) + 1).astype(int)
    for colour, left, right in zip(TRIAL_COLOURS, edges, edges[1:]):
        quarter = (right - left) // 4
        middle = decoded[height // 4:3 * height // 4, left + quarter:right - quarter]
        got = tuple(int(v) for v in np.round(middle.reshape(-1, 3).mean(axis=0)))
        if max(abs(a - b) for a, b in zip(got, colour)) > COLOUR_TOLERANCE:
            raise OptionError(f"encoder {encoder} shifts colours in .{format}: "
                              f"{colour} comes back as {got} (its decoders read its "
                              f"Y'CbCr otherwise than it is given); encoders that keep "
                              f"them in .{format}: {_own_encoders(format)}")
