"""Slow, obviously right references for the kernels."""
import numpy as np


def disc_coverage(height, width, cx, cy, r, samples=1000):
    """Area of the disc inside each pixel, by integrating chord lengths over x.

    Pixel (i, j) covers [i-.5, i+.5] x [j-.5, j+.5]. Midpoint rule in x, exact in y.
    """
    cover = np.zeros((height, width))
    offsets = (np.arange(samples) + 0.5) / samples - 0.5
    for i in range(width):
        x = i + offsets
        h = np.sqrt(np.clip(r * r - (x - cx) ** 2, 0, None))
        for j in range(height):
            top = np.minimum(j + 0.5, cy + h)
            bottom = np.maximum(j - 0.5, cy - h)
            cover[j, i] = np.clip(top - bottom, 0, None).mean()
    return cover


def supersampled_coverage(height, width, cx, cy, r, ss=16):
    """Fraction of ss x ss sub-pixel centres inside the disc."""
    o = (np.arange(ss) + 0.5) / ss - 0.5
    xs = (np.arange(width)[:, None] + o).ravel()
    ys = (np.arange(height)[:, None] + o).ravel()
    inside = (xs[None, :] - cx) ** 2 + (ys[:, None] - cy) ** 2 <= r * r
    return inside.reshape(height, ss, width, ss).mean(axis=(1, 3))


def composite(background, discs):
    """Draw discs (cx, cy, r, rgb 0..255, alpha) over background in order, in float."""
    out = background.astype(float)
    h, w = out.shape[:2]
    for cx, cy, r, rgb, alpha in discs:
        a = disc_coverage(h, w, cx, cy, r, samples=200)[..., None] * alpha
        out = out + (np.asarray(rgb, float) - out) * a
    return out


# BT.709, limited range, from the standard: Y' = .2126 R + .7152 G + .0722 B on 16..235,
# Cb = (B - Y') / 1.8556 and Cr = (R - Y') / 1.5748 on 16..240 around 128
BT709 = np.column_stack([
    np.array([[.2126, .7152, .0722],
              [-.2126 / 1.8556, -.7152 / 1.8556, .5],
              [.5, -.7152 / 1.5748, -.0722 / 1.5748]]) * [[219], [224], [224]] / 255,
    [16, 128, 128]])


def to_nv12(rgb, matrix=BT709):
    """Float (Y, CbCr) of an (H, W, 3) RGB image, H and W even: Y per pixel, Cb and Cr
    from the mean RGB of each 2 x 2 block, as ``matrix`` (rows Y, Cb, Cr: weights of
    R, G, B in 0..255, then offset) converts."""
    h, w = rgb.shape[:2]
    ycc = np.asarray(rgb, float) @ matrix[:, :3].T + matrix[:, 3]
    return ycc[..., 0], ycc[..., 1:].reshape(h // 2, 2, w // 2, 2, 2).mean(axis=(1, 3))


def composite_rgba(height, width, discs):
    """Discs (cx, cy, r, rgb 0..255, alpha) "over" a transparent canvas, in float, with
    straight alpha: (rgb (H, W, 3) in 0..255, alpha (H, W) in 0..1)."""
    rgb = np.zeros((height, width, 3))
    alpha = np.zeros((height, width))
    for cx, cy, r, colour, opacity in discs:
        a = disc_coverage(height, width, cx, cy, r, samples=200) * opacity
        over = a + alpha * (1 - a)
        share = np.divide(a, over, out=np.zeros_like(a), where=over > 0)
        rgb += (np.asarray(colour, float) - rgb) * share[..., None]
        alpha = over
    return rgb, alpha
