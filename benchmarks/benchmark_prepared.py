"""A prepared render (issue 19): its frame at a new time, the preview's redraw, and the
preparing itself (scene + analysis), which the frames no longer repeat."""
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile

import fastviz
from fastviz._display import jpeg_bytes

from ._common import RATE, parse_size, test_signal

SECONDS = 30  # about the demo song's length


class PreparedFrame:
    """``Prepared.frame(t)`` at times never drawn before, on the bundled brain: one
    raster, no analysis (``fastviz.frame`` before issue 19 analysed every call). The
    promise: under 10 ms at 800 x 600."""

    params = [["640x480", "800x600", "1920x1080"]]
    param_names = ["size"]

    def setup(self, size):
        rng = np.random.default_rng(0)
        self.tmp = tempfile.TemporaryDirectory(prefix="fastviz-bench-")
        self.wav = Path(self.tmp.name) / "signal.wav"
        wavfile.write(self.wav, RATE, test_signal(SECONDS, rng))
        self.size = parse_size(size)
        self.prepared = fastviz.prepare(self.wav, size=self.size, progress=False)
        self.prepared.frame(0.0)  # warm-up: the kernel's compile (or cache load)
        last = self.prepared.duration - 1 / self.prepared.fps
        self.times = iter(np.tile(rng.uniform(0, last, 1000), 1000).tolist())

    def teardown(self, size):
        self.tmp.cleanup()

    def time_frame(self, size):
        self.prepared.frame(next(self.times))

    def time_preview_redraw(self, size):
        jpeg_bytes(self.prepared.frame(next(self.times)))

    def time_prepare(self, size):
        fastviz.prepare(self.wav, size=self.size, progress=False)

    def peakmem_prepare(self, size):
        fastviz.prepare(self.wav, size=self.size, progress=False)
