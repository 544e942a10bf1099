"""What fastviz can write, as data: formats, codecs, speeds, layouts; no I/O.

A format's differences (one file or a sequence of frames, its default frame rate and
width, sound or none, alpha, whether it splits into segments, its encoder settings) are
fields of its row in ``FORMATS``, never a branch on its name elsewhere: a new container
or codec is one row. The lookups here check a user's choice against the table and say
what would work; they read nothing but the table (and, for a folder of frames, whether
a folder is there).
"""
import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ._errors import OptionError, shown

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
    """A kind of output, as the table's row.

    ``muxer``: ffmpeg's; ``codecs``: name -> ``Codec``, the first the default;
    ``suffixes``: the names that pick it (the first is what a batch names its videos);
    ``audio``: its sound's encoder (None: no sound); ``muxer_settings``; ``frames``: what
    to draw for it (``"nv12"`` or ``"rgb24"``); ``max_fps``: the highest rate it plays at
    its rate (None: any); ``fps``: its default frame rate; ``width``: its largest width
    when no size is given (None: the picture's); ``sequence``: the name pattern of
    numbered frames in a folder of their own, written instead of one file (None: one
    file); ``segments``: the codecs that render in segments on Dask and join by stream
    copy; ``words``: how a message names it (default its suffixes); ``tags``: whether it
    holds tags (the source tag a batch resumes by); ``mime``: its media type, as a
    notebook's player is told (None: not one file).
    """

    muxer: str
    codecs: dict
    suffixes: tuple = ()
    audio: str = None
    muxer_settings: tuple = ()
    frames: str = "nv12"
    max_fps: Fraction = None
    fps: Fraction = Fraction(30)
    width: int = None
    sequence: str = None
    segments: tuple = ()
    words: str = None
    tags: bool = True
    mime: str = None

    @property
    def alpha(self):
        """Whether any of its codecs keeps an alpha channel."""
        return any(c.alpha_pix_fmt for c in self.codecs.values())

    @property
    def default_codec(self):
        return next(iter(self.codecs))


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
                  suffixes=(".mp4", ".m4v"), audio="aac",
                  muxer_settings=("-movflags", "+faststart"), segments=("h264",),
                  mime="video/mp4"),
    "webm": Format("webm", {"vp9": Codec("libvpx-vp9", ("-crf", "32", "-b:v", "0",
                                                        "-deadline", "good", "-cpu-used",
                                                        "4", "-row-mt", "1"),
                                         alpha_pix_fmt="yuva420p"),
                            "av1": AV1},
                   suffixes=(".webm",), audio="libopus", mime="video/webm"),
    "mov": Format("mov", {"prores": Codec("prores_ks", ("-profile:v", "4444", "-vendor",
                                                        "apl0"),
                                          pix_fmt="yuv444p10le",
                                          alpha_pix_fmt="yuva444p10le")},
                  suffixes=(".mov",), audio="aac", muxer_settings=("-movflags", "+faststart"),
                  frames="rgb24", mime="video/quicktime"),
    # GIF delays are whole hundredths of a second, and players show a delay under
    # 2/100 s as 10/100 s: above 50 fps a GIF plays slow (60 fps: 2.8 times as long).
    # GIFs are for slides and READMEs: when the size and rate are not given, 480 px
    # wide at 15 fps.
    "gif": Format("gif", {"gif": Codec("gif", pix_fmt=None, matrix=None, filter=(
        "split[a][b];[a]palettegen=stats_mode=diff[p];"
        "[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle"))},
                  suffixes=(".gif",), frames="rgb24", max_fps=Fraction(50), fps=Fraction(15),
                  width=480, tags=False, mime="image/gif"),
    "png": Format("image2", {"png": Codec("png", pix_fmt="rgb24", alpha_pix_fmt="rgba",
                                          matrix=None)},
                  suffixes=(".png",), muxer_settings=("-start_number", "0"), frames="rgb24",
                  sequence="%05d.png", words="PNG frames (a folder, or a %05d.png pattern)"),
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


SUFFIXES = {suffix: name for name, row in FORMATS.items() for suffix in row.suffixes}
DEFAULT_FORMAT = "mp4"  # what a batch writes, and what a preview's frame is shaped for
SEQUENCE = next(name for name, row in FORMATS.items() if row.sequence)  # PNG frames
FRAME_PATTERN = FORMATS[SEQUENCE].sequence
PICTURE = "picture"  # check_output's format for one PNG picture (previews)


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
    words = {name: row.words or "/".join(sorted(row.suffixes))
             for name, row in FORMATS.items()}
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
    if name.lower().endswith(FORMATS[SEQUENCE].suffixes) and "%" in name:
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
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise OptionError(f"output must be a path (a str or a Path), got "
                          f"{type(path).__name__} {shown(path)}")
    named = SEQUENCE if frames_pattern(path) else SUFFIXES.get(Path(path).suffix.lower())
    if format is None:
        format = named
        if format is None:
            raise OptionError(f"output {path}: fastviz writes {_described(FORMATS)}; "
                              + (f"{Path(path).suffix} is none of them" if Path(path).suffix
                                 else "format must be given for a name without an extension"))
    elif format not in FORMATS:
        raise OptionError(f"format must be one of {', '.join(FORMATS)}, got {shown(format)}")
    elif named is not None and named != format:
        raise OptionError(f"format must match the output's name: {path} is named as "
                          f"{_described([named])}, not {format}; name it for "
                          f"{_described([format])}, or leave format out")
    row = FORMATS[format]
    name = codec or row.default_codec
    if name not in row.codecs:
        fits = [f for f in FORMATS if name in FORMATS[f].codecs]
        if not fits:
            known = dict.fromkeys(c for f in FORMATS.values() for c in f.codecs)
            raise OptionError(f"codec must be one of {', '.join(known)}, got {shown(name)}")
        raise OptionError(f"output {path}: codec {name} does not go in "
                          f"{_described([format])}; it goes in {_described(fits)}")
    if transparent and row.codecs[name].alpha_pix_fmt is None:
        fits = [f for f, r in FORMATS.items() if r.alpha]
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
