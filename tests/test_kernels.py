"""The disc kernel against slow references, hand-made arrays and properties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import BT709, composite, disc_coverage, supersampled_coverage, to_nv12

from fastviz import FrameRenderer, colormap_lut
from fastviz._kernels import _splat_discs_aa

WHITE = np.array([[255, 255, 255, 1.0]], np.float32)


def coverage(h, w, cx, cy, r):
    """The kernel's coverage of one white disc on black, in 0..255."""
    out = np.zeros((h, w, 3), np.uint8)
    _splat_discs_aa(out, np.array([cx]), np.array([cy]), np.array([r]), np.array([1.0]), WHITE)
    return out[..., 0].astype(float)


@pytest.mark.parametrize("r", [0.5, 0.8, 1.7, 4.3, 12.6, 47.9, 200.0])
def test_coverage_is_exact_area(r):
    rng = np.random.default_rng(int(r * 10))
    n = int(2 * r + 5)
    for _ in range(3):
        cx, cy = n / 2 + rng.uniform(-0.5, 0.5, 2)
        got = coverage(n, n, cx, cy, r)
        if r < 100:
            exact = disc_coverage(n, n, cx, cy, r) * 255
            assert np.abs(got - exact).max() <= 0.51  # rounding to uint8 only
        ss = supersampled_coverage(n, n, cx, cy, r) * 255
        assert np.abs(got - ss).mean() <= 1.0
        # the 16 x 16 reference itself is off by up to 1/16 of a pixel along an edge
        assert np.abs(got - ss).max() <= 8


def test_hand_made_arrays():
    # a disc of radius .5 centred on a pixel centre lies inside it: pi/4 coverage
    assert coverage(3, 3, 1, 1, 0.5).tolist() == [[0, 0, 0], [0, 200, 0], [0, 0, 0]]
    # a disc centred on a pixel corner shares itself equally among four pixels
    assert coverage(2, 2, 0.5, 0.5, 0.5).tolist() == [[50, 50], [50, 50]]
    # radius 1.5 covers the middle pixel fully and the edge middles mostly
    got = coverage(3, 3, 1, 1, 1.5)
    assert got[1, 1] == 255 and got[0, 1] == got[1, 0] == got[2, 1] == got[1, 2]
    assert np.array_equal(got, got.T) and np.array_equal(got, got[::-1])


@settings(max_examples=40, deadline=None)
@given(r=st.floats(1, 20), fx=st.floats(0, 1), fy=st.floats(0, 1))
def test_area_inside_canvas_is_pi_r2(r, fx, fy):
    n = int(2 * r) + 6
    got = coverage(n, n, n / 2 + fx, n / 2 + fy, r).sum() / 255
    assert got == pytest.approx(np.pi * r * r, abs=0.5 * 2 * np.pi * r / 255 + 0.01)


@settings(max_examples=30, deadline=None)
@given(r=st.floats(0.5, 10), fx=st.floats(0, 1), fy=st.floats(0, 1),
       dx=st.integers(-5, 5), dy=st.integers(-5, 5))
def test_whole_pixel_shift_shifts_image(r, fx, fy, dx, dy):
    n = 40
    a = coverage(n, n, 20 + fx, 20 + fy, r)
    b = coverage(n, n, 20 + fx + dx, 20 + fy + dy, r)
    assert np.array_equal(np.roll(a, (dy, dx), axis=(0, 1)), b)


@settings(max_examples=40, deadline=None)
@given(r=st.floats(0.5, 30), cx=st.floats(-35, 55), cy=st.floats(-35, 45))
def test_clipped_equals_cropped(r, cx, cy):
    pad = 40
    small = coverage(20, 30, cx, cy, r)
    large = coverage(20 + 2 * pad, 30 + 2 * pad, cx + pad, cy + pad, r)
    assert np.array_equal(small, large[pad:pad + 20, pad:pad + 30])


def test_over_blending_in_order_matches_float_reference():
    rng = np.random.default_rng(3)
    background = rng.integers(0, 256, (24, 32, 3)).astype(np.uint8)
    discs = [(10.3, 11.2, 7.5, (255, 0, 0), 0.6), (15.7, 12.9, 6.1, (0, 0, 255), 0.8),
             (31.0, 2.0, 4.0, (0, 255, 0), 1.0)]
    out = background.copy()
    for cx, cy, r, rgb, alpha in discs:
        lut = np.array([[*rgb, alpha]], np.float32)
        _splat_discs_aa(out, np.array([cx]), np.array([cy]), np.array([r]), np.array([0.0]), lut)
    ref = composite(background, discs)
    # each disc rounds to uint8 once: at most 0.5 per disc, plus reference integration
    assert np.abs(out - ref).max() <= 1.6


def test_channels_are_drawn_alike_whatever_their_number():
    rng = np.random.default_rng(5)
    background = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
    xs, ys, radii = rng.uniform(-5, 45, 9), rng.uniform(-5, 35, 9), rng.uniform(0.3, 9, 9)
    values = rng.uniform(0, 1, 9)
    lut = colormap_lut(alpha=0.7)
    rgb = background.copy()
    _splat_discs_aa(rgb, xs, ys, radii, values, lut)
    for channels in ([0], [1, 2], [2]):  # a luma-like plane, chroma-like pairs
        part = np.ascontiguousarray(background[..., channels])
        _splat_discs_aa(part, xs, ys, radii, values, np.ascontiguousarray(lut[:, channels + [3]]))
        assert np.array_equal(part, rgb[..., channels])


@pytest.mark.parametrize("scene", ["apart on flat", "overlapping on a ramp"])
@pytest.mark.parametrize("alpha", [1.0, 0.6])
def test_nv12_is_the_float_composite_converted(scene, alpha):
    rng = np.random.default_rng(8)
    h, w = 40, 60
    if scene == "apart on flat":  # chroma blended at its own size is then exact too
        background = np.full((h, w, 3), (90, 160, 200), np.uint8)
        xs, ys = [12.3, 40.8, 25.1], [14.6, 20.2, 31.0]
    else:
        ramp = np.linspace(0, 255, w)[None, :, None] * [1, 0.5, 0.2]
        background = (ramp + np.linspace(0, 40, h)[:, None, None]).astype(np.uint8)
        xs, ys = rng.uniform(-3, 63, 12), rng.uniform(-3, 43, 12)
    r = FrameRenderer(background, xs, ys, dot_size=9 * 1440 / w, min_value=0,
                      alpha=alpha)  # radius = value * 9 px
    values = rng.uniform(0.05, 1, len(xs))
    nv12 = r.frames_nv12(values[None])[0].astype(float)
    colours = np.floor(r.lut[np.minimum((values * 256).astype(int), 255), :3] + 0.5)
    ref = composite(background, [(x, y, 9 * v, c, alpha)
                                 for x, y, v, c in zip(xs, ys, values, colours)])
    luma, chroma = to_nv12(ref, BT709)
    assert np.abs(nv12[:h] - luma).max() <= 1.6  # rounding once per disc
    error = np.abs(nv12[h:].reshape(h // 2, w // 2, 2) - chroma)
    if scene == "apart on flat":
        assert error.max() <= 1.0
    else:  # off only where edges share a 2 x 2 block
        assert error.mean() <= 0.5 and np.percentile(error, 98) <= 2


def test_renderer_uses_table_and_order():
    background = np.zeros((20, 40, 3), np.uint8)
    lut = colormap_lut(["black", "white"])
    r = FrameRenderer(background, [10, 16], [10, 10], cmap=["#ff0000", "#0000ff"],
                      dot_size=5 * 1440 / 40, min_value=1.0)  # radius 5 px
    frame = r.frame([0.0, 1.0])
    assert tuple(frame[10, 10]) == (255, 0, 0)  # first dot, first colour
    assert tuple(frame[10, 18]) == (0, 0, 255)  # second dot, last colour
    assert tuple(frame[10, 13]) == (0, 0, 255)  # the overlap belongs to the later dot
    assert lut[0, 0] == 0 and lut[-1, 0] == 255


def test_threads_give_identical_frames():
    from joblib import Parallel, delayed

    rng = np.random.default_rng(0)
    r = FrameRenderer(rng.integers(0, 256, (120, 160, 3)).astype(np.uint8),
                      rng.uniform(0, 160, 50), rng.uniform(0, 120, 50), alpha=0.7)
    values = rng.uniform(0, 1, (40, 50))
    for draw in (r.frames, r.frames_nv12):
        blocks = Parallel(n_jobs=4, backend="threading")(
            delayed(draw)(values[i:i + 5]) for i in range(0, 40, 5))
        assert np.array_equal(draw(values), np.concatenate(blocks))


def test_post_colormap_matches_published_samples():
    lut = colormap_lut()[:, :3] / 255
    expected = {0: (1, 0, 0), .1: (.90, .05, 0), .25: (.91, .38, .34), .5: (.945, .947, .944),
                .75: (.40, .61, .32), .9: (.10, .45, 0), 1.0: (0, .502, 0)}
    for at, rgb in expected.items():
        assert lut[min(int(at * 256), 255)] == pytest.approx(rgb, abs=0.02)
