"""Raster stage: per-electrode values -> RGB or NV12 frames (numba anti-aliased discs)."""
import numpy as np

from fastviz import FrameRenderer

from ._common import SIZES, background, electrodes, parse_size

N_FRAMES = 16  # a block, as ``iter_frames`` hands to each thread (it uses 8)


class Frames:
    """``FrameRenderer.frames(values)`` for a block of 16 frames.

    Values are uniform in 0..1, so dots average half the largest size (about 35 px
    across at 1000 px wide). One thread: the pipeline runs several of these at once.
    """

    params = [SIZES, [30, 90, 130]]
    param_names = ["size", "n_electrodes"]

    def setup(self, size, n_electrodes):
        rng = np.random.default_rng(0)
        width, height = parse_size(size)
        xs, ys = electrodes((width, height), n_electrodes, rng)
        self.renderer = FrameRenderer(background((width, height)), xs, ys, dot_size=100)
        self.values = rng.uniform(0, 1, (N_FRAMES, n_electrodes))
        self.out = np.empty((N_FRAMES, height, width, 3), np.uint8)
        self.out_nv12 = self.renderer.frames_nv12(self.values)
        self.renderer.frames(self.values[:1])  # warm-up: compile (or load) the kernels

    def time_frames(self, size, n_electrodes):
        """As the pipeline calls it: a new array per block."""
        self.renderer.frames(self.values)

    def time_frames_out(self, size, n_electrodes):
        """Into a preallocated block: no page faults on fresh memory."""
        self.renderer.frames(self.values, out=self.out)

    def time_frames_nv12(self, size, n_electrodes):
        """NV12, as the video pipeline draws them (luma, then chroma at half size)."""
        self.renderer.frames_nv12(self.values, out=self.out_nv12)

    def peakmem_frames(self, size, n_electrodes):
        self.renderer.frames(self.values)


class BackgroundCopy:
    """The floor for a block: ``out[:] = background`` for 16 frames, no dots."""

    params = [SIZES]
    param_names = ["size"]

    def setup(self, size):
        width, height = parse_size(size)
        self.background = background((width, height))
        self.out = np.empty((N_FRAMES, height, width, 3), np.uint8)
        self.out[:] = self.background  # warm-up: fault the pages in

    def time_background_copy(self, size):
        self.out[:] = self.background

    def time_background_copy_new(self, size):
        """With a fresh array each time, as ``frames`` allocates one per block."""
        out = np.empty_like(self.out)
        out[:] = self.background

    def peakmem_background_copy_new(self, size):
        out = np.empty_like(self.out)
        out[:] = self.background
