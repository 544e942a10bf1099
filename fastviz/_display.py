"""What a render's results look like in Jupyter: a video player, a picture, a slider.

The conventions are IPython's and matplotlib's: an object shows itself through
``_repr_html_`` or ``_repr_png_`` (IPython's display formatters ask for them), a video
is embedded as base64 up to a size limit (matplotlib's ``animation.embed_limit``) and
linked above it (``IPython.display.Video``'s ``<video src=...>``). Nothing here imports
IPython; ipywidgets only for ``preview``.
"""
import base64
import html
import io
import os
from pathlib import Path
from urllib.parse import quote

import numpy as np

from ._errors import FastvizError
from ._formats import FORMATS, SUFFIXES


def png_bytes(picture, compress_level=1):
    """An (H, W, 3|4) uint8 picture as PNG bytes; level 1 compresses an 800 x 600 frame
    in about 20 ms (the default, 6, takes several times longer)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(picture)).save(buffer, format="PNG",
                                               compress_level=compress_level)
    return buffer.getvalue()


def jpeg_bytes(picture, quality=90):
    """An (H, W, 3) uint8 picture as JPEG bytes: 2 ms at 800 x 600 against PNG's 20, and
    a quarter of the bytes to send, which is what a slider's redraw waits for."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(picture)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


class Picture(np.ndarray):
    """An (H, W, 3) or (H, W, 4) uint8 picture that shows itself in a notebook.

    A plain NumPy array in every other way (``frame`` and ``layout`` return one);
    arithmetic on it gives plain arrays.

    Examples
    --------
    >>> picture = np.zeros((2, 3, 3), np.uint8).view(Picture)
    >>> picture.shape, type(picture + 1).__name__, picture._repr_png_()[:4]
    ((2, 3, 3), 'ndarray', b'\\x89PNG')
    """

    def __array_wrap__(self, array, context=None, return_scalar=False):
        array = array.view(np.ndarray)  # sums, differences, masks: plain arrays
        return array[()] if return_scalar else array

    def _repr_png_(self):
        if self.ndim != 3 or self.shape[2] not in (3, 4) or self.dtype != np.uint8:
            return None  # a slice of one: IPython shows the text instead
        return png_bytes(self)


def picture(array):
    """``array`` (a frame, a layout) as a ``Picture``, without a copy."""
    return array.view(Picture)


class Video(type(Path())):
    """The path of a rendered video, which plays itself in a notebook.

    A ``pathlib.Path`` in every other way (``render`` returns one). In Jupyter it is a
    ``<video>`` player (``<img>`` for a GIF): the file embedded in the notebook as
    base64 when it is at most ``Video.embed_limit`` bytes (20 MB, as matplotlib's
    ``animation.embed_limit``), else linked by its path relative to the notebook's
    folder, as ``IPython.display.Video`` links files. PNG frames (a folder) show as
    their path.

    Examples
    --------
    >>> Video("talk.mp4").suffix, Video.embed_limit
    ('.mp4', 20971520)
    """

    embed_limit = 20 * 2 ** 20
    format = None  # the format it was written in, when its name does not say

    def _repr_html_(self):
        row = FORMATS.get(self.format or SUFFIXES.get(self.suffix.lower()))
        if row is None or row.mime is None or not self.is_file():
            return None
        size = self.stat().st_size
        if size <= self.embed_limit:
            source, note = (f"data:{row.mime};base64,"
                            f"{base64.b64encode(self.read_bytes()).decode('ascii')}"), ""
        else:
            where = os.path.relpath(self, Path.cwd())
            source = quote(Path(where).as_posix())
            note = (f"<br><a href=\"{source}\">{html.escape(self.name)}</a>: "
                    f"{size / 2 ** 20:.1f} MB, more than Video.embed_limit "
                    f"({self.embed_limit / 2 ** 20:.0f} MB), so linked, not embedded")
        if row.mime.startswith("image/"):
            return f'<img src="{source}" alt="{html.escape(self.name)}">{note}'
        return (f'<video controls><source src="{source}" type="{row.mime}">'
                f"Your browser does not play {html.escape(self.name)}.</video>{note}")


def video(path, format):
    """``path`` as a ``Video`` written in ``format``."""
    result = Video(path)
    result.format = format
    return result


def preview(prepared, at=0.0):
    """An ipywidgets slider over the time of ``prepared`` (a ``Prepared``) above the
    frame at that time, redrawn from ``prepared.frame`` as the slider moves (sent as
    JPEG: a preview, redrawn as fast as the raster allows)."""
    try:
        import ipywidgets
    except ImportError:
        raise FastvizError("preview needs ipywidgets: pip install ipywidgets (or, in "
                           "fastviz's folder, pip install '.[notebook]')") from None
    last = (prepared.n_frames - 1) / prepared.fps
    slider = ipywidgets.FloatSlider(
        value=min(float(at), float(last)), min=0.0, max=float(last),
        step=float(1 / prepared.fps), description="t (s)", readout_format=".2f",
        continuous_update=True, layout=ipywidgets.Layout(width="100%"))
    image = ipywidgets.Image(value=jpeg_bytes(prepared.frame(slider.value)), format="jpeg")

    def show(change):
        image.value = jpeg_bytes(prepared.frame(change["new"]))

    slider.observe(show, names="value")
    return ipywidgets.VBox([image, slider])
