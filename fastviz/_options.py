"""Every option a user can set, defined once: keyword, default, help, flag and checks.

``Options`` is the table: each field carries its help and how the command line takes
it (``option``), and ``cli`` builds its flags from the fields, the ``render``
docstring lists them from here, and ``Options.__post_init__`` checks them, once, at
the boundary. This module imports nothing heavy at import time, so the command line
can build its parser before numpy, numba and MNE load.
"""
import math
from dataclasses import MISSING, dataclass, field, fields

from ._errors import OptionError, shown

MAX_FPS = 240
MAX_SECONDS = 1e9  # start and duration: 31 years; ffmpeg fails on seeks far past that
MIN_FPS = "1/1000"
FITS = ("pad", "stretch", "crop")
BANDS_BY = ("y", "x", "table")
SAMPLINGS = ("interval", "instant")
SCENE, RENDER, OUTPUT = "scene", "render", "output"  # groups of flags
ALL = ("render", "demo", "frame", "layout")  # the commands that take an option
DRAWN = ("render", "demo", "frame")
WRITTEN = ("render", "demo")


def option(default, help, commands=WRITTEN, group=RENDER, parse=None, choices=None,
           flags=None, switch=False):
    """A field of ``Options`` and its command-line flag: ``commands`` take it, in
    ``group``, its text read by ``parse`` (None: as it is), one of ``choices``, spelt
    ``flags`` (default ``--name-with-dashes``; None commands: no flag), ``switch``: a
    flag without a value (True when given)."""
    return field(default=default, metadata=dict(help=help, commands=commands, group=group,
                                                parse=parse, choices=choices, flags=flags,
                                                switch=switch))


def parse_size(text):
    """``"1280x720"`` as (1280, 720); a ``ValueError`` naming the text otherwise."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must look like 1280x720, got {shown(text)}") from None
    return width, height


def parse_dot_size(text):
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"dot size is a number of points or auto, got "
                         f"{shown(text)}") from None


def parse_cmap(text):
    """A colour map name, or colours joined by commas as a list."""
    return [c.strip() for c in text.split(",")] if "," in text else text


@dataclass(frozen=True)
class Options:
    """Everything a user can set for a render; checked once, here.

    {options}

    Examples
    --------
    >>> Options(fps="30000/1001", preset="ultrafast").crf
    20
    """

    background: object = option(
        None, "background picture (any Pillow reads: RGB, RGBA, grey, 16-bit, float, "
        "palette), or an array", ALL, SCENE)
    electrodes: object = option(
        None, "CSV with x_2d,y_2d pixel columns (y downward, as in the picture); optional "
        "name, band, color, size columns. From Python also a table, an (n, 2) array of "
        "(x, y) pixels or a dict of channel name to (x, y). Alone: on the bundled brain",
        ALL, SCENE)
    montage: str = option(
        None, "an MNE montage (standard_1020, biosemi64, GSN-HydroCel-128, ...) over a "
        "drawn head, instead of a picture and a table", ALL, SCENE)
    size: tuple = option(
        None, "video WIDTHxHEIGHT, (width, height) from Python (default: the picture's; "
        "800x800 for a montage)", ALL, SCENE, parse=parse_size)
    fit: str = option(
        "pad", "how the picture meets --size: keep its shape and letterbox it in "
        "--bg-color (pad), stretch it, or fill and crop (default: pad)", ALL, SCENE,
        choices=FITS)
    bg_color: object = option(
        "white", "colour under a transparent picture, of the letterbox and of a montage "
        "(default: white)", ALL, SCENE)
    brightness: float = option(
        1.0, "the picture's pixels multiplied by this (after invert)", None)
    invert: bool = option(False, "the picture's pixels inverted (255 - value)", None)
    bands_by: str = option(
        None, "which band each electrode shows: binned by y (bottom lowest), by x (left "
        "lowest), or the table's band column (default: the column if the table has one, "
        "else y)", ALL, SCENE, choices=BANDS_BY)
    look: str = option(
        None, "a look: a bundled name (fastviz looks lists them), path.toml or "
        "path.toml:NAME; its cmap, bg_color, brightness, alpha, dot_size apply where "
        "none is given", ALL, SCENE)
    fps: object = option(
        None, "frame rate up to 240, e.g. 25 or 30000/1001 (default: 30; a GIF 15, at "
        "most 50)", DRAWN)
    jobs: int = option(None, "render threads (default: all cores; -1 too)", parse=int)
    speed: str = option(
        None, "fastest (ultrafast, CRF 26), balanced (veryfast, CRF 20) or smallest "
        "(medium, CRF 26): x264 settings measured to keep VMAF 95 or more (default: "
        "balanced)")
    preset: str = option(
        None, "libx264 preset, ultrafast (fastest, biggest file) to veryslow, instead of "
        "the speed's")
    crf: int = option(
        None, "libx264 quality, 0 (lossless) to 51; lower is better; instead of the "
        "speed's", parse=int)
    start: float = option(None, "seconds of audio to skip", DRAWN, parse=float)
    duration: float = option(None, "seconds of audio to render", DRAWN, parse=float)
    channel: int = option(
        None, "analyse this channel (from 0) instead of the mono mix", DRAWN, parse=int)
    sampling: str = option(
        "interval", "what the dots show of each 36 ms: the bands' mean amplitude over it, "
        "so a click shows wherever it falls (interval, the default), or the amplitude at "
        "its instant, as the post did (instant)", DRAWN, choices=SAMPLINGS)
    cmap: object = option(
        None, "matplotlib colour map name, one colour, or colours joined by commas "
        "(default: the post's red-light-green)", DRAWN, SCENE, parse=parse_cmap)
    dot_size: object = option(
        None, "points across the largest dot, in a figure 10 inches wide at the "
        "picture's width (dots scale with the picture, not the frame), or auto: 0.9 of "
        "the electrodes' typical spacing, so neighbours stay apart on any scene "
        "(default: auto, 34.5 on the bundled grid; 100 is the post's)", DRAWN, SCENE,
        parse=parse_dot_size)
    alpha: float = option(1.0, "the dots' opacity, 0..1", None)
    overwrite: bool = option(False, "replace an existing output", ALL,
                             flags=("-y", "--overwrite"), switch=True)
    progress: object = option(
        True, "show a progress bar on stderr (a widget in a notebook); or a callable "
        "progress(done, total, seconds_left), called with frames ten times a second at "
        "most and at the end (total None while the audio is analysed)", None)
    format: str = option(
        None, "mp4, webm, mov, gif or png (frames), instead of the extension's", group=OUTPUT)
    codec: str = option(
        None, "h264 (default), hevc or av1 in .mp4; vp9 (default) or av1 in .webm",
        group=OUTPUT)
    transparent: bool = option(
        False, "only the dots, with an alpha channel: .mov (ProRes 4444), .webm (VP9), "
        "PNG frames", group=OUTPUT, switch=True)
    encoder: str = option(
        None, "any video encoder of the bundled ffmpeg, e.g. h264_nvenc (needs its "
        "driver and device here), checked by a one-frame trial encode first",
        group=OUTPUT)

    def __post_init__(self):
        from fractions import Fraction

        import numpy as np

        from ._ffmpeg import check_frame_size
        from ._formats import as_fraction, check_preset, speed_settings

        if self.fps is not None:
            fps = as_fraction(self.fps)
            if not Fraction(MIN_FPS) <= fps <= MAX_FPS:
                raise OptionError(f"fps must be from {MIN_FPS} (a frame every 1000 s) to "
                                  f"{MAX_FPS} frames a second (what players and H.264's "
                                  f"levels are made for), got {self.fps}")
        if self.fit not in FITS:
            raise OptionError(f"fit must be one of {', '.join(FITS)}, got {shown(self.fit)}")
        if self.sampling not in SAMPLINGS:
            raise OptionError(f"sampling must be one of {', '.join(SAMPLINGS)}, got "
                              f"{shown(self.sampling)}")
        if self.bands_by not in (None, *BANDS_BY):
            raise OptionError(f"bands_by must be x, y or table, got {shown(self.bands_by)}")
        if self.dot_size is not None and not (
                isinstance(self.dot_size, str) and self.dot_size == "auto") and not (
                isinstance(self.dot_size, (int, float, np.number)) and self.dot_size >= 0
                and math.isfinite(self.dot_size)):
            raise OptionError(f"dot_size must be a finite number of points >= 0 or 'auto', got "
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
        if not (isinstance(self.progress, (bool, np.bool_)) or callable(self.progress)):
            raise OptionError(f"progress must be True, False or a callable progress(done, "
                              f"total, seconds_left), got {shown(self.progress)}")
        preset, crf = speed_settings(self.speed, self.preset, self.crf)
        object.__setattr__(self, "preset", preset)  # frozen: set once, here
        object.__setattr__(self, "crf", crf)
        check_preset(self.preset)
        if not (_is_whole(self.crf) and 0 <= self.crf <= 51):
            raise OptionError(f"crf must be a whole number in 0..51, got {shown(self.crf)}")
        for name, low in (("start", 0), ("duration", 1e-9)):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float, np.number))
                                          and math.isfinite(value)
                                          and low <= value <= MAX_SECONDS):
                raise OptionError(f"{name} must be a finite number of seconds "
                                  f"{'>= 0' if low == 0 else '> 0'}, at most "
                                  f"{MAX_SECONDS:.0e} (no recording is longer), got "
                                  f"{shown(value)}")


# What ``Prepared.write`` may change: how a prepared render is written, never what it
# draws (the scene, the analysis). The frame rate and format may reshape the frames
# (a GIF's width and rate): then the scene is built again, the analysis never.
WRITE_OPTIONS = ("fps", "jobs", "speed", "preset", "crf", "overwrite", "progress", "format",
                 "codec", "transparent", "encoder")


def _is_whole(value):
    """Whether ``value`` is an integer (of any numeric type), not a float or a string."""
    import numpy as np

    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def option_fields():
    """The fields of ``Options``, in order, with their table entries (``metadata``)."""
    return fields(Options)


def _described():
    lines = []
    for f in option_fields():
        default = "" if f.default in (None, MISSING) else f" (default {f.default!r})"
        lines.append(f"{f.name} : {f.metadata['help']}{default}")
    return "\n    ".join(lines)


Options.__doc__ = Options.__doc__.replace("{options}", _described())
OPTION_NAMES = tuple(f.name for f in option_fields())
