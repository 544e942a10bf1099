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
