"""fastviz frames against matplotlib's ``imshow`` + ``scatter`` (Agg) on the same scenes.

matplotlib is a test extra; it draws each scene the way the original post did: the
background with ``imshow`` in axes filling a figure 10 inches wide at ``dpi = width / 10``
with the axis off, then ``scatter`` with the same positions, sizes
``(clip(v, min_value) * dot_size) ** 2`` points squared, colours from the same colour map,
and no edge. The sizes and colours are built from the scene's definition, not from the
renderer's internals, so a wrong size mapping, offset or colour lookup shows up here.

What the comparison found (matplotlib 3.11, Agg):

* Mapping. A marker ``s`` points squared is a circle ``sqrt(s)`` points across, so
  ``sqrt(s) * dpi / 72 / 2 = v * dot_size * width / 1440`` pixels in radius, centred on
  the data position with no snapping or half-pixel shift (with ``edgecolors='none'`` the
  collection goes through Agg's ``draw_path_collection``, which does not round offsets
  and does not snap curved paths). fastviz's radius and centre agree with it: disc
  centroids within 0.015 px of each other (0.005 px of the true centre from radius
  3 px up), areas as below. (Beware: a scatter with one colour, one size and an
  edge colour other than ``'none'`` goes through ``draw_markers`` instead, which moves
  every marker to a whole pixel, up to 1 px away; the post's per-value colours do not.)
* Anti-aliasing. Agg covers each pixel by the exact area of the filled path, quantised
  to ``min(floor(256 * area), 255)``, with a linear (no) gamma, and blends "over" in 8-bit
  integers (``fixed_blender_rgba_plain``: truncating, which darkens edge pixels by up
  to ~2 levels), as fastviz does up to rounding. The real difference is the path:
  matplotlib's circle marker is 8 cubic Bezier arcs, which Agg flattens into a polygon
  of 16 to 72 sides (``curve4_div``, distance tolerance 0.5 px, vertices at the
  control-segment midpoints), whose edge runs from 0.12 px inside to 0.06 px outside the
  true circle (its area is up to 0.64 % smaller, worst near radius 3 px). fastviz draws
  the exact circle. Rasterising Agg's polygon with exact coverage reproduces
  matplotlib's frames to within 3 levels, so the remaining edge-pixel differences (up to
  32 levels for a white disc on black at unlucky radii, ~9 and ~33 px, just before Agg
  subdivides further) are Agg's polygon, not a fastviz error; pixels wholly inside or
  outside discs agree.
* RGBA backgrounds. matplotlib premultiplies the picture in float32, resamples,
  un-premultiplies and truncates back to uint8 before Agg's integer "plain" blend over
  the white axes; Pillow's ``alpha_composite`` (``load_background``) rounds instead, so
  semi-transparent background pixels differ by up to 2 levels.
"""
import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap, ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

from fastviz._raster import FrameRenderer, post_colormap  # noqa: E402

SSIM_MIN = 0.99  # the acceptance level, per scene
INTERIOR_TOL = 2  # pixels wholly inside discs: 8-bit rounding of translucent layers
BACKGROUND_TOL = {False: 0, True: 2}  # outside discs: exact, or RGBA compositing rounding
# Pixels on disc edges: Agg's flattened Bezier circle is off the true circle by up to
# 32/255 of a pixel's coverage (measured over radii 0.3-70 px), plus blending rounding.
EDGE_TOL = 40
EDGE_BAND = 1.0  # px from a circle: beyond it a pixel is wholly in or out in both


def _background(h, w, rgba=False):
    """Smooth gradients with a disc and a dark block: flat areas make SSIM strict."""
    yy, xx = np.mgrid[:h, :w] / max(h, w)
    img = np.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.8 - 0.5 * xx * yy], -1)
    img[np.hypot(xx - 0.3, yy - 0.4) < 0.15] = (0.9, 0.85, 0.2)
    img[int(h * 0.6):int(h * 0.8), int(w * 0.55):int(w * 0.9)] = (0.1, 0.1, 0.15)
    if rgba:
        alpha = np.clip(1.2 - 1.5 * xx, 0, 1)[..., None]
        alpha[:, : w // 8] = 0  # a fully transparent strip
        img = np.concatenate([img, alpha], -1)
    return (img * 255 + 0.5).astype(np.uint8)


def _scene(name):
    """(background, xs, ys, values, FrameRenderer keywords, matplotlib colour map)."""
    rng = np.random.default_rng(list("abcdef").index(name))
    w, h = 320, 240
    kw = {"dot_size": 100.0}  # the post's points; the renderer's default is "auto"
    rgba = False
    if name == "a":  # few small dots, radius 0.5-3 px (and two at the minimum size)
        n = 24
        xs, ys = rng.uniform(10, w - 10, n), rng.uniform(10, h - 10, n)
        values = rng.uniform(1 / 6, 1, n)
        values[:2] = 0.005
        kw.update(dot_size=3 * 1440 / w, cmap="viridis")  # radius 3 px at value 1
    elif name == "b":  # large dots, radius 30-70 px, on a 1000 x 1000 frame
        w = h = 1000
        n = 8
        xs, ys = rng.uniform(100, 900, n), rng.uniform(100, 900, n)
        values = rng.uniform(30 / 69.5, 1, n)
        values[0] = 1.0
        kw.update(cmap=["#d62728", "#2ca02c", "#1f77b4", "#ff7f0e"])
    elif name == "c":  # many overlapping dots in the post's colour map, one hidden
        n = 150
        xs, ys = rng.normal(160, 50, n), rng.normal(120, 40, n)
        values = rng.uniform(0.1, 0.7, n)
        values[7] = np.nan
        kw.update(cmap="post")
    elif name == "d":  # dots across all four edges and corners, one wholly outside
        xs = np.array([-5, 0, 3.3, w - 1, w + 4, w - 6.7, 50, 150.2, 250, 80, 200.6, 300,
                       -8, w + 6, -2.5, w - 1.5, -60])
        ys = np.array([50, 120.4, 200, 40, 130, 210.2, -4, 0, 2.6, h - 1, h + 5, h - 3.2,
                       -7, h + 3, h - 2.5, 1.5, 100])
        values = rng.uniform(0.3, 1, len(xs))
        kw.update(cmap="plasma")
    elif name == "e":  # an RGBA background with transparency
        n = 30
        xs, ys = rng.uniform(0, w, n), rng.uniform(0, h, n)
        values = rng.uniform(0.05, 0.8, n)
        kw.update(cmap="viridis")
        rgba = True
    elif name == "f":  # translucent overlapping dots
        n = 60
        xs, ys = rng.normal(160, 45, n), rng.normal(120, 35, n)
        values = rng.uniform(0.15, 1, n)
        kw.update(cmap="coolwarm", alpha=0.5)
    cmap = kw["cmap"]
    if cmap == "post":
        mpl_cmap = ListedColormap(post_colormap())
    elif isinstance(cmap, list):
        mpl_cmap = LinearSegmentedColormap.from_list("scene", cmap, N=256)
    else:
        mpl_cmap = matplotlib.colormaps[cmap]
    return _background(h, w, rgba), xs, ys, values, kw, mpl_cmap


def matplotlib_frame(background, xs, ys, sizes, values, cmap, alpha=None):
    """The scene drawn by matplotlib (Agg) at the background's pixel size; (H, W, 3)."""
    h, w = background.shape[:2]
    dpi = w / 10  # the post's 10-inch-wide figure
    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # no user style (snapping, interpolation, marker...)
        fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        # aspect "auto": the axes fill the figure exactly (the figure has the picture's
        # aspect anyway); limits put data (0, 0) on the top-left pixel's centre.
        ax.imshow(background, interpolation="nearest", aspect="auto")
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        ax.scatter(xs, ys, s=sizes, c=values, cmap=cmap, vmin=0, vmax=1, alpha=alpha,
                   marker="o", linewidths=0, edgecolors="none")
        canvas.draw()
        frame = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    assert frame.shape == (h, w, 3)
    return frame


def _both(name):
    background, xs, ys, values, kw, mpl_cmap = _scene(name)
    renderer = FrameRenderer(background, xs, ys, **kw)
    ours = renderer.frame(values)
    min_value = kw.get("min_value", 0.01)
    dot_size = kw.get("dot_size", 100.0)
    sizes = (np.clip(values, min_value, None) * dot_size) ** 2  # points squared
    theirs = matplotlib_frame(background, xs, ys, sizes, values, mpl_cmap, kw.get("alpha"))
    # disc geometry from the definition (radius in px = diameter in points * dpi / 72 / 2)
    radii = np.sqrt(sizes) * (background.shape[1] / 10) / 72 / 2
    return background, xs, ys, radii, ours, theirs


def _regions(shape, xs, ys, radii):
    """Masks of pixels near any circle (edge), wholly inside a disc, wholly outside all."""
    h, w = shape[:2]
    yy, xx = np.mgrid[:h, :w]
    edge = np.zeros((h, w), bool)
    inside = np.zeros((h, w), bool)
    for x, y, r in zip(xs, ys, radii):
        if not np.isfinite(r):
            continue
        d = np.hypot(xx - x, yy - y)
        edge |= np.abs(d - r) <= EDGE_BAND
        inside |= d < r
    return edge, inside & ~edge, ~inside & ~edge


def compare(name):
    background, xs, ys, radii, ours, theirs = _both(name)
    diff = np.abs(ours.astype(int) - theirs.astype(int)).max(axis=-1)
    edge, interior, outside = _regions(ours.shape, xs, ys, radii)
    return dict(
        ssim=structural_similarity(ours, theirs, channel_axis=-1, data_range=255),
        interior=int(diff[interior].max(initial=0)),
        edge=int(diff[edge].max(initial=0)),
        outside=int(diff[outside].max(initial=0)),
        overall=int(diff.max()),
        n_interior=int(interior.sum()),
        rgba=background.shape[2] == 4,
    )


@pytest.mark.parametrize("name", list("abcdef"))
def test_frame_matches_matplotlib(name):
    m = compare(name)
    assert m["n_interior"] > 0
    assert m["ssim"] >= SSIM_MIN, m
    assert m["interior"] <= INTERIOR_TOL, m
    assert m["outside"] <= BACKGROUND_TOL[m["rgba"]], m
    assert m["edge"] <= EDGE_TOL, m


def test_disc_size_and_position_match_matplotlib():
    """Isolated white discs on black, radius 0.5-70 px at sub-pixel positions.

    SSIM barely notices a half-pixel shift of small dots, so compare each disc's ink
    (coverage summed, i.e. its area) and centroid directly.
    """
    w = h = 1000
    cell = 1000 // 6
    rng = np.random.default_rng(7)
    radii = np.geomspace(0.5, 70, 36)
    rng.shuffle(radii)
    centres = (np.arange(6) + 0.5) * cell
    xs = np.repeat(centres, 6) + rng.uniform(-0.5, 0.5, 36)
    ys = np.tile(centres, 6) + rng.uniform(-0.5, 0.5, 36)
    dot_size = 150.0  # radius 104 px at value 1: no disc is clipped to it
    values = radii / (dot_size * w / 1440)
    background = np.zeros((h, w, 3), np.uint8)
    renderer = FrameRenderer(background, xs, ys, cmap=["white", "white"], dot_size=dot_size,
                             min_value=1e-3)
    ours = renderer.frame(values)
    sizes = (values * dot_size) ** 2
    white = ListedColormap([(1, 1, 1)])
    theirs = matplotlib_frame(background, xs, ys, sizes, values, white)
    for k in range(36):
        i, j = divmod(k, 6)
        yy, xx = np.mgrid[j * cell:(j + 1) * cell, i * cell:(i + 1) * cell]
        stats = []
        for frame in (ours, theirs):
            box = frame[j * cell:(j + 1) * cell, i * cell:(i + 1) * cell, 0].astype(float)
            area = box.sum() / 255
            stats.append((area, (box * xx).sum() / 255 / area, (box * yy).sum() / 255 / area,
                          np.count_nonzero((box > 0) & (box < 255))))
        (area, cx, cy, partial), (area_m, cx_m, cy_m, partial_m) = stats
        r = radii[k]
        exact = np.pi * r * r
        info = (r, stats)
        # the same centre: sampled into pixels, a tiny disc's ink centroid drifts
        # towards its pixel's centre, in both, so compare them to each other...
        assert abs(cx - cx_m) < 0.015 and abs(cy - cy_m) < 0.015, info
        if r >= 3:  # ... and to the position, once that bias is gone
            assert abs(cx - xs[k]) < 0.005 and abs(cy - ys[k]) < 0.005, info
        # the same size: fastviz has the exact area, up to rounding each edge pixel to
        # 8 bits. Agg's flattened circle is up to 0.64 % smaller than the true one, and
        # its 8-bit coverage (floor(256 * area)) and integer blend (truncating, divided
        # by 255 * 256 + alpha) lose up to 3 levels per edge pixel (module docstring).
        assert abs(area - exact) <= 0.5 * partial / 255 + 1e-9, info
        assert exact * (1 - 0.0065) - 3 * partial_m / 255 <= area_m, info
        assert area_m <= exact * (1 + 1 / 255), info
