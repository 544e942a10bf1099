"""Encode stage: RGB or NV12 frames -> ffmpeg (libx264, 4:2:0) -> MP4, no audio."""
import tempfile
from pathlib import Path

import numpy as np

from fastviz import FrameRenderer, VideoWriter

from ._common import SIZES, ChildrenPeakMemory, background, electrodes, parse_size, smooth_values

N_FRAMES = 30  # one second at 30 fps
N_ELECTRODES = 90


class Encode:
    """``VideoWriter`` writing 30 pre-rendered frames (brain, 90 moving dots) to an MP4.

    pixel_format: ``rgb24`` frames are converted by ffmpeg; ``nv12`` frames (what the
    pipeline sends) go to x264 as they are. ``peakmem_`` is the Python process only;
    ``track_ffmpeg_peakmem`` is ffmpeg's own peak resident memory (VmHWM, polled).
    """

    params = [SIZES, ["ultrafast", "veryfast"], ["rgb24", "nv12"]]
    param_names = ["size", "preset", "pixel_format"]
    timeout = 180

    def setup(self, size, preset, pixel_format):
        rng = np.random.default_rng(0)
        self.size = parse_size(size)
        xs, ys = electrodes(self.size, N_ELECTRODES, rng)
        renderer = FrameRenderer(background(self.size), xs, ys, dot_size=100)
        values = smooth_values(N_FRAMES, N_ELECTRODES, rng)
        self.frames = (renderer.frames_nv12(values) if pixel_format == "nv12"
                       else renderer.frames(values))
        self.tmp = tempfile.TemporaryDirectory(prefix="fastviz-bench-")
        self.path = Path(self.tmp.name) / "out.mp4"

    def teardown(self, size, preset, pixel_format):
        self.tmp.cleanup()

    def _write(self, preset, pixel_format):
        with VideoWriter(self.path, self.size, 30, preset=preset, pixel_format=pixel_format,
                         overwrite=True) as video:
            video.write(self.frames)

    def time_write(self, size, preset, pixel_format):
        self._write(preset, pixel_format)

    def peakmem_write(self, size, preset, pixel_format):
        self._write(preset, pixel_format)

    def track_ffmpeg_peakmem(self, size, preset, pixel_format):
        with ChildrenPeakMemory() as memory:
            self._write(preset, pixel_format)
        return memory.peak_mb

    track_ffmpeg_peakmem.unit = "MB"
