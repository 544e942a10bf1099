"""Numba kernels: anti-aliased disc splatting into RGB, RGBA or NV12 frames.

Kernels take arrays, scalars and a preallocated ``out`` and validate nothing; the
wrappers in ``_raster`` do that. Pixel coordinates are (x, y) with y downward and the
centre of the top-left pixel at (0, 0), so pixel (i, j) covers [i-.5, i+.5] x [j-.5, j+.5]
(matplotlib's ``imshow`` convention).

Coverage is the exact area of the disc inside each pixel square. With
``f(a, b)`` = area of the disc (centred at 0) inside [0, a] x [0, b], extended as an odd
function of each argument, the area inside [u0, u1] x [v0, v1] is
``F(u1, v1) - F(u0, v1) - F(u1, v0) + F(u0, v0)``. ``f`` needs ``G(t)``, the integral of
``sqrt(r^2 - s^2)`` from 0 to t, only at pixel edges, so each disc tabulates it once per
column and row edge and each edge pixel costs a few multiplications.
"""
import math

import numba as nb
import numpy as np

ngjit = nb.jit(nopython=True, nogil=True, cache=True)


@ngjit
def _g(t, r):
    """Integral of sqrt(r^2 - s^2) ds from 0 to t, for 0 <= t <= r."""
    return 0.5 * (t * math.sqrt(max(r * r - t * t, 0.0)) + r * r * math.asin(min(t / r, 1.0)))


@ngjit
def _splat_discs_aa(out, xs, ys, radii, values, lut):
    """Composite discs into ``out`` (H, W, C) uint8 in place, in order, later on top.

    xs, ys, radii are in pixels; colour is ``lut[floor(value * len(lut))]``: C channel
    values in 0..255, then an alpha in 0..1, blended "over" by coverage * alpha.
    C is 3 for RGB, 1 for a luma plane, 2 for interleaved chroma, 4 for RGBA with
    straight (not premultiplied) alpha, whose lut rows are R, G, B, 255, alpha: then
    coverage * alpha goes into the alpha channel and the colour stays the dot's.
    """
    h, w, n_channels = out.shape
    n_lut = lut.shape[0]
    ua = np.empty(w + 1)
    gu = np.empty(w + 1)
    su = np.empty(w + 1)
    vb = np.empty(h + 1)
    xc = np.empty(h + 1)
    gxc = np.empty(h + 1)
    sv = np.empty(h + 1)
    pattern = np.empty(n_channels * w, np.uint8)
    color = np.empty(n_channels)
    for k in range(xs.shape[0]):
        r = radii[k]
        cx = xs[k]
        cy = ys[k]
        if not r > 0.0 or not math.isfinite(cx) or not math.isfinite(cy):
            continue
        if cx + r < -0.5 or cx - r > w - 0.5 or cy + r < -0.5 or cy - r > h - 0.5:
            continue  # wholly off the frame (and no huge float reaches int() below)
        i0 = max(0, int(math.floor(cx - r + 0.5)))
        i1 = min(w - 1, int(math.floor(cx + r + 0.5)))
        j0 = max(0, int(math.floor(cy - r + 0.5)))
        j1 = min(h - 1, int(math.floor(cy + r + 0.5)))
        if i0 > i1 or j0 > j1:
            continue
        v = values[k]
        # matplotlib's lookup: index floor(v * n), the top value in the last entry
        idx = min(int(min(max(v, 0.0), 1.0) * n_lut), n_lut - 1) if v == v else 0
        for c in range(n_channels):
            color[c] = lut[idx, c]
        alpha = lut[idx, n_channels]
        opaque = alpha >= 1.0
        for p in range(0, n_channels * (i1 - i0 + 1), n_channels):
            for c in range(n_channels):
                pattern[p + c] = np.uint8(color[c] + 0.5)
        r2 = r * r
        for i in range(i0, i1 + 2):  # column edges, relative to the centre
            u = i - 0.5 - cx
            ua[i - i0] = min(abs(u), r)
            gu[i - i0] = _g(ua[i - i0], r)
            su[i - i0] = 1.0 if u >= 0 else -1.0
        for j in range(j0, j1 + 2):  # row edges
            t = j - 0.5 - cy
            b = min(abs(t), r)
            vb[j - j0] = b
            xc[j - j0] = math.sqrt(r2 - b * b)
            gxc[j - j0] = _g(xc[j - j0], r)
            sv[j - j0] = 1.0 if t >= 0 else -1.0
        for j in range(j0, j1 + 1):
            t0 = j - 0.5 - cy
            t1 = t0 + 1.0
            near = 0.0 if t0 < 0.0 < t1 else min(t0 * t0, t1 * t1)
            if near >= r2:
                continue
            reach = math.sqrt(r2 - near)  # columns touching the disc in this row
            ia = max(i0, int(math.floor(cx - reach - 0.5)) + 1)
            ib = min(i1, int(math.ceil(cx + reach + 0.5)) - 1)
            far = max(t0 * t0, t1 * t1)
            if far < r2:  # columns wholly inside the disc in this row
                inner = math.sqrt(r2 - far)
                fa = max(ia, int(math.ceil(cx - inner + 0.5)))
                fb = min(ib, int(math.floor(cx + inner - 0.5)))
            else:
                fa, fb = ib + 1, ib
            fa = min(fa, fb + 1)  # an empty interior splits nothing
            jj = j - j0
            row = out[j]
            if opaque:  # a plain byte copy of the colour pattern, which LLVM vectorises
                span = row[fa:fb + 1].reshape(-1)
                for p in range(span.shape[0]):
                    span[p] = pattern[p]
            else:
                for i in range(fa, fb + 1):
                    _blend(row, i, color, alpha)
            # edge pixels: the disc's area left of each column edge within this row,
            # differenced between neighbouring edges
            b0, x0, g0, s0 = vb[jj], xc[jj], gxc[jj], sv[jj]
            b1, x1, g1, s1 = vb[jj + 1], xc[jj + 1], gxc[jj + 1], sv[jj + 1]
            for lo, hi in ((ia, min(fa - 1, ib)), (max(fb + 1, ia), ib)):
                c = lo - i0
                left = su[c] * (s1 * _area(ua[c], gu[c], b1, x1, g1, r2)
                                - s0 * _area(ua[c], gu[c], b0, x0, g0, r2))
                for i in range(lo, hi + 1):
                    c = i + 1 - i0
                    right = su[c] * (s1 * _area(ua[c], gu[c], b1, x1, g1, r2)
                                     - s0 * _area(ua[c], gu[c], b0, x0, g0, r2))
                    cov = right - left
                    left = right
                    if cov > 0.0:
                        _blend(row, i, color, min(cov, 1.0) * alpha)


@ngjit
def _area(a, ga, b, xb, gxb, r2):
    """Area of the disc in [0, a] x [0, b] (a, b >= 0), given G(a), sqrt(r2 - b^2), G(it)."""
    if a * a + b * b <= r2:
        return a * b
    return b * xb + ga - gxb


@ngjit
def _blend(row, i, color, a):
    """Blend ``color`` over pixel ``row[i]`` with opacity ``a``."""
    if color.shape[0] == 3:  # RGB: a constant count in this branch, unrolled, 10% faster
        for c in range(3):
            _mix(row, i, c, color[c], a)
    elif color.shape[0] == 4:
        _over(row, i, color, a)
    else:
        for c in range(color.shape[0]):
            _mix(row, i, c, color[c], a)


@ngjit
def _mix(row, i, c, value, a):
    o = row[i, c]
    row[i, c] = np.uint8(o + (value - o) * a + 0.5)


@ngjit
def _over(row, i, color, a):
    """Straight-alpha "over" of ``color`` (R, G, B, 255) at opacity ``a`` onto RGBA
    ``row[i]``: alpha a + A (1 - a), colour weighted by each one's share of it."""
    below = row[i, 3] / 255.0
    alpha = a + below * (1.0 - a)
    if alpha <= 0.0:
        return
    share = a / alpha
    for c in range(3):
        _mix(row, i, c, color[c], share)
    row[i, 3] = np.uint8(alpha * 255.0 + 0.5)


@ngjit
def _render_frames(out, background, xs, ys, radii, values, lut):
    """Fill ``out`` (n, H, W, C) uint8: each frame is the background plus its discs.

    radii and values have shape (n, n_electrodes), radii in pixels.
    """
    for f in range(out.shape[0]):
        _copy(out[f], background)
        _splat_discs_aa(out[f], xs, ys, radii[f], values[f], lut)


@ngjit
def _copy(out, source):
    """``out[...] = source`` for C-contiguous arrays of one size, as a plain loop:
    numba's slice assignment is 4-10x slower."""
    flat, into = source.reshape(-1), out.reshape(-1)
    for p in range(flat.shape[0]):
        into[p] = flat[p]


@ngjit
def _render_frames_nv12(out, background, xs, ys, radii, values, lut_y, lut_uv):
    """Fill ``out`` (n, 3H/2, W) uint8 with NV12 frames: the background plus its discs.

    NV12 is the (H, W) luma plane, then an (H/2, W/2) plane of interleaved Cb, Cr, H and
    W even. A chroma sample covers 2 x 2 luma pixels, so a disc's chroma coverage is its
    exact area on the half-size grid: centre ((x - .5) / 2, (y - .5) / 2), radius r / 2.
    ``lut_y`` rows are (Y, alpha), ``lut_uv`` rows (Cb, Cr, alpha), in code values.
    """
    h = out.shape[1] * 2 // 3
    w = out.shape[2]
    cxs = (xs - 0.5) * 0.5
    cys = (ys - 0.5) * 0.5
    for f in range(out.shape[0]):
        _copy(out[f], background)
        _splat_discs_aa(out[f][:h].reshape(h, w, 1), xs, ys, radii[f], values[f], lut_y)
        _splat_discs_aa(out[f][h:].reshape(h // 2, w // 2, 2), cxs, cys, radii[f] * 0.5,
                        values[f], lut_uv)
