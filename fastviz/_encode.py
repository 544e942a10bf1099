"""One ffmpeg process: raw frames on stdin, optional audio muxed in, one file out.

The format comes from the output's name (``FORMATS``): H.264 + AAC MP4 by default, WebM,
ProRes MOV, GIF or numbered PNG frames. The file (or the folder of frames) is written
under a hidden temporary name beside the target and moved onto it only after ffmpeg
exits cleanly, so a failure or Ctrl-C never leaves a half-written video where the
output should be.
"""
import atexit
import errno
import functools
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import warnings
import weakref
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import _ffmpeg
from ._audio import AudioStream, as_channels_first, check_rate, input_arguments
from ._errors import EncodeError, FastvizWarning, OptionError, OutputError, shown
from ._ffmpeg import check_frame_size
from ._files import cut, kind, replaceable

_UMASK = os.umask(0o022)  # read once, at import: os.umask can only be read by setting it
os.umask(_UMASK)
MAX_AAC_CHANNELS = 8


@dataclass(frozen=True)
class Codec:
    """A video encoder and its settings (``{preset}`` and ``{crf}`` are filled in).

    ``pix_fmt`` is what the encoder is given (ffmpeg converts the frames to it; None:
    the filter makes it), ``alpha_pix_fmt`` the same with an alpha channel (None: the
    codec has none). ``nv12``: the encoder takes NV12 frames as they are.
    ``matrix``: the Y'CbCr its decoders read, ``"bt709"`` (tagged so) or ``"bt601"``
    (VP8 and JPEG decoders assume it whatever a tag says), None for RGB (or a palette);
    ``full_range``: Y'CbCr in 0..255 (JPEG's). ``min_size``: the smallest frame (after
    the padding to even sizes) the encoder takes.
    """

    encoder: str
    settings: tuple = ()
    pix_fmt: str = "yuv420p"
    alpha_pix_fmt: str = None
    nv12: bool = False
    filter: str = None
    matrix: str = "bt709"
    full_range: bool = False
    min_size: tuple = (1, 1)

    @property
    def frames(self):
        """What to hand it: ``"nv12"`` when it takes BT.709 limited-range Y'CbCr (ffmpeg
        only rearranges NV12), else ``"rgb24"``, which ffmpeg converts with the matrix
        and range the encoder's decoders read."""
        return "nv12" if self.matrix == "bt709" and not self.full_range else "rgb24"

    @property
    def even(self):
        """Whether frames need an even width and height (4:2:0 chroma)."""
        return "420" in (self.pix_fmt or "")


@dataclass(frozen=True)
class Format:
    """A kind of output: ffmpeg's muxer, its codecs (the first is the default), its
    audio encoder (None: no sound), the muxer's settings, what to draw for it, and the
    highest frame rate it plays at its rate (None: any)."""

    muxer: str
    codecs: dict
    audio: str = None
    muxer_settings: tuple = ()
    frames: str = "nv12"
    max_fps: Fraction = None


X264_SETTINGS = ("-preset", "{preset}", "-crf", "{crf}")
# x265 refuses frames under 16 x 16 (exit 234); SVT-AV1 aborts at 8 x 8 and below
# (SIGABRT, "realloc(): invalid next size"): 16 x 16 is the smallest size both were
# seen to take here.
AV1 = Codec("libsvtav1", ("-preset", "8", "-crf", "32"), min_size=(16, 16))
# Output formats, as moviepy's ``extensions_dict``: the output's extension (or
# ``format=``) picks a row, ``codec=`` a codec in it, ``transparent=`` its alpha layout.
FORMATS = {
    "mp4": Format("mp4", {"h264": Codec("libx264", X264_SETTINGS, nv12=True),
                          "hevc": Codec("libx265", (*X264_SETTINGS, "-tag:v", "hvc1",
                                                    "-x265-params", "log-level=error"),
                                        min_size=(16, 16)),
                          "av1": AV1},
                  audio="aac", muxer_settings=("-movflags", "+faststart")),
    "webm": Format("webm", {"vp9": Codec("libvpx-vp9", ("-crf", "32", "-b:v", "0",
                                                        "-deadline", "good", "-cpu-used",
                                                        "4", "-row-mt", "1"),
                                         alpha_pix_fmt="yuva420p"),
                            "av1": AV1},
                   audio="libopus"),
    "mov": Format("mov", {"prores": Codec("prores_ks", ("-profile:v", "4444", "-vendor",
                                                        "apl0"),
                                          pix_fmt="yuv444p10le",
                                          alpha_pix_fmt="yuva444p10le")},
                  audio="aac", muxer_settings=("-movflags", "+faststart"), frames="rgb24"),
    # GIF delays are whole hundredths of a second, and players show a delay under
    # 2/100 s as 10/100 s: above 50 fps a GIF plays slow (60 fps: 2.8 times as long).
    "gif": Format("gif", {"gif": Codec("gif", pix_fmt=None, matrix=None, filter=(
        "split[a][b];[a]palettegen=stats_mode=diff[p];"
        "[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle"))},
                  frames="rgb24", max_fps=Fraction(50)),
    "png": Format("image2", {"png": Codec("png", pix_fmt="rgb24", alpha_pix_fmt="rgba",
                                          matrix=None)},
                  muxer_settings=("-start_number", "0"), frames="rgb24"),
}
# Encoders outside the table whose decoders read Y'CbCr their own way, whatever it is
# tagged (measured by decoding red, green and blue frames: BT.709 through them came back
# 20-23 levels off): VP8 is BT.601 by its specification, JPEG full-range BT.601 (JFIF).
# Encoders that take only RGB get RGB (``encoder_codec``); a trial encode decodes its
# colours back and refuses any other encoder that shifts them.
ENCODERS = {"libvpx": Codec("libvpx", matrix="bt601"),
            "mjpeg": Codec("mjpeg", pix_fmt="yuvj420p", matrix="bt601", full_range=True)}
# Pixel formats that are frames on a device (GPU memory), which fastviz cannot hand over
DEVICE_FRAMES = frozenset({"vaapi", "cuda", "qsv", "vulkan", "d3d11", "d3d12", "dxva2_vld",
                           "videotoolbox_vld", "drm_prime", "mediacodec", "vdpau", "opencl",
                           "mmal", "amf", "ohcodec"})
TRIAL_COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128))
COLOUR_TOLERANCE = 8  # levels: lossy codecs on flat stripes stay within 3; a wrong matrix
# or range is 20 or more off


def _ycbcr_matrix(kr, kb):
    """Rows Y, Cb, Cr: weights of R, G, B in 0..255, then the offset (limited range).

    Examples
    --------
    >>> (_ycbcr_matrix(0.2126, 0.0722) @ [255, 255, 255, 1]).round(6)
    array([235., 128., 128.])
    """
    y = np.array([kr, 1 - kr - kb, kb])
    cb = (np.eye(3)[2] - y) / (2 * (1 - kb))
    cr = (np.eye(3)[0] - y) / (2 * (1 - kr))
    return np.column_stack([np.vstack([y * 219, cb * 224, cr * 224]) / 255, [16, 128, 128]])


YCBCR = _ycbcr_matrix(0.2126, 0.0722)  # BT.709, which the videos are tagged with


def nv12_picture(rgb, width, height):
    """An (H, W, 3) uint8 picture as NV12 of an even (width, height), padded with black:
    luma per pixel, Cb and Cr from the mean colour of each 2 x 2 block."""
    matrix = YCBCR.astype(np.float32)
    picture = np.zeros((height, width, 3), np.float32)
    picture[:rgb.shape[0], :rgb.shape[1]] = rgb
    luma = picture.reshape(-1, 3) @ matrix[0, :3] + matrix[0, 3]
    means = (picture[0::2, 0::2] + picture[0::2, 1::2] + picture[1::2, 0::2]
             + picture[1::2, 1::2]) / 4  # 5x faster than .mean() over reshaped axes
    chroma = means.reshape(-1, 3) @ matrix[1:, :3].T + matrix[1:, 3]
    return (np.concatenate([luma, chroma.ravel()]) + 0.5).astype(np.uint8).reshape(-1, width)


SUFFIXES = {".mp4": "mp4", ".m4v": "mp4", ".webm": "webm", ".mov": "mov", ".gif": "gif",
            ".png": "png"}
FRAME_PATTERN = "%05d.png"
PICTURE = "picture"  # check_output's format for one PNG picture (previews)
# GIFs are for slides and READMEs: when the size and rate are not given, these
GIF_WIDTH, GIF_FPS = 480, 15


def as_fraction(fps):
    """Frame rate as an exact fraction: 30, 29.97, "30000/1001" or a Fraction."""
    try:
        rate = Fraction(str(fps)) if not isinstance(fps, Fraction) else fps
    except (ValueError, ZeroDivisionError):
        raise OptionError(f"fps must be a positive number or a/b (a frame rate), "
                          f"got {shown(fps)}") from None
    if rate <= 0:
        raise OptionError(f"fps must be a positive frame rate, got {shown(fps)}")
    return rate


# libx264's presets, checked before any work so a typo costs nothing
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow", "placebo")
# Named speeds: points on the time / size / VMAF front that benchmarks/quality.py measured
# (README, "Speed by name"), each at VMAF 95 or more against lossless; (preset, crf)
SPEEDS = {"fastest": ("ultrafast", 26), "balanced": ("veryfast", 20),
          "smallest": ("medium", 26)}
DEFAULT_SPEED = "balanced"
# Layouts given to audio whose file names no speaker layout (a WAV without a channel
# mask, an array): none has an LFE channel, which AAC would low-pass, and for each the
# AAC channel order is the input's, so every channel comes out as it went in.
UNLABELLED_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "4.0", 5: "5.0", 6: "hexagonal",
                      7: "7.0", 8: "octagonal"}


def speed_settings(speed=None, preset=None, crf=None):
    """(preset, crf) of a named ``speed`` (default ``DEFAULT_SPEED``), with ``preset``
    or ``crf`` given instead of its own.

    Examples
    --------
    >>> speed_settings("smallest", crf=20)
    ('medium', 20)
    """
    if speed is None:
        speed = DEFAULT_SPEED
    if speed not in SPEEDS:
        raise OptionError(f"speed must be one of {', '.join(SPEEDS)}, got {shown(speed)}")
    own_preset, own_crf = SPEEDS[speed]
    return (own_preset if preset is None else preset), (own_crf if crf is None else crf)


def check_preset(preset):
    """Refuse a libx264 preset name that x264 does not have."""
    if preset not in X264_PRESETS:
        raise OptionError(f"unknown preset {shown(preset)}; x264's presets are "
                          f"{', '.join(X264_PRESETS)}")
    return preset


def _described(names, alpha=False):
    """Formats as a user names them: ``.m4v/.mp4 (h264, hevc, av1)``, ``PNG frames``;
    with ``alpha``, only the codecs that keep an alpha channel."""
    words = {name: "/".join(sorted(k for k, v in SUFFIXES.items() if v == name))
             for name in FORMATS}
    words["png"] = f"PNG frames (a folder, or a {FRAME_PATTERN} pattern)"
    listed = []
    for name in names:
        codecs = [c for c, codec in FORMATS[name].codecs.items()
                  if codec.alpha_pix_fmt or not alpha]
        listed.append(words[name] + (f" ({', '.join(codecs)})" if name != codecs[0] else ""))
    return ", ".join(listed)


def frames_pattern(path):
    """The ``%05d.png`` pattern that numbered frames of ``path`` get, or None.

    A name ending in a slash, or an existing folder whose name has no video extension,
    gets ``FRAME_PATTERN`` in it (a folder named ``x.mp4`` is not taken for frames);
    a ``.png`` name with a ``%d`` or ``%0Nd`` in it is taken as it is.
    """
    text = os.fspath(path)
    if text.endswith(("/", os.sep)) or (
            os.path.isdir(text) and Path(text).suffix.lower() not in SUFFIXES):
        return Path(text) / FRAME_PATTERN
    name = Path(text).name
    if name.lower().endswith(".png") and "%" in name:
        frame_names(name, path)  # checked: one number, as ffmpeg numbers frames
        return Path(text)
    return None


_NUMBER = re.compile(r"(%%|%(?:0(\d*))?d)")


def frame_names(pattern, output=None):
    """A regex that the names ffmpeg gives frames of ``pattern`` (``NAME%05d.png``)
    match, and nothing else; refuse a pattern with other than one ``%d``/``%0Nd``
    (``%%`` is a percent sign), naming ``output``.

    Examples
    --------
    >>> bool(frame_names("f_%03d.png").fullmatch("f_1000.png"))
    True
    >>> bool(frame_names("f_%03d.png").fullmatch("f_01.png"))
    False
    """
    parts, numbers = [], 0
    for i, part in enumerate(_NUMBER.split(pattern)):
        if i % 3 == 2 or part is None:  # the width group of the split
            continue
        if part == "%%":
            parts.append("%")
        elif i % 3 == 1:
            numbers += 1
            width = int(_NUMBER.fullmatch(part).group(2) or 0)
            parts.append(rf"(?:\d{{{width}}}|[1-9]\d{{{width},}})" if width > 1
                         else r"(?:0|[1-9]\d*)")
        elif "%" in part:
            numbers = -1
            break
        else:
            parts.append(re.escape(part))
    if numbers != 1:
        raise OptionError(f"output {output or pattern}: the frame pattern must hold one "
                          f"number, as %d or %0Nd ({FRAME_PATTERN}); %% is a percent "
                          f"sign; got {shown(Path(pattern).name)}")
    return re.compile("".join(parts))


def output_format(path, format=None, codec=None, transparent=False):
    """``(format name, Format, Codec)`` for an output; refuse a combination that
    cannot work, naming the formats that would.

    ``format`` names the format when the output's name does not: a name whose
    extension (or frame pattern) is another format's is refused, since the file would
    be of one format under another's name.
    """
    named = "png" if frames_pattern(path) else SUFFIXES.get(Path(path).suffix.lower())
    if format is None:
        format = named
        if format is None:
            raise OptionError(f"output {path}: fastviz writes {_described(FORMATS)}; "
                              f"{Path(path).suffix or 'no extension'} names none of them")
    elif format not in FORMATS:
        raise OptionError(f"format must be one of {', '.join(FORMATS)}, got {shown(format)}")
    elif named is not None and named != format:
        raise OptionError(f"format must match the output's name: {path} is named as "
                          f"{_described([named])}, not {format}; name it for "
                          f"{_described([format])}, or leave format out")
    row = FORMATS[format]
    name = codec or next(iter(row.codecs))
    if name not in row.codecs:
        fits = [f for f in FORMATS if name in FORMATS[f].codecs]
        if not fits:
            known = dict.fromkeys(c for f in FORMATS.values() for c in f.codecs)
            raise OptionError(f"codec must be one of {', '.join(known)}, got {shown(name)}")
        raise OptionError(f"output {path}: codec {name} does not go in "
                          f"{_described([format])}; it goes in {_described(fits)}")
    if transparent and row.codecs[name].alpha_pix_fmt is None:
        fits = [f for f, r in FORMATS.items() if any(c.alpha_pix_fmt for c in r.codecs.values())]
        raise OptionError(f"output {path}: transparent needs a format with an alpha "
                          f"channel: {_described(fits, alpha=True)}; "
                          f"{format if codec is None else f'{name} in {format}'} has none")
    return format, row, row.codecs[name]


def check_frames(format, codec, width, height, fps):
    """Refuse frames the format or its codec cannot take: a rate above the format's
    ``max_fps`` (a GIF plays slow above 50), or a frame (padded to even for 4:2:0)
    under the codec's ``min_size``."""
    row, fps = FORMATS[format], as_fraction(fps)
    if row.max_fps is not None and fps > row.max_fps:
        raise OptionError(f"fps must be at most {row.max_fps} for {format.upper()}, got "
                          f"{fps}: its frame delays are whole hundredths of a second and "
                          "players slow any under 2/100 s to 10/100 s, so a faster GIF "
                          "plays too slow; use fps 50 or less, or MP4 or WebM")
    if codec.even:
        width, height = width + width % 2, height + height % 2
    if width < codec.min_size[0] or height < codec.min_size[1]:
        least = "x".join(map(str, codec.min_size))
        takers = [name for name, c in row.codecs.items()
                  if c.min_size[0] <= width and c.min_size[1] <= height]
        raise OptionError(f"size must be at least {least} for {codec.encoder}, got "
                          f"{width}x{height}" + (f"; codec {' or '.join(takers)} takes it"
                                                 if takers else ""))


def frame_format(format, encoder=None, transparent=False):
    """What the writer of ``format`` takes: ``"rgba"`` with ``transparent``, else the
    format's frames, or an ``encoder``'s own (``Codec.frames``, see ``encoder_codec``)."""
    if transparent:
        return "rgba"
    return FORMATS[format].frames if encoder is None else encoder_codec(encoder,
                                                                        format).frames


@functools.cache
def video_encoders():
    """Names of the video encoders the bundled ffmpeg has (``ffmpeg -encoders``)."""
    proc, log, _ = _ffmpeg.start(["-encoders"], stdout=subprocess.PIPE)
    listing = proc.stdout.read().decode(errors="replace")
    proc.wait()
    rows = listing.split(" ------", 1)[-1].splitlines()
    return tuple(row.split()[1] for row in rows if row.strip().startswith("V"))


@functools.cache
def _encoder_help(encoder):
    """(supported pixel formats, whether it is a hardware encoder), from ffmpeg -h."""
    proc, log, _ = _ffmpeg.start(["-h", f"encoder={encoder}"], stdout=subprocess.PIPE)
    text = proc.stdout.read().decode(errors="replace")
    proc.wait()
    lines = text.splitlines()
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


def _first_words(log):
    """ffmpeg's first line of complaint, without its ``[muxer @ 0x...]`` prefix and cut
    short: the cause comes first, the consequences after it, each one line."""
    line = log.tail().splitlines()[0]
    line = re.sub(r"^(\[[^]]*\]\s*)+", "", line).strip()
    return line if len(line) <= 160 else line[:157] + "..."


def trial_encode(video_input, video_arguments, format, size, pixel_format, encoder):
    """Encode one frame of colour stripes with ffmpeg's ``video_input`` (raw frames on
    stdin) and ``video_arguments`` into a scratch ``format`` file, then decode it back:
    refuse an encoder that cannot run here, or that shifts colours, in one line that
    says why and names what works. Once per encoder, format, input and size."""
    return _trial_encode(tuple(video_input), tuple(video_arguments), format, tuple(size),
                         pixel_format, encoder)


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
        said = _first_words(log)
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


def check_output(path, overwrite=False, inputs=(), format=None):
    """Refuse an output that exists (unless ``overwrite``), that is not a plain file,
    or that is one of ``inputs``; returns the path (for frames, their pattern).

    The format comes from the name (``output_format``), or ``format``; ``PICTURE`` is
    one PNG picture (``frame``, ``layout``), which a plain ``NAME.png`` always names:
    numbered PNG frames are a folder or a ``%05d.png`` pattern (see ``check_sequence``).

    Only a file, or a symlink (the link is replaced, never what it points to), is ever
    replaced: a folder, a device (``/dev/null``), a pipe or a socket at the output is
    refused even with ``overwrite``, since replacing it would break whatever uses it.
    An input is compared by resolved path and, when both exist, as the same file on
    disk, so a symlink or a hard link to it is refused too, even with ``overwrite``.
    ``publish`` checks all this again when the file is done.
    """
    if format == PICTURE:
        if Path(path).suffix.lower() != ".png" or frames_pattern(path):
            raise OptionError(f"output {path}: this writes one PNG picture, so name it "
                              "NAME.png")
    else:
        format = output_format(path, format)[0]
        pattern = frames_pattern(path) if format == "png" else None
        if format == "png" and pattern is None:
            raise OptionError(f"output {path}: PNG frames go in a folder (name it with a "
                              f"slash, DIR/) or a pattern such as NAME_{FRAME_PATTERN}; "
                              "one .png is a picture (fastviz frame writes one)")
        if pattern is not None:
            return check_sequence(pattern, overwrite, inputs)
    path = Path(path)
    found = kind(path)
    if not replaceable(path):
        raise OutputError(f"output {path} is {found}, not a file: fastviz never replaces "
                          "one, even with overwrite=True")
    clash = _input_at(path, inputs)
    if clash is not None:
        raise OutputError(f"output {path} is the input {clash}; writing it would "
                          "destroy the input, so choose another name")
    if found is not None and not overwrite:  # a dangling symlink counts too
        raise OutputError(f"output {path} exists; pass overwrite=True to replace it")
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: folder {folder} is missing or not writable")
    return path


def _input_at(path, inputs):
    """The first of ``inputs`` (paths; other values are ignored) that ``path`` is."""
    return next((source for source in inputs if isinstance(source, (str, os.PathLike))
                 and same_file(path, source)), None)


def check_sequence(pattern, overwrite=False, inputs=()):
    """Refuse a folder that cannot take numbered PNG frames ``pattern`` (``DIR/NAME%05d.png``).

    A sequence is a folder of its own, published whole by renaming a finished folder
    (``publish_frames``), so it appears whole or not at all. The folder may be missing
    (made then), empty, or hold nothing but files named as ``pattern`` names frames,
    which are an earlier sequence: replaced whole with ``overwrite``, else refused.
    Anything else in it (an input, a subfolder, any other file) and it is refused,
    naming that file: ``DIR/NAME%05d.png`` does not mix frames into a folder of other
    files. Its parent must be writable (the rename happens there), and it may not be
    a mount point or hold the current folder.
    """
    folder = pattern.parent
    found = kind(folder)
    if found is not None and found != "a folder":
        raise OutputError(f"output {folder} is {found}, not a folder: PNG frames go in "
                          "a folder of their own")
    if found is not None:
        if os.path.ismount(folder):
            raise OutputError(f"output {folder} is a mount point: PNG frames are moved "
                              "into place by renaming their folder, so name a folder "
                              f"inside it ({Path(folder, 'frames', pattern.name)})")
        try:
            here = os.path.realpath(os.getcwd())
        except OSError:  # the current folder was deleted
            here = None
        where = os.path.realpath(folder)
        if here is not None and os.path.commonpath([here, where]) == where:
            raise OutputError(f"output {folder} holds the current folder: PNG frames go "
                              f"in a folder of their own (frames/{pattern.name})")
        count, stranger = _sequence_in(folder, pattern, inputs)
        if stranger is not None:
            raise OutputError(f"output {folder} holds {stranger}; PNG frames need a "
                              "folder of their own: a new or empty one, or one that holds "
                              "only an earlier sequence (replaced with overwrite=True)")
        if count and not overwrite:
            raise OutputError(f"output {folder} exists with {count} numbered frame(s) in "
                              "it; pass overwrite=True to replace the sequence")
    parent = folder.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {pattern}: folder {parent} is missing or not "
                          "writable (frames are moved into place by renaming their "
                          "folder in it)")
    return pattern


def _sequence_in(folder, pattern, inputs=()):
    """``(frames, stranger)``: how many files of ``folder`` are named as ``pattern``
    numbers frames, and the first entry that is not one of them (or is an input), in
    words, or None."""
    names = frame_names(pattern.name)
    count = 0
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        clash = _input_at(entry.path, inputs)
        if clash is not None:
            return count, f"the input {clash}"
        if not (entry.is_file(follow_symlinks=False) and names.fullmatch(entry.name)):
            return count, f"{entry.name}, which is not one of its frames ({pattern.name})"
        count += 1
    return count, None


def same_file(a, b):
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def temporary_file(path, suffix=".part", folder=None):
    """Create a hidden temporary file beside ``path`` (or in ``folder``, on its
    filesystem); return its Path.

    The name holds at most 100 bytes of the output's name, so it fits wherever the
    output's name does (255 bytes on common filesystems).
    """
    path = Path(path)
    where = path.parent if folder is None else Path(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{cut(path.name)}.", suffix=suffix, dir=where)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    os.close(fd)
    return Path(tmp)


def _keep_aside(tmp, path):
    """Move the finished ``tmp`` (a file or a folder) to a new visible name beside
    ``path``, made of at most 100 bytes of its name; return that name."""
    if tmp.is_dir():
        kept = tempfile.mkdtemp(prefix=f"{cut(path.name)}-", dir=path.parent)
    else:
        fd, kept = tempfile.mkstemp(prefix=f"{cut(path.stem)}-",
                                    suffix=cut(path.suffix, 16), dir=path.parent)
        os.close(fd)
    os.replace(tmp, kept)  # a folder replaces the empty folder just made
    return Path(kept)


def publish(tmp, path, overwrite=False, inputs=()):
    """Move the finished ``tmp`` onto ``path``, never over a file that appeared meanwhile.

    Without ``overwrite`` the move is a hard link then an unlink, which fails instead of
    replacing (on filesystems without hard links, a check then a rename). With it, what
    is at ``path`` is checked again as ``check_output`` did: only a file or a symlink
    is replaced, never an input. When the move cannot be made, what is at ``path`` is
    kept; the finished video is kept too, under a visible name beside it, and the error
    says where. The move and the keeping are not cut by a stop signal.
    """
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp made it private
    with _ffmpeg.signals_held():
        why = _move(tmp, path, overwrite, inputs)
        if why is None:
            _ffmpeg.record_published(path)
            return
        kept = _keep_aside(tmp, path)
    raise OutputError(f"{path} {why}; the video is at {kept}")


def _move(tmp, path, overwrite, inputs):
    """Move ``tmp`` onto ``path``: None, or why it was not done."""
    if overwrite:
        clash = _input_at(path, inputs)
        if clash is not None:
            return f"became the input {clash} while rendering, and was not replaced"
        if not replaceable(path):
            return (f"became {kind(path)} while rendering, which fastviz never replaces")
        os.replace(tmp, path)
        return None
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:  # no hard links here (FAT, some network filesystems)
        if not os.path.lexists(path):
            os.replace(tmp, path)
            return None
    else:
        os.unlink(tmp)
        return None
    return ("appeared while rendering and was not replaced (pass overwrite=True to "
            "replace it)")


def temporary_folder(pattern):
    """A hidden temporary folder for numbered frames, beside their folder (in its
    parent, where ``publish_frames`` renames it). Returns its Path."""
    folder = pattern.parent
    try:  # no % in its name: ffmpeg would take it for a number
        return Path(tempfile.mkdtemp(prefix=f".{cut(folder.name).replace('%', '_')}.",
                                     suffix=".part", dir=folder.parent))
    except OSError as exc:
        raise OutputError(f"cannot write {pattern}: {exc.strerror}") from None


def publish_frames(tmp, pattern, overwrite=False, inputs=()):
    """Move the finished folder of frames ``tmp`` into place as ``pattern``'s folder,
    whole: by renaming the folder, never frame by frame.

    A missing or empty folder is replaced at once (a rename replaces only an empty
    folder). With ``overwrite``, a folder holding an earlier sequence is renamed aside,
    checked to hold only that (nothing came meanwhile), replaced, and removed; on any
    failure it is put back. Otherwise, what is there is kept, the frames are kept under
    a visible name beside it, and the error says where. Not cut by a stop signal.
    """
    folder = pattern.parent
    os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp made it private
    with _ffmpeg.signals_held():
        why = _swap_folder(tmp, pattern, overwrite, inputs)
        if why is None:
            _ffmpeg.record_published(folder)
            return
        kept = _keep_aside(tmp, folder)
    raise OutputError(f"{folder} {why}; the frames are in {kept}")


def _swap_folder(tmp, pattern, overwrite, inputs):
    """Rename ``tmp`` to ``pattern``'s folder: None, or why it was not done."""
    folder, old = pattern.parent, None
    if kind(folder) == "a folder" and any(os.scandir(folder)):
        if not overwrite:
            return ("appeared while rendering, with files in it, and was not replaced "
                    "(pass overwrite=True to replace a sequence)")
        old = Path(tempfile.mkdtemp(prefix=f".{cut(folder.name)}.", suffix=".old",
                                    dir=folder.parent))
        try:
            os.replace(folder, old)
        except OSError as exc:
            old.rmdir()
            return f"could not be moved aside ({exc.strerror}), so it was kept"
        _, stranger = _sequence_in(old, pattern, inputs)
        if stranger is not None:
            os.replace(old, folder)
            return f"now holds {stranger}, so it was kept"
    try:
        os.rename(tmp, folder)
    except OSError as exc:
        why = f"could not be replaced ({exc.strerror})"
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            why = f"appeared while rendering, as {kind(folder)}, and was not replaced"
        if old is not None:
            try:
                os.replace(old, folder)  # the earlier sequence, back in its place
            except OSError:
                why += f" (the earlier sequence is in {old})"
        return why
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return None


def source_tag(audio):
    """The comment fastviz writes into a video made from the file ``audio``.

    A hash of the file's resolved path, not the path: a batch that resumes knows an
    existing video is this input's (and not another input's of the same name) without
    a video telling where its maker keeps files.

    Examples
    --------
    >>> source_tag("a.wav") == source_tag("./a.wav")
    True
    """
    digest = hashlib.sha1(os.fsencode(os.path.realpath(audio))).hexdigest()[:16]
    return f"fastviz source {digest}"


def read_source_tag(video):
    """The ``source_tag`` written in ``video``, or None (not fastviz's, or unreadable).

    Read as any user's file is: a plain file only, watched for stalls.
    """
    if kind(video) not in ("a file", "a symlink to a file"):
        return None
    proc, log, _ = _ffmpeg.start([*_ffmpeg.plain_input(video), "-f", "ffmetadata", "-"],
                                 stdout=subprocess.PIPE)
    watchdog = _ffmpeg.Watchdog(proc)
    try:
        text = watchdog.read(1 << 20).decode("utf-8", "replace")  # a tag is near the top
    finally:
        watchdog.stop()
        _ffmpeg.kill(proc)
    for line in text.splitlines():  # WebM (Matroska) spells the key COMMENT
        key, _, value = line.partition("=")
        if key.lower() == "comment" and value.startswith("fastviz source "):
            return value
    return None


def downmix_note(source, channels):
    """A note when ``source`` has more channels than the video keeps: they are averaged."""
    if channels > MAX_AAC_CHANNELS:
        warnings.warn(f"{source} has {channels} channels, more than the "
                      f"{MAX_AAC_CHANNELS} a video's sound keeps here (AAC's limit): the "
                      "sound is their average, in both stereo channels", FastvizWarning,
                      stacklevel=3)


def audio_arguments(audio, channels, channel_mask=0, start=None, duration=None,
                    input_index=1, codec="aac"):
    """ffmpeg (inputs, output arguments) that mux ``audio`` as input ``input_index``.

    ``audio`` is a file; ``start`` and ``duration`` pick the part the analysis read
    (``_audio.input_arguments``, so both hear the same samples). ``codec`` is the
    audio encoder (``aac``, ``libopus``).
    """
    inputs, chain = input_arguments(audio, start, duration)
    extra = []
    if channels > MAX_AAC_CHANNELS:  # AAC stops at 8 channels: average them
        mean = "+".join(f"{1 / channels:.6f}*c{i}" for i in range(channels))
        chain += f",pan=stereo|c0={mean}|c1={mean}"
        channels = 2
    elif codec == "libopus" and channels > 2:
        # Opus's surround mappings take only Vorbis layouts, and code an LFE channel
        # narrow: any 3 to 8 channels go as discrete channels (mapping family 255),
        # each kept whole and in its place. Browsers may downmix them; ffmpeg keeps them.
        extra = ["-mapping_family", "255"]
    elif not channel_mask and channels in UNLABELLED_LAYOUTS:
        chain += f",channelmap=channel_layout={UNLABELLED_LAYOUTS[channels]}"
    bitrate = 192 if channels <= 2 else 96 * channels
    outputs = ["-map", f"{input_index}:a:0", "-af", chain, "-c:a", codec, *extra,
               "-b:a", f"{bitrate}k"]
    return inputs, outputs


class VideoWriter:
    """Write frames and an optional audio track to a video (or frames) through ffmpeg.

    Use as a context manager: on a clean exit the video is finalised and moved into
    place; on any exception ffmpeg is killed and nothing is left at ``path``.

    Parameters
    ----------
    path : str or Path
        Output file; its extension picks the format (``FORMATS``): ``.mp4``/``.m4v``
        (H.264, HEVC or AV1 with AAC), ``.webm`` (VP9 or AV1 with Opus), ``.mov``
        (ProRes 4444 with AAC), ``.gif`` (no sound), or a folder or ``%05d.png``
        pattern for numbered PNG frames (no sound).
    size : (int, int)
        Frame (width, height). Odd RGB sizes are padded by one black row or column,
        since 4:2:0 video needs even sizes; frames are never rescaled.
    fps : int, float, str or Fraction
        Frame rate, passed to ffmpeg exactly (``"30000/1001"`` is kept as is).
    audio : str, Path or (samples, rate), optional
        Audio file to mux in, or samples with their rate in Hz: shape (n,),
        (n_channels, n) or (n, n_channels), floats in -1..1 or integers (full scale).
        Encoded to AAC; more than 8 channels are averaged into both stereo channels.
    audio_start, audio_duration : float, optional
        Seconds of the audio file to skip, and to keep.
    preset, crf : str, int
        libx264 speed preset and quality (lower is better; 23 is x264's default).
    pixel_format : ``"rgb24"`` (default), ``"nv12"`` or ``"rgba"``
        What ``write`` takes: RGB frames, converted by ffmpeg to BT.709 Y'CbCr, or
        NV12 frames already in it (``FrameRenderer.frames_nv12``, even sizes only),
        which H.264 takes as they are, or, with ``transparent``, RGBA frames with
        straight alpha (``FrameRenderer.frames_rgba``).
    format : str, optional
        A key of ``FORMATS`` (``"mp4"``, ``"webm"``, ``"mov"``, ``"gif"``, ``"png"``),
        instead of the extension's.
    codec : str, optional
        A codec of the format (``"hevc"``, ``"av1"``...); default its first.
    transparent : bool
        Keep the frames' alpha: ``.mov``, ``.webm`` (VP9) or PNG frames.
    encoder : str, optional
        Any video encoder of the bundled ffmpeg (``"h264_nvenc"``...) instead of the
        codec's; a one-frame trial encode checks here and now that it works.
    overwrite : bool
        Replace an existing ``path``.
    n_frames : int, optional
        How many frames will be written, at most. With audio, the sound is cut at the
        last frame either way (a longer sound would freeze the picture); knowing the
        count up front cuts it as it is encoded instead of by a stream copy at
        ``close``. Writing more than ``n_frames`` is refused.
    metadata : dict, optional
        Tags for the file (``{"title": ...}``), as ffmpeg's ``-metadata``.
    inputs : sequence of paths, optional
        Files the video was made from (besides ``audio``): ``path`` may never be one.
    scratch_dir : str or Path, optional
        Folder for the temporary file, on ``path``'s filesystem (a batch's own folder,
        removed as a whole); default beside ``path``.

    A writer still open when the interpreter exits (in a daemon thread, say) is
    aborted then, so it leaves nothing behind either.

    Examples
    --------
    ::

        frames = np.zeros((30, 64, 64, 3), np.uint8)
        with VideoWriter("out.mp4", (64, 64), 30, audio="song.wav") as video:
            video.write(frames)
    """

    def __init__(self, path, size, fps, *, audio=None, audio_start=None,
                 audio_duration=None, preset="veryfast", crf=20, pixel_format="rgb24",
                 overwrite=False, n_frames=None, metadata=None, format=None, codec=None,
                 transparent=False, encoder=None, inputs=(), scratch_dir=None):
        self.overwrite = bool(overwrite)
        self.scratch_dir = scratch_dir
        self.metadata = dict(metadata or {})
        self.n_frames = None if n_frames is None else int(n_frames)
        self.format_name, self.format, self.codec = output_format(path, format, codec,
                                                                  transparent)
        self.transparent = bool(transparent)
        if encoder is not None:
            self.codec = encoder_codec(encoder, self.format_name, self.transparent)
        self.inputs = tuple(inputs) + ((audio,) if isinstance(audio, (str, os.PathLike))
                                       else ())
        self.path = check_output(path, overwrite, self.inputs, self.format_name)
        self.width, self.height = (int(s) for s in size)
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"frame size must be positive, got {size}")
        check_frame_size(self.width, self.height)
        self.fps = as_fraction(fps)
        check_frames(self.format_name, self.codec, self.width, self.height, self.fps)
        if (pixel_format == "rgba") != self.transparent:
            raise ValueError("pixel_format 'rgba' goes with transparent=True, and only it")
        if pixel_format == "rgb24":
            self.frame_shape = (self.height, self.width, 3)
        elif pixel_format == "rgba":
            self.frame_shape = (self.height, self.width, 4)
        elif (pixel_format == "nv12" and not (self.width % 2 or self.height % 2)
              and self.codec.frames == "nv12"):
            self.frame_shape = (self.height * 3 // 2, self.width)
        else:
            raise ValueError(f"pixel_format must be 'rgb24', or 'nv12' with an even size "
                             f"and a BT.709 Y'CbCr encoder; got {shown(pixel_format)} at "
                             f"{self.width}x{self.height} for {self.path} "
                             f"({self.codec.encoder})")
        self.pixel_format = pixel_format
        self.preset, self.crf = check_preset(str(preset)), str(int(crf))
        self.audio_channels, self.channel_mask = None, 0
        if audio is not None and self.format.audio is None:
            warnings.warn(f"{self.path} is {self.format_name.upper()}, which has no sound: "
                          "the audio drives the animation and is left out",
                          FastvizWarning, stacklevel=2)
            audio = None
        if isinstance(audio, tuple):
            samples, rate = audio
            rate = check_rate(rate)
            samples = as_channels_first(samples)
            audio, self.audio_channels = (samples, rate), len(samples)
        elif audio is not None:
            with AudioStream(audio) as stream:  # fails now, not after the render
                self.audio_channels, self.channel_mask = stream.channels, stream.channel_mask
        if audio is not None:
            downmix_note(audio if not isinstance(audio, tuple) else "the audio array",
                         self.audio_channels)
        self.audio, self.audio_start, self.audio_duration = audio, audio_start, audio_duration
        if encoder is not None:
            trial_encode(self._video_input(), self.video_arguments(), self.format_name,
                         (self.width, self.height), pixel_format, encoder)
        self.frames_written = 0
        self.command = None
        self._state = "new"
        self._proc = self._tmp = self._wav = None

    def _video_input(self):
        return ["-f", "rawvideo", "-pix_fmt", self.pixel_format,
                "-s", f"{self.width}x{self.height}",
                "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-"]

    def _arguments(self, audio):
        video_in = self._video_input()
        audio_in, audio_out = [], []
        if audio is not None:
            duration = self.audio_duration
            if self.n_frames is not None:  # the sound stops with the last frame
                end = float(self.n_frames / self.fps)
                duration = end if duration is None else min(float(duration), end)
            audio_in, audio_out = audio_arguments(audio, self.audio_channels,
                                                  self.channel_mask, self.audio_start,
                                                  duration, codec=self.format.audio)
        # numbered frames: written in the temporary folder, ffmpeg's working folder, so
        # no % or newline in the folders above can reach its image2 muxer
        target = _ffmpeg.file_arg(self._tmp) if self.format_name != "png" else (
            "file:" + self.path.name)
        tags = [arg for key, value in self.metadata.items()
                for arg in ("-metadata", f"{key}={value}")]
        return [*video_in, *audio_in, "-map", "0:v:0", *self.video_arguments(), *audio_out,
                *tags, *self.format.muxer_settings, "-loglevel", "error",
                "-f", self.format.muxer, "-y", target]

    def video_arguments(self):
        """ffmpeg's video output arguments: filter, encoder and its settings."""
        # Tagged: untagged video is read as BT.601 or BT.709 depending on the player and
        # the size, which shifts the colours. NV12 is x264's own layout (4:2:0 like
        # yuv420p, chroma interleaved), so it goes in unconverted; RGB is converted to
        # the matrix and range the codec's decoders read (``Codec.matrix``).
        codec = self.codec
        out = codec.alpha_pix_fmt if self.transparent else codec.pix_fmt
        settings = [a.format(preset=self.preset, crf=self.crf) for a in codec.settings]
        if codec.matrix is None:  # RGB or a palette: no Y'CbCr to tag
            return [*(["-vf", codec.filter] if codec.filter else []), "-c:v",
                    codec.encoder, *settings, *(["-pix_fmt", out] if out else [])]
        matrix, tag = {"bt709": ("bt709", "bt709"), "bt601": ("bt601", "smpte170m")}[
            codec.matrix]
        levels = "pc" if codec.full_range else "tv"
        video = (f"setparams=range={levels}:colorspace={tag}:color_primaries=bt709:"
                 "color_trc=bt709")
        if self.pixel_format == "nv12":  # chroma is each 2 x 2 block's: centred
            pix_fmt = ["-pix_fmt", "nv12" if codec.nv12 else out,
                       "-chroma_sample_location", "center"]
        else:
            video = f"scale=out_color_matrix={matrix}:out_range={levels}," + video
            if codec.even and (self.width % 2 or self.height % 2):
                clear = ":color=black@0" if self.transparent else ""
                video = f"pad=ceil(iw/2)*2:ceil(ih/2)*2{clear}," + video
            pix_fmt = ["-pix_fmt", out]
        return ["-vf", video, "-c:v", codec.encoder, *settings, *pix_fmt]

    def open(self):
        """Create the temporary file and start ffmpeg; returns the writer."""
        if self._state != "new":
            raise ValueError(f"VideoWriter for {self.path} was opened already; "
                             "make a new one for another video")
        self._state = "open"
        _open_writers.add(self)
        if self.format_name == "png":
            self._tmp = temporary_folder(self.path)
        else:
            self._tmp = temporary_file(self.path, folder=self.scratch_dir)
        try:
            audio = self.audio
            if isinstance(audio, tuple):  # an array: ffmpeg reads it from a scratch WAV
                from scipy.io import wavfile

                fd, wav = tempfile.mkstemp(prefix="fastviz-", suffix=".wav")
                os.close(fd)
                self._wav = Path(wav)
                try:
                    wavfile.write(self._wav, audio[1], audio[0].T.copy())
                except OSError as exc:
                    raise OutputError(f"cannot write the sound of {self.path} to the "
                                      f"scratch file {wav}: {exc.strerror}") from None
                audio = self._wav
            cwd = self._tmp if self.format_name == "png" else None
            self._proc, self._log, command = _ffmpeg.start(self._arguments(audio),
                                                           stdin=subprocess.PIPE, cwd=cwd)
            self.command = shlex.join(command)
        except BaseException:
            self.abort()
            raise
        return self

    def write(self, frames):
        """Append one uint8 frame, (H, W, 3|4) or NV12's (3H/2, W), or a block of them."""
        if self._state != "open":
            raise ValueError(f"VideoWriter for {self.path} is {self._state_words()}: "
                             "write inside its with block, or after open()")
        frames = np.asarray(frames)
        if frames.ndim == len(self.frame_shape):
            frames = frames[None]
        if frames.shape[1:] != self.frame_shape or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 of shape (n, "
                             f"{', '.join(map(str, self.frame_shape))}), "
                             f"got {frames.dtype} {frames.shape}")
        if not len(frames):
            return
        if self.n_frames is not None and self.frames_written + len(frames) > self.n_frames:
            raise ValueError(f"VideoWriter for {self.path} was told n_frames="
                             f"{self.n_frames}, and its sound cut there; writing "
                             f"{self.frames_written + len(frames)} frames would outrun it")
        try:
            self._proc.stdin.write(memoryview(np.ascontiguousarray(frames)).cast("B"))
        except (BrokenPipeError, OSError, ValueError):
            self._proc.wait()
            raise self._error("ffmpeg stopped reading frames") from None
        self.frames_written += len(frames)

    def _cut_audio_at_last_frame(self):
        """Copy the streams to a new file that ends with the last frame, so the picture
        never freezes under sound that has no frames. Needed when fewer frames came
        than ``n_frames`` announced, or none was announced: then ffmpeg did not know
        where to cut. A stream copy, no re-encoding: about the cost of copying the file."""
        cut = temporary_file(self.path, folder=self.scratch_dir)
        try:
            end = self.frames_written / self.fps
            proc, log, command = _ffmpeg.start(
                ["-i", _ffmpeg.file_arg(self._tmp), "-map", "0", "-c", "copy", "-t",
                 f"{float(end):.6f}", *self.format.muxer_settings,
                 "-loglevel", "error", "-f", self.format.muxer, "-y",
                 _ffmpeg.file_arg(cut)])
            if proc.wait() != 0:
                raise EncodeError(f"cutting the audio at the last frame of {self.path} "
                                  f"failed\ncommand: {shlex.join(command)}\n"
                                  f"ffmpeg said:\n{log.tail()}")
            os.replace(cut, self._tmp)
        finally:
            if cut.exists():
                cut.unlink()

    def _state_words(self):
        return {"new": "not open yet", "closed": "closed"}.get(self._state, self._state)

    def _error(self, what):
        code = self._proc.returncode
        if code is not None and code < 0:  # killed: ffmpeg could say nothing
            how = f"killed by {signal.Signals(-code).name}"
        else:
            how = f"exit code {code}"
        return EncodeError(f"{what} ({how}) while writing "
                           f"{self.path}\ncommand: {self.command}\n"
                           f"ffmpeg said:\n{self._log.tail()}")

    def close(self):
        """Finish the video, check ffmpeg's exit code and move the file into place.

        Closing a closed writer does nothing, as for a file.
        """
        if self._state == "closed":
            return
        if self._state == "new":
            raise ValueError(f"VideoWriter for {self.path} was never opened")
        try:
            if self.frames_written == 0:
                raise EncodeError(f"no frames were written to {self.path}")
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
            if self._proc.wait() != 0:
                raise self._error("ffmpeg failed")
            if self.audio is not None and self.frames_written != self.n_frames:
                self._cut_audio_at_last_frame()
            if self.format_name == "png":
                publish_frames(self._tmp, self.path, self.overwrite, self.inputs)
            else:
                publish(self._tmp, self.path, self.overwrite, self.inputs)
        except BaseException:
            self.abort()
            raise
        self._state = "closed"
        _open_writers.discard(self)
        self._remove_wav()

    def abort(self):
        """Kill ffmpeg and remove the temporary file; nothing is left at ``path``.

        Not cut by a stop signal (one that comes meanwhile is raised after).
        """
        with _ffmpeg.signals_held():
            self._state = "closed"
            _open_writers.discard(self)
            if self._proc is not None:
                _ffmpeg.kill(self._proc)
            for scratch in (self._tmp, self._wav):
                if scratch is not None and scratch.is_dir():
                    shutil.rmtree(scratch, ignore_errors=True)
                elif scratch is not None:
                    scratch.unlink(missing_ok=True)

    def _remove_wav(self):
        if self._wav is not None:
            self._wav.unlink(missing_ok=True)

    def __del__(self):  # dropped while open: no ffmpeg or temporary file may outlive it
        if getattr(self, "_state", None) == "open":
            self.abort()

    def __enter__(self):
        return self.open() if self._state == "new" else self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


_open_writers = weakref.WeakSet()  # VideoWriters opened and not yet closed or aborted


@atexit.register
def _abort_open_writers():
    """At exit, abort the writers still open: a daemon thread's is never closed."""
    for writer in list(_open_writers):
        writer.abort()
