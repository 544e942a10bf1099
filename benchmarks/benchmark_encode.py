"""Encode stage: RGB frames -> ffmpeg (libx264, yuv420p) -> MP4, no audio."""
import tempfile
from pathlib import Path

import numpy as np

from fastviz import FrameRenderer, VideoWriter

from ._common import (ChildrenPeakMemory, SIZES, background, electrodes, parse_size,
                      smooth_values)

N_FRAMES = 30  # one second at 30 fps
N_ELECTRODES = 90


class Encode:
    """``VideoWriter`` writing 30 pre-rendered frames (brain, 90 moving dots) to an MP4.

    ``peakmem_`` is the Python process only; ``track_ffmpeg_peakmem`` is ffmpeg's own
    peak resident memory (VmHWM, polled).
    """

    params = [SIZES, ["ultrafast", "veryfast"]]
    param_names = ["size", "preset"]
    timeout = 180

    def setup(self, size, preset):
        rng = np.random.default_rng(0)
        self.size = parse_size(size)
        xs, ys = electrodes(self.size, N_ELECTRODES, rng)
        renderer = FrameRenderer(background(self.size), xs, ys)
        self.frames = renderer.frames(smooth_values(N_FRAMES, N_ELECTRODES, rng))
        self.tmp = tempfile.TemporaryDirectory(prefix="fastviz-bench-")
        self.path = Path(self.tmp.name) / "out.mp4"

    def teardown(self, size, preset):
        self.tmp.cleanup()

    def _write(self, preset):
        with VideoWriter(self.path, self.size, 30, preset=preset, overwrite=True) as video:
            video.write(self.frames)

    def time_write(self, size, preset):
        self._write(preset)

    def peakmem_write(self, size, preset):
        self._write(preset)

    def track_ffmpeg_peakmem(self, size, preset):
        with ChildrenPeakMemory() as memory:
            self._write(preset)
        return memory.peak_mb

    track_ffmpeg_peakmem.unit = "MB"
