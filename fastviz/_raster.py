"""The frame renderer and its colour tables; scenes are built in ``_scene``."""

import numpy as np

from ._errors import InputError, OptionError, shown
from ._ffmpeg import check_frame_size
from ._formats import YCBCR, nv12_picture
from ._kernels import _render_frames, _render_frames_nv12
from ._scene import _resized, _rgba, auto_dot_size, load_background

LUT_SIZE = 256


def _interpolate(colors, n=LUT_SIZE):
    """Linear RGBA interpolation of evenly spaced colours, as matplotlib's ``from_list``."""
    colors = np.asarray(colors, float)
    x = np.linspace(0, 1, len(colors))
    at = np.linspace(0, 1, n)
    return np.stack([np.interp(at, x, colors[:, c]) for c in range(colors.shape[1])], axis=1)


def post_colormap(n=LUT_SIZE):
    """The post's red - light - green map, rebuilt without its uninstallable package.

    The post called ``ColorTranslator(['red', 'green']).to_diverging(mid_spread=.8)``:
    a linear red-to-green map sampled at 255 points, whose middle 80% is pulled towards
    light grey (.95, .95, .95) with weights falling off logarithmically (1e-3 .. 1),
    then interpolated again. This repeats those steps.

    Returns
    -------
    ndarray, shape (n, 3), RGB in 0..1
    """
    base = _interpolate([(1, 0, 0), (0, 128 / 255, 0)])  # 'red', 'green' (CSS)
    at = np.linspace(0, 1, 255)
    colors = base[np.minimum((at * len(base)).astype(int), len(base) - 1)]
    mid, n_mid = 127, int(255 * 0.8 / 2)
    lo, hi = colors[mid - n_mid].copy(), colors[mid + n_mid].copy()
    towards = np.vstack([np.linspace(lo, (.95, .95, .95), n_mid),
                         np.linspace((.95, .95, .95), hi, n_mid)])
    weights = np.logspace(np.log10(1e-3), 0, n_mid)
    weights = np.hstack([weights[::-1], weights])[:, None]
    span = slice(mid - n_mid, mid + n_mid)
    colors[span] = colors[span] * weights + towards * (1 - weights)
    return _interpolate(colors, n)


def _is_colour(text):
    """Whether ``text`` names a colour (``"red"``, ``"#ff8000"``) and no colour map."""
    try:
        import matplotlib
    except ImportError:
        pass
    else:
        if text in matplotlib.colormaps:  # "gray" is both: the map wins, as before
            return False
    try:
        _rgba(text)
    except ValueError:
        return False
    return True


def colormap_lut(cmap=None, alpha=1.0, n=LUT_SIZE):
    """A colour lookup table for the kernel: (n, 4) float32, RGB in 0..255, alpha 0..1.

    Parameters
    ----------
    cmap : None, str, sequence of colours, or array
        None or ``"post"``: the post's red - light - green map. Another string: a
        matplotlib colour map name (needs matplotlib; read once, here), or one colour
        for every value (``"red"``: size alone shows the amplitude). A sequence of
        colours (names or ``#rrggbb`` as Pillow reads them, or RGB(A) tuples in 0..1) is
        interpolated evenly. An (m, 3|4) array in 0..1 is used as the table.
    alpha : float
        Opacity multiplied into every entry.

    Examples
    --------
    >>> colormap_lut(["black", "white"], n=3)[:, 0]
    array([  0. , 127.5, 255. ], dtype=float32)
    """
    if cmap is None or (isinstance(cmap, str) and cmap == "post"):
        rgba = post_colormap(n)
    elif isinstance(cmap, str) and not _is_colour(cmap):
        try:
            import matplotlib
        except ImportError:
            raise InputError(f"colour map {shown(cmap)} needs matplotlib; install it or "
                             "pass a list of colours") from None
        try:
            rgba = matplotlib.colormaps[cmap].resampled(n)(np.arange(n))
        except KeyError:
            raise OptionError(f"cmap must be a colour, colours joined by commas, or a "
                              f"matplotlib colour map name; {shown(cmap)} is none") from None
    elif isinstance(cmap, np.ndarray) and cmap.ndim == 2:
        rgba = cmap.astype(float)
    else:
        try:
            colours = [cmap] if isinstance(cmap, str) else list(cmap)
            if not colours:
                raise ValueError("it holds none")
            rgba = _interpolate([_rgba(c) for c in colours], n)
        except (ValueError, TypeError) as exc:
            raise OptionError(f"cmap must be a colour, colours, or a colour map; cannot "
                              f"read {shown(cmap)}: {exc}") from None
    if rgba.ndim != 2 or rgba.shape[1] not in (3, 4) or not len(rgba):
        raise InputError(f"colour table must be (n, 3|4), got {rgba.shape}")
    lut = np.ones((len(rgba), 4), np.float32)
    lut[:, :rgba.shape[1]] = rgba
    lut[:, :3] *= 255
    lut[:, 3] *= alpha
    return np.clip(lut, 0, [255, 255, 255, 1]).astype(np.float32)


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


class FrameRenderer:
    """Turns per-electrode values into RGB frames of one scene; build once, call often.

    A value of 1 draws the largest dot: ``dot_size`` points across (the post's
    ``(clip(a, .01) * 100) ** 2`` points squared) in a figure 10 inches wide at the
    picture's width, so ``dot_size * picture_width / 1440`` pixels in radius (dots grow
    with the picture, as the positions do); values are clipped to
    ``[min_value, 1]`` for size and ``[0, 1]`` for colour; NaN hides a dot. Drawing
    never changes the renderer's arrays, so several threads may render at once and get
    identical frames. The scene is fixed once built: make a new renderer to change it.

    Parameters
    ----------
    background : str, Path or array_like
        Picture file or (H, W, 3|4) array.
    xs, ys : array_like, shape (n_electrodes,)
        Electrode centres in pixels of the background (y downward, top-left pixel
        centre at (0, 0)); scaled with the picture when ``size`` differs from it.
    size : (int, int), optional
        Output (width, height); default the background's.
    cmap : see ``colormap_lut``
    dot_size : float or "auto"
        Diameter in points of a dot at value 1. ``"auto"`` (default): 0.9 times the
        lower quartile of the distances between nearest electrodes
        (``_scene.auto_dot_size``), so neighbours stay apart on any scene; 100 is the
        post's.
    min_value : float
        Smallest value used for the dot size, as the post's ``clip(a, .01)``.
    alpha : float
        Dot opacity.
    colors : array_like, shape (n_electrodes, 3|4), optional
        A fixed RGB(A) colour in 0..1 for each electrode instead of the colour map; a
        row of NaN keeps the map for that electrode.
    sizes : array_like, shape (n_electrodes,), optional
        Each electrode's own ``dot_size`` in points; NaN keeps ``dot_size``.
    picture_width : float, optional
        The picture's width in the frame, in pixels, which points are measured against;
        default the frame's width (the picture fills the frame).

    Examples
    --------
    >>> r = FrameRenderer(np.zeros((40, 60, 3), np.uint8), [10, 30], [20, 20])
    >>> r.frame([0.2, 1.0]).shape
    (40, 60, 3)
    """

    def __init__(self, background, xs, ys, *, size=None, cmap=None, dot_size="auto",
                 min_value=0.01, alpha=1.0, colors=None, sizes=None, picture_width=None):
        picture = load_background(background)
        check_frame_size(*(picture.shape[1::-1] if size is None else size))
        self.background = _resized(picture, size)
        self.height, self.width = self.background.shape[:2]
        xs = np.asarray(xs, float).ravel()
        ys = np.asarray(ys, float).ravel()
        if xs.shape != ys.shape or not xs.size:
            raise InputError(f"need as many x as y positions, got {xs.size} and {ys.size}")
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            raise InputError("electrode positions must be finite numbers")
        sx = self.width / picture.shape[1]
        sy = self.height / picture.shape[0]
        self.xs = (xs + 0.5) * sx - 0.5
        self.ys = (ys + 0.5) * sy - 0.5
        picture_width = float(self.width if picture_width is None else picture_width)
        if isinstance(dot_size, str) and dot_size == "auto":
            dot_size = auto_dot_size(self.xs, self.ys, picture_width)
        if not (isinstance(dot_size, (int, float, np.number)) and dot_size >= 0
                and 0 <= alpha <= 1 and picture_width > 0):
            raise ValueError(f"need dot_size >= 0 (or 'auto'), 0 <= alpha <= 1 and "
                             f"picture_width > 0, got {shown(dot_size)}, {alpha}, "
                             f"{picture_width}")
        self.lut = colormap_lut(cmap, alpha)
        self._slots = None  # electrode -> its own colour's row of lut, or -1
        if colors is not None:
            colors = np.asarray(colors, float).reshape(len(xs), -1)
            own = np.isfinite(colors).all(axis=1)
            self._slots = np.where(own, len(self.lut) + np.cumsum(own) - 1, -1)
            self._n_map = len(self.lut)
            if own.any():
                self.lut = np.vstack([self.lut, colormap_lut(colors[own], alpha,
                                                             n=own.sum())])
        diameters = np.full(len(xs), float(dot_size))
        if sizes is not None:
            sizes = np.asarray(sizes, float).ravel()
            diameters = np.where(np.isnan(sizes), diameters, sizes)
            if not (diameters >= 0).all():
                raise ValueError("sizes must be >= 0 points")
        self.dot_size = float(dot_size)
        self.radius_scale = diameters * picture_width / 1440.0
        self.min_value = float(min_value)
        # NV12: the background once, and the RGB frames' rounded colours converted
        self._nv12_background = nv12_picture(self.background, *self.nv12_size)
        colors = np.floor(self.lut[:, :3] + 0.5) @ YCBCR[:, :3].T + YCBCR[:, 3]
        alpha = self.lut[:, 3:]
        self._lut_y = np.hstack([colors[:, :1], alpha]).astype(np.float32)
        self._lut_uv = np.hstack([colors[:, 1:], alpha]).astype(np.float32)
        self._lut_rgba = np.insert(self.lut, 3, 255.0, axis=1)  # R, G, B, 255, alpha
        self._clear = None  # the transparent canvas of frames_rgba, made when first used

    @property
    def n_electrodes(self):
        return len(self.xs)

    def frames(self, values, out=None):
        """Render a block of frames.

        Parameters
        ----------
        values : array_like, shape (n_frames, n_electrodes)
        out : ndarray of uint8, shape (n_frames, H, W, 3), optional
            Buffer to fill and return, to avoid an allocation per call.

        Returns
        -------
        ndarray of uint8, shape (n_frames, H, W, 3)
        """
        values, radii, out = self._prepare(values, out, (self.height, self.width, 3))
        _render_frames(out, self.background, self.xs, self.ys, radii, values, self.lut)
        return out

    @property
    def nv12_size(self):
        """(width, height) of ``frames_nv12``: the frame size rounded up to even."""
        return self.width + self.width % 2, self.height + self.height % 2

    def frames_nv12(self, values, out=None):
        """Render a block of frames as NV12, the layout H.264 encoders work in.

        BT.709, limited range: an (H, W) luma plane, then (H/2, W/2) interleaved Cb, Cr,
        each covering 2 x 2 luma pixels (centred chroma). Half the bytes of RGB, and
        the encoder needs no conversion. Drawn straight in Y'CbCr: luma matches
        ``frames()`` converted to within rounding; chroma is blended at its own
        resolution, which differs from converting ``frames()`` only where a dot's
        edge crosses another edge or fine detail inside one 2 x 2 block. An odd size
        gets a black column or row (``nv12_size``), which dots may reach into.

        Parameters
        ----------
        values : array_like, shape (n_frames, n_electrodes)
        out : ndarray of uint8, shape (n_frames, 3 * H // 2, W), optional

        Returns
        -------
        ndarray of uint8, shape (n_frames, 3 * H // 2, W), H and W from ``nv12_size``

        Examples
        --------
        >>> r = FrameRenderer(np.zeros((5, 7, 3), np.uint8), [2], [2])
        >>> r.frames_nv12([[0.5]]).shape
        (1, 9, 8)
        """
        width, height = self.nv12_size
        values, radii, out = self._prepare(values, out, (height * 3 // 2, width))
        _render_frames_nv12(out, self._nv12_background, self.xs, self.ys, radii, values,
                            self._lut_y, self._lut_uv)
        return out

    def frames_rgba(self, values, out=None):
        """Render a block of frames with only the dots, over a transparent canvas.

        The background is not drawn (it set the size and the positions). Alpha holds
        each dot's exact-area coverage times its opacity, composited "over" where dots
        meet; colour is straight (not premultiplied), as PNG, ProRes 4444 and VP9 keep it.

        Parameters
        ----------
        values : array_like, shape (n_frames, n_electrodes)
        out : ndarray of uint8, shape (n_frames, H, W, 4), optional

        Returns
        -------
        ndarray of uint8, shape (n_frames, H, W, 4)

        Examples
        --------
        >>> r = FrameRenderer(np.zeros((40, 60, 3), np.uint8), [10], [20])
        >>> frames = r.frames_rgba([[1.0]])
        >>> frames.shape, int(frames[0, 0, 0, 3]), int(frames[0, 20, 10, 3])
        ((1, 40, 60, 4), 0, 255)
        """
        values, radii, out = self._prepare(values, out, (self.height, self.width, 4))
        if self._clear is None:
            self._clear = np.zeros((self.height, self.width, 4), np.uint8)
        _render_frames(out, self._clear, self.xs, self.ys, radii, values, self._lut_rgba)
        return out

    def frame_shape(self, pixel_format):
        """Shape of one frame in ``pixel_format``: ``"rgb24"`` (``frames``), ``"rgba"``
        (``frames_rgba``) or ``"nv12"`` (``frames_nv12``)."""
        width, height = self.nv12_size
        return {"rgb24": (self.height, self.width, 3), "rgba": (self.height, self.width, 4),
                "nv12": (height * 3 // 2, width)}[pixel_format]

    def _prepare(self, values, out, frame_shape):
        """Checked (values, radii in pixels, output buffer) for a block of frames."""
        values = np.ascontiguousarray(values, np.float64)  # one kernel signature
        if values.ndim != 2 or values.shape[1] != self.n_electrodes:
            raise ValueError(f"values must be (n_frames, {self.n_electrodes}), "
                             f"got {values.shape}")
        shape = (len(values), *frame_shape)
        if out is None:
            out = np.empty(shape, np.uint8)
        elif out.shape != shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous uint8 array of shape {shape}")
        radii = np.clip(values, self.min_value, 1.0) * self.radius_scale
        if self._slots is not None:  # the kernel's colour index: the centre of a row
            rows = np.minimum(np.floor(np.clip(values, 0, 1) * self._n_map), self._n_map - 1)
            rows = np.where(self._slots >= 0, self._slots, rows)
            values = np.where(np.isnan(values), np.nan, (rows + 0.5) / len(self.lut))
        return values, radii, out

    def frame_function(self, amplitudes, rate):
        """A ``t -> frame`` callable, e.g. for moviepy's ``VideoClip(frame_function=...)``.

        Parameters
        ----------
        amplitudes : array_like, shape (n_electrodes, n_samples)
            Values to draw; sample k is shown at time ``k / rate``, linearly interpolated.
        rate : float
            Sampling rate of ``amplitudes`` in Hz.

        Returns
        -------
        callable
            ``frame_at(t)`` returns the (H, W, 3) uint8 frame at ``t`` seconds.

        Examples
        --------
        >>> r = FrameRenderer(np.zeros((40, 60, 3), np.uint8), [10, 30], [20, 20])
        >>> frame_at = r.frame_function(np.array([[0, 1], [1, 0]]), rate=1.0)
        >>> frame_at(0.5).shape
        (40, 60, 3)
        """
        amplitudes = np.asarray(amplitudes, float)
        if amplitudes.ndim != 2 or amplitudes.shape[0] != self.n_electrodes:
            raise ValueError(f"amplitudes must be ({self.n_electrodes}, n_samples), "
                             f"got {amplitudes.shape}")

        def frame_at(t):
            return self.frame(values_at(amplitudes, rate, [t])[0])

        return frame_at

    def frame(self, values, out=None):
        """Render one frame from a vector of ``n_electrodes`` values; (H, W, 3) uint8."""
        values = np.asarray(values, np.float64).reshape(1, -1)
        return self.frames(values, None if out is None else out[None])[0]
