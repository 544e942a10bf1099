"""Scenes: background pictures, electrode tables, EEG montages, and how they fit a frame.

A scene is plain arrays the renderer draws on: an (H, W, 3) uint8 picture at the video's
size and electrode centres in its pixels (x to the right, y downward, the centre of the
top-left pixel at (0, 0)). This module never imports the renderer.
"""
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._analysis import electrode_bands
from ._errors import InputError, OptionError, shown
from ._ffmpeg import check_frame_size
from ._files import check_input

LOOK_KEYS = ("description", "cmap", "bg_color", "brightness", "invert", "alpha",
             "dot_size")
LOOK_TYPES = {"invert": "bool", "alpha": "fraction", "brightness": "positive",
              "dot_size": "positive"}
TABLE_COLUMNS = ("name", "x_2d", "y_2d", "band", "color", "size")
# dot_size "auto" (the default): the largest dot is AUTO_DOT times the lower quartile of
# the distances from each electrode to its nearest neighbour. Chosen by looking at the
# demo's loudest moment (28 s) and at montages there: on the bundled grid (even spacing,
# so quartile = median) 0.9 leaves neighbours a 4 px gap at full size, 34.5 points
# against the 34 chosen by eye before; 1.0 makes them touch. Caps are uneven: with the
# median, 25-46% of the electrodes of standard_1020, biosemi64, GSN-HydroCel-128 and
# easycap-M1 touch a neighbour at full size; with the lower quartile 0-20% do.
AUTO_DOT = 0.9


@dataclass(frozen=True)
class Scene:
    """A scene at the video's size: the picture and each electrode's place and extras.

    ``bands`` (from a table's ``band`` column), ``colors`` ((n, 4) RGBA in 0..1, a NaN
    row where the colour map applies) and ``sizes`` (points, NaN for the default) are
    None when not given. ``names`` are the table's names or the indices from 0.
    """

    background: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    names: tuple
    bands: np.ndarray = None
    colors: np.ndarray = None
    sizes: np.ndarray = None
    lines: tuple = None  # each electrode's line in its table file, for messages
    placed_xs: np.ndarray = None  # the positions as given, before the fit to the frame
    placed_ys: np.ndarray = None
    picture_width: float = None  # the picture's width in the frame, which dots scale with


def load_background(background, size=None, bg_color="white"):
    """Load a background picture as an (H, W, 3) uint8 array.

    Any picture Pillow reads: RGB, grey, 16-bit or float grey, palette. Transparent
    pixels are composited over ``bg_color`` (white by default, as matplotlib shows them).
    Floats (a float TIFF, a float array) are read as 0..1 when no value exceeds 1, as
    matplotlib and scikit-image keep them, else as 0..255, Pillow's own scale for
    float pictures (its mode F); NaN is black, and values past the top white.

    Parameters
    ----------
    background : str, Path or array_like
        An image file Pillow reads, or an (H, W, 3|4) array (uint8, or floats).
    size : (int, int), optional
        Output (width, height); the picture is stretched to it if it differs
        (``fit_scene`` keeps the aspect ratio instead).
    bg_color : colour
        A name, ``#rrggbb`` or RGB(A) in 0..1 (see ``colormap_lut``).

    Returns
    -------
    ndarray of uint8, shape (H, W, 3)

    Examples
    --------
    >>> load_background(np.zeros((2, 4, 3), np.uint8), size=(8, 4)).shape
    (4, 8, 3)
    >>> [int(load_background(np.full((1, 1, 3), v))[0, 0, 0]) for v in (0.5, 128.0)]
    [128, 128]
    """
    return _resized(_composited(picture_rgba(background), bg_color), size)


def picture_rgba(background, whole=False):
    """A picture file or array as (H, W, 4) uint8 RGBA, as ``load_background`` reads it.

    ``whole``: the picture will be the frame as it is (no size given), so one larger
    than a frame can be (``_ffmpeg.check_frame_size``) is refused from its header,
    before its pixels are decoded."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(background, (str, Path)):
        path = check_input(background, "background picture")
        try:
            with warnings.catch_warnings():
                # Pillow warns above MAX_IMAGE_PIXELS (89 million) and refuses twice
                # that; here both are refused, before the pixels are decoded.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as opened:
                    if whole:
                        try:
                            check_frame_size(*opened.size)
                        except OptionError as exc:
                            raise InputError(f"background picture {path}: {exc}; give a "
                                             "smaller --size, or a smaller picture") from None
                    # as viewers show it: a phone photo stored sideways is turned upright,
                    # so positions measured on the picture as seen land where meant
                    im = ImageOps.exif_transpose(opened)
                    im.load()
                    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit/float grey
                        grey = np.asarray(im, float)[..., None]
                        background = np.repeat(grey if im.mode == "F" else grey / 65535.0,
                                               3, axis=2)
                    else:
                        return np.asarray(im.convert("RGBA")).copy()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InputError(f"background picture {path} is too large: {exc}") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise InputError(f"cannot read background picture {path}: {exc}") from None
    array = np.asarray(background)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or not array.size:
        raise InputError(f"background array must be (H, W, 3|4), got {array.shape}")
    if array.dtype != np.uint8:
        values = np.nan_to_num(array.astype(float), posinf=255.0, neginf=0.0)
        top = 1.0 if values.max() <= 1.0 else 255.0
        array = np.clip(values * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    if array.shape[2] == 3:
        array = np.dstack([array, np.full(array.shape[:2], 255, np.uint8)])
    return np.ascontiguousarray(array)


def _composited(rgba, bg_color):
    """(H, W, 4) uint8 RGBA over ``bg_color``, as (H, W, 3) uint8."""
    from PIL import Image

    image = Image.fromarray(rgba)
    under = Image.new("RGBA", image.size, _rgb255(bg_color) + (255,))
    return np.asarray(Image.alpha_composite(under, image).convert("RGB")).copy()


def _rgb255(colour):
    """A colour as an (r, g, b) tuple of ints in 0..255, or an OptionError naming it."""
    try:
        return tuple(int(v * 255 + 0.5) for v in _rgba(colour)[:3])
    except (ValueError, TypeError):
        raise OptionError(f"bg_color must be a colour (a name such as white, #rrggbb, or 3 "
                          f"or 4 numbers in 0..1, joined by commas on a command line), got "
                          f"{shown(colour)}") from None


def _resized(picture, size):
    """An (H, W, 3) uint8 picture resized to (width, height) with Lanczos, or a copy."""
    from PIL import Image

    if size is None or tuple(size) == picture.shape[1::-1]:
        return picture.copy()
    image = Image.fromarray(picture).resize(tuple(int(s) for s in size),
                                            Image.Resampling.LANCZOS)
    return np.asarray(image).copy()


def _read_csv(path):
    """A CSV as a table of stripped strings; a row with more cells than the header
    is refused (pandas would shift the columns under the header)."""
    import pandas as pd

    check_input(path, "electrode table")
    for encoding in ("utf-8-sig", "latin-1"):  # Latin-1 reads any bytes: spreadsheets
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                return pd.read_csv(path, skipinitialspace=True, encoding=encoding,
                                   dtype=str, keep_default_na=False, index_col=False,
                                   skip_blank_lines=False)
        except UnicodeDecodeError:
            continue
        except pd.errors.ParserWarning:
            raise InputError(f"cannot read electrode table {path}: a row has more cells "
                             "than the header names") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise InputError(f"cannot read electrode table {path}: {exc}") from None


def read_table(path):
    """Read an electrode table: ``x_2d``, ``y_2d``, and optionally ``name``, ``band``,
    ``color``, ``size``; every cell checked, an error names the file, row and column.

    Rows are counted as lines of the file, the header being row 1. ``band`` is a whole
    number from 0 (the lowest frequency band); ``color`` anything ``colormap_lut``
    reads as one colour; ``size`` a dot diameter in points; an empty ``color`` or
    ``size`` cell means the default. Other columns are ignored.

    Returns
    -------
    dict with ``xs``, ``ys`` (float arrays), ``names`` (tuple of str), and ``bands``,
    ``colors``, ``sizes`` (arrays, or None without that column)
    """

    if hasattr(path, "columns"):  # a DataFrame from Python: the same columns and checks
        table, path = path.astype(str), "(a table from Python)"
    else:
        table, path = _read_csv(Path(path)), Path(path)
        # blank lines were kept so a row's index is its line in the file (header 1)
        blank = [all(not str(v).strip() for v in row) for row in table.itertuples(False)]
        table = table[~np.array(blank, bool)] if blank else table
    lines = [int(i) + 2 for i in table.index]
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in ("x_2d", "y_2d") if c not in table.columns]
    if missing:
        raise InputError(f"electrode table {path} lacks column(s) {missing}; "
                         f"it has {list(table.columns)}")
    if table.empty:
        raise InputError(f"electrode table {path} has no rows")
    cells = {c: [str(v).strip() for v in table[c]] for c in table.columns}

    def where(row, column):
        return f"electrode table {path}: row {lines[row]}, column {column}"

    def numbers(column, whole=False, default=None):
        out = np.empty(len(table))
        for row, text in enumerate(cells[column]):
            if not text and default is not None:
                out[row] = default
                continue
            try:
                value = float(text)
            except ValueError:
                value = None
            if value is None or not math.isfinite(value):
                raise InputError(f"{where(row, column)} is not a number: "
                                 f"{column}={shown(text)}")
            if whole and not (value == int(value) and 0 <= value < 2 ** 31):
                raise InputError(f"{where(row, column)} is not a band number (0, 1, ...): "
                                 f"{column}={shown(text)}")
            if column == "size" and value < 0:
                raise InputError(f"{where(row, column)} is a negative size: {shown(text)}")
            out[row] = value
        return out

    result = dict(xs=numbers("x_2d"), ys=numbers("y_2d"), bands=None, colors=None,
                  sizes=None)
    result["names"] = tuple(cells["name"]) if "name" in cells else tuple(
        str(i) for i in range(len(table)))
    if "band" in cells:
        result["bands"] = numbers("band", whole=True).astype(int)
    if "size" in cells:
        result["sizes"] = numbers("size", default=np.nan)
    if "color" in cells:
        colors = np.full((len(table), 4), np.nan)
        for row, text in enumerate(cells["color"]):
            if text:
                try:
                    colors[row] = _rgba(text)
                except ValueError:
                    raise InputError(f"{where(row, 'color')} is not a colour: "
                                     f"{shown(text)}") from None
        result["colors"] = colors
    result["path"], result["lines"] = path, tuple(lines)
    return result


def load_electrodes(path):
    """Read electrode pixel positions from a CSV with columns ``x_2d`` and ``y_2d``.

    Positions are in pixels of the background picture, x to the right, y downward,
    the centre of the top-left pixel at (0, 0). See ``read_table`` for the optional
    columns and the checks.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    xs, ys : ndarray of float, shape (n_electrodes,)

    Examples
    --------
    >>> from fastviz._demo import demo_scene
    >>> xs, ys = load_electrodes(demo_scene()[1])
    >>> len(xs), float(ys.min()) > 0
    (80, True)
    """
    table = read_table(path)
    return table["xs"], table["ys"]


def check_inside(table, width, height):
    """Refuse a table electrode whose centre is off a ``width`` x ``height`` picture."""
    for column, values, size in (("x_2d", table["xs"], width), ("y_2d", table["ys"], height)):
        off = (values < -0.5) | (values > size - 0.5)
        if off.any():
            row = int(np.argmax(off))
            raise InputError(f"electrode table {table['path']}: row {table['lines'][row]}, column "
                             f"{column}: {values[row]:g} is outside the picture "
                             f"(0 to {size - 1} pixels, the picture is {width} x {height})")


def fit_scene(picture, xs, ys, size=None, fit="pad", bg_color="white"):
    """The picture at ``size`` and the electrodes moved with it.

    ``fit`` is ``"pad"`` (keep the aspect ratio, letterbox in ``bg_color``),
    ``"stretch"`` (exactly ``size``, out of shape if need be) or ``"crop"`` (keep the
    aspect ratio, fill the frame, cut the overflow evenly on both sides).

    Returns
    -------
    picture (H, W, 3) uint8, xs, ys in its pixels, and the picture's width in the frame
    (for ``"stretch"``, the width of the same area unstretched: dots are round)

    Examples
    --------
    >>> p, xs, ys, width = fit_scene(np.zeros((10, 20, 3), np.uint8), [9.5], [4.5], (20, 20))
    >>> p.shape, float(xs[0]), float(ys[0]), width
    ((20, 20, 3), 9.5, 9.5, 20)
    """
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    height, width = picture.shape[:2]
    if size is None or tuple(size) == (width, height):
        return picture.copy(), xs.copy(), ys.copy(), width
    out_w, out_h = (int(v) for v in size)
    if fit == "stretch":
        sx, sy = out_w / width, out_h / height
        return (_resized(picture, (out_w, out_h)), (xs + 0.5) * sx - 0.5,
                (ys + 0.5) * sy - 0.5, width * math.sqrt(sx * sy))
    pick = min if fit == "pad" else max
    scale = pick(out_w / width, out_h / height)
    inner = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = _resized(picture, inner)
    canvas = np.empty((out_h, out_w, 3), np.uint8)
    canvas[:] = _rgb255(bg_color)
    left, top = (out_w - inner[0]) // 2, (out_h - inner[1]) // 2
    # paste the overlap of the resized picture and the frame (crop: a window of it)
    src_x, dst_x = max(0, -left), max(0, left)
    src_y, dst_y = max(0, -top), max(0, top)
    w = min(inner[0] - src_x, out_w - dst_x)
    h = min(inner[1] - src_y, out_h - dst_y)
    canvas[dst_y:dst_y + h, dst_x:dst_x + w] = resized[src_y:src_y + h, src_x:src_x + w]
    sx, sy = inner[0] / width, inner[1] / height
    return canvas, (xs + 0.5) * sx - 0.5 + left, (ys + 0.5) * sy - 0.5 + top, inner[0]


HEAD_RADIUS = 0.095  # metres: MNE's default head sphere, which its projection uses
# MNE 1.13 renamed its standard_* montages colin27_* and MNE 1.14 drops the old names:
# fastviz takes either name, whichever this MNE knows.
MONTAGE_ALIASES = {f"standard_{kind}": f"colin27_{kind}" for kind in (
    "1005", "1020", "alphabetic", "postfixed", "prefixed", "primed")}


def montage_positions(name):
    """(names, (n, 2) positions in metres, x right, y to the nose) of an MNE montage.

    The 2-D positions are MNE's own topomap projection of the montage onto its head
    sphere (radius ``HEAD_RADIUS``), as ``mne.viz.plot_topomap`` places electrodes.
    """
    import mne
    from mne.channels.layout import _find_topomap_coords

    builtin = mne.channels.get_builtin_montages()
    aliases = {**MONTAGE_ALIASES, **{new: old for old, new in MONTAGE_ALIASES.items()}}
    if name not in builtin and aliases.get(name) in builtin:
        name = aliases[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # older names MNE still reads
        try:
            montage = mne.channels.make_standard_montage(name)
        except ValueError:
            known = [*builtin, *(a for a, b in aliases.items() if b in builtin)]
            raise OptionError(f"montage must be one MNE ships, got {shown(name)}; it ships "
                              f"{', '.join(known)}") from None
        info = mne.create_info(montage.ch_names, 1000.0, "eeg")
        info.set_montage(montage, on_missing="ignore", verbose="error")
        # some montages name one place twice (T3 and T7): both are kept
        xy = _find_topomap_coords(info, None, ignore_overlap=True)
    return tuple(montage.ch_names), np.asarray(xy, float)


def montage_scene(name, size=None, bg_color="white"):
    """A plain picture with a drawn head (outline, nose, ears) and a montage's electrodes.

    Returns
    -------
    picture (H, W, 3) uint8, xs, ys in its pixels, names

    Examples
    --------
    >>> picture, xs, ys, names = montage_scene("biosemi32", (200, 200))
    >>> picture.shape, len(names), bool((xs > 0).all() and (xs < 200).all())
    ((200, 200, 3), 32, True)
    """
    from PIL import Image, ImageDraw

    names, xy = montage_positions(name)
    width, height = size or (800, 800)
    reach = max(np.hypot(*xy.T).max(), HEAD_RADIUS * 1.18)  # the nose's tip
    scale = 0.46 * min(width, height) / reach
    cx, cy = (width - 1) / 2, (height - 1) / 2

    def pixels(x, y):
        return cx + np.asarray(x) * scale, cy - np.asarray(y) * scale

    image = Image.new("RGB", (width, height), _rgb255(bg_color))
    draw = ImageDraw.Draw(image)
    line = max(1, round(min(width, height) / 250))
    grey = tuple(int(v * 0.6) for v in _rgb255(bg_color)) if sum(
        _rgb255(bg_color)) > 384 else (150, 150, 150)
    r = HEAD_RADIUS * scale
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=grey, width=line)
    nose = [pixels(HEAD_RADIUS * s, HEAD_RADIUS * t) for s, t in
            ((-0.18, 0.985), (0, 1.15), (0.18, 0.985))]
    draw.line([(float(x), float(y)) for x, y in nose], fill=grey, width=line)
    for side in (-1, 1):
        ex, ey = pixels(side * HEAD_RADIUS * 1.04, 0)
        draw.ellipse([ex - 0.07 * r, ey - 0.2 * r, ex + 0.07 * r, ey + 0.2 * r],
                     outline=grey, width=line)
    xs, ys = pixels(xy[:, 0], xy[:, 1])
    return np.asarray(image).copy(), xs, ys, names


def projected_scene(locs, size):
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


def auto_dot_size(xs, ys, picture_width):
    """Dot size in points whose largest dot is ``AUTO_DOT`` times the lower quartile of the
    distances from each electrode to its nearest neighbour (the renderer's points: 720
    across the picture's width in the frame, ``picture_width`` pixels); 100, the post's,
    for fewer than two places.

    Examples
    --------
    >>> round(float(auto_dot_size([0, 10, 20], [0, 0, 0], 1440)), 6)
    4.5
    """
    points = np.unique(np.column_stack([xs, ys]), axis=0)  # a listed-twice dot is one
    if len(points) < 2:
        return 100.0
    from scipy.spatial import cKDTree

    distances, _ = cKDTree(points).query(points, k=2)
    spacing = float(np.percentile(distances[:, 1], 25))
    return AUTO_DOT * spacing * 720.0 / picture_width if spacing > 0 else 100.0


def electrode_bands_by(xs, ys, n_bands, by="y"):
    """Band of each electrode binned along y (bottom = band 0) or x (left = band 0).

    Examples
    --------
    >>> electrode_bands_by([0, 50, 100], [0, 0, 0], 2, by="x")
    array([0, 1, 1])
    """
    # electrode_bands puts band 0 at the largest y (the bottom); mirrored, the left
    return electrode_bands(ys if by == "y" else -np.asarray(xs, float), n_bands)


def scene_bands(scene, n_bands, by=None, where="the scene"):
    """Each electrode's band: from the table's ``band`` column (the default when it has
    one, or ``by="table"``), else binned along ``by`` (``"y"`` by default, or ``"x"``)."""
    if by is None:
        by = "table" if scene.bands is not None else "y"
    if by != "table":
        xs = scene.xs if scene.placed_xs is None else scene.placed_xs
        ys = scene.ys if scene.placed_ys is None else scene.placed_ys
        return electrode_bands_by(xs, ys, n_bands, by)
    if scene.bands is None:
        raise InputError(f"bands_by needs a band column in {where} to take the bands "
                         "from the table")
    if scene.bands.max() >= n_bands:
        row = int(np.argmax(scene.bands >= n_bands))
        line = row + 2 if scene.lines is None else scene.lines[row]
        raise InputError(f"{where}: row {line}, column band: {scene.bands[row]} is not a "
                         f"band; there are {n_bands}, 0 to {n_bands - 1}")
    return scene.bands


def build_scene(background=None, electrodes=None, *, montage=None, size=None, fit="pad",
                bg_color="white", brightness=1.0, invert=False, names=None):
    """The ``Scene`` for a picture and a table (or positions), or an MNE montage.

    ``electrodes`` is a CSV path, a table with ``x_2d`` and ``y_2d`` columns, an (n, 2)
    array of (x, y) pixels, or a dict of channel name to (x, y) with ``names``. A
    table file's electrodes must lie on the picture; positions from Python may not (a
    dot may be partly or wholly off the frame).
    """
    if montage is not None:  # without a background or electrodes (Options)
        picture, xs, ys, montage_names = montage_scene(montage, size, bg_color)
        # the head is drawn across the frame's shorter side, as an 800 x 800 picture
        return Scene(picture, xs, ys, montage_names, picture_width=min(picture.shape[:2]))
    extras = {}
    if isinstance(electrodes, (str, Path)):
        table = read_table(electrodes)
        xs, ys = table["xs"], table["ys"]
        extras = {k: table[k] for k in ("names", "bands", "colors", "sizes", "lines")}
    elif isinstance(electrodes, dict):
        if names is None:
            raise InputError("electrodes as a dict need channel names: use "
                             "render_signal with an MNE object")
        missing = [n for n in names if n not in electrodes]
        if missing:
            raise InputError(f"no position for channel(s) {missing[:5]} in electrodes")
        xs, ys = np.array([electrodes[n] for n in names], float).T
        extras = dict(names=tuple(names))
    elif hasattr(electrodes, "columns"):
        table = read_table(electrodes)
        xs, ys = table["xs"], table["ys"]
        extras = {k: table[k] for k in ("names", "bands", "colors", "sizes", "lines")}
    else:
        points = np.asarray(electrodes, float)
        if points.ndim != 2 or points.shape[1] != 2:
            raise InputError(f"electrodes must be (n, 2) points (x, y), got shape "
                             f"{points.shape}; for separate x and y arrays pass "
                             "np.column_stack([xs, ys])")
        xs, ys = points.T
    # the look changes the picture, then its transparent pixels show bg_color, as the
    # letterbox does (compositing first turned them grey under a dimmed white)
    rgba = picture_rgba(background, whole=size is None)
    rgb = rgba[..., :3]
    if invert:  # a white page turns black: a dark look on a light picture
        rgb = 255 - rgb
    if brightness != 1:
        rgb = (rgb * float(brightness) + 0.5).clip(0, 255).astype(np.uint8)
    picture = _composited(np.dstack([rgb, rgba[..., 3]]), bg_color)
    if isinstance(electrodes, (str, Path)):
        check_inside(table, picture.shape[1], picture.shape[0])
    placed = np.asarray(xs, float), np.asarray(ys, float)
    was_inside = _inside(*placed, *picture.shape[1::-1])
    picture, xs, ys, picture_width = fit_scene(picture, xs, ys, size, fit, bg_color)
    cut = np.flatnonzero(was_inside & ~_inside(xs, ys, *picture.shape[1::-1]))
    if len(cut):  # only crop cuts; name an electrode the user can find
        name = extras.get("names", [str(i) for i in range(len(xs))])[cut[0]]
        raise InputError(f"fit crop cuts {len(cut)} electrode(s) off the "
                         f"{picture.shape[1]}x{picture.shape[0]} frame (electrode "
                         f"{name} first); fit pad keeps them all")
    extras.setdefault("names", tuple(str(i) for i in range(len(xs))))
    # bands are binned on the positions as given: after a fit, rounding could move an
    # electrode sitting on a bin's edge into the next band at one size and not another
    return Scene(picture, xs, ys, placed_xs=placed[0], placed_ys=placed[1],
                 picture_width=picture_width, **extras)


def _inside(xs, ys, width, height):
    """Which centres lie on a width x height picture (pixel edges at -0.5, size - 0.5)."""
    return (xs >= -0.5) & (xs <= width - 0.5) & (ys >= -0.5) & (ys <= height - 0.5)


def draw_layout(scene, bands=None):
    """The scene's picture with each electrode marked and labelled ``name`` (or index)
    and ``/band``, in Pillow's own font; (H, W, 3) uint8.

    The font grows with the frame (a 50th of its shorter side, at least 10 px); a label
    that would run off the right edge goes to the electrode's left, and every label is
    kept inside the frame.

    Examples
    --------
    >>> scene = Scene(np.zeros((60, 80, 3), np.uint8), np.array([20.0]), np.array([30.0]),
    ...               ("A1",))
    >>> draw_layout(scene, [3]).shape
    (60, 80, 3)
    """
    from PIL import Image, ImageDraw, ImageFont

    image = Image.fromarray(scene.background)
    draw = ImageDraw.Draw(image)
    height, width = scene.background.shape[:2]
    font = ImageFont.load_default(size=max(10, round(min(width, height) / 50)))
    r = max(2, min(width, height) / 250)
    for i, (x, y) in enumerate(zip(scene.xs, scene.ys)):
        label = scene.names[i] if bands is None else f"{scene.names[i]}/{bands[i]}"
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(0, 0, 0), outline=(255, 255, 255))
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font, anchor="lm",
                                                 stroke_width=1)
        tx = x + r + 1 if x + r + 1 + right <= width else x - r - 1 - right  # or flip left
        tx = min(max(tx, -left), width - right)
        ty = min(max(y, -top), height - bottom)
        draw.text((tx, ty), label, fill=(0, 0, 0), font=font, anchor="lm",
                  stroke_width=1, stroke_fill=(255, 255, 255))
    return np.asarray(image).copy()


def _rgba(colour):
    """A colour name, ``#rrggbb``, or an RGB(A) tuple in 0..1 (or those numbers joined
    by commas, as a command line gives them), as RGBA in 0..1.

    Names are Pillow's (CSS), and with matplotlib installed also its own (``"C0"``,
    ``"tab:blue"``, ``"0.5"`` for grey).
    """
    from PIL import ImageColor

    if isinstance(colour, str) and "," in colour:  # "0.5,0.5,0.5" from a command line
        colour = [float(v) for v in colour.strip("()[] ").split(",")]
    if isinstance(colour, str):
        try:
            values = np.array(ImageColor.getrgb(colour), float) / 255  # 3 or 4 values
        except ValueError:
            try:
                from matplotlib.colors import to_rgba
            except ImportError:
                raise ValueError(f"unknown colour {shown(colour)}") from None
            values = np.array(to_rgba(colour))  # raises ValueError when unknown
    else:
        values = np.asarray(colour, float)
    if values.shape not in ((3,), (4,)):
        raise ValueError(f"a colour is a name or 3 or 4 numbers in 0..1, got {shown(colour)}")
    return np.append(values, 1.0) if len(values) == 3 else values




def _check_look_colours(where, key, value):
    """Refuse a look's ``bg_color`` that is no colour, or a ``cmap`` that is neither a
    colour map name, a colour, nor a list of colours, naming the look."""
    colours = value if key == "cmap" and isinstance(value, list) and value else [value]
    what = ("a colour map name, a colour, or a list of colours" if key == "cmap"
            else "a colour")
    for colour in colours:
        if not isinstance(colour, str):
            raise InputError(f"{where}: the {key} value must be {what}, got {shown(value)}")
        try:
            _rgba(colour)
        except ValueError:
            if key == "cmap" and colours == [value] and _colour_map_known(colour):
                continue
            raise InputError(f"{where}: the {key} value must be {what}, got {shown(value)}"
                             ) from None


def _colour_map_known(name):
    """Whether ``name`` is the post's map or one of matplotlib's (when it is installed)."""
    if name == "post":
        return True
    try:
        import matplotlib
    except ImportError:
        return True  # said when it is used: that map needs matplotlib
    return name in matplotlib.colormaps


def bundled_looks():
    """The looks in the package's ``looks.toml``: {name: settings}, in file order."""
    from importlib import resources

    text = (resources.files("fastviz") / "data" / "looks.toml").read_text("utf-8")
    return _toml().loads(text)


def _toml():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return tomllib


def look_file(look):
    """``(path, look name)`` of a look in a file (``path.toml``, ``path.toml:NAME``,
    ``path`` for ``path.toml``), or ``(None, None)`` for a bundled look's name."""
    if look is None or str(look) in bundled_looks():
        return None, None
    path, _, name = str(look).partition(".toml:")
    return Path(path if path.endswith(".toml") else path + ".toml"), name


def load_look(look):
    """The scene options of a look: a bundled name, ``path.toml`` (its first look) or
    ``path.toml:NAME``, without its ``description``.

    Examples
    --------
    >>> load_look("dark")["bg_color"]
    'black'
    """
    tomllib = _toml()
    looks = bundled_looks()
    path, name = look_file(look)
    if path is None:
        where, settings = f"look {look}", looks[str(look)]
    else:
        given = str(look).partition(".toml:")[0]
        named = given.endswith(".toml") or "/" in given or os.sep in given
        if not named and not os.path.lexists(path):
            raise OptionError(f"look must be a bundled look ({', '.join(looks)}) or a .toml "
                              f"file, got {shown(look)}")
        check_input(path, "look file")
        try:
            looks = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read look file {path}: {exc}") from None
        tables = {k: v for k, v in looks.items() if isinstance(v, dict)}
        if not tables or (name and name not in tables):
            raise InputError(f"look file {path} has no look {shown(name or '')}; it has "
                             f"{list(tables)}".replace(" ''", ""))
        name = name or next(iter(tables))
        where, settings = f"look {name} in {path}", tables[name]
    unknown = sorted(set(settings) - set(LOOK_KEYS))
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown}; a look sets "
                         f"{', '.join(LOOK_KEYS)}")
    for key, value in settings.items():  # checked here, so errors name the look
        expected = LOOK_TYPES.get(key)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if expected == "bool" and not isinstance(value, bool):
            raise InputError(f"{where}: the {key} value must be true or false, "
                             f"got {shown(value)}")
        if key == "dot_size" and value == "auto":
            continue
        if key in ("cmap", "bg_color"):
            _check_look_colours(where, key, value)
        if expected in ("fraction", "positive") and not (
                number and math.isfinite(value)
                and (0 <= value <= 1 if expected == "fraction" else value > 0)):
            what = ("a number from 0 to 1" if expected == "fraction"
                    else "a finite number above 0")
            raise InputError(f"{where}: the {key} value must be {what}, got {shown(value)}")
    return {k: v for k, v in settings.items() if k != "description"}
