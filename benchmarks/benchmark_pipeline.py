"""The whole pipeline: WAV -> envelopes -> frames (joblib threads) -> ffmpeg -> MP4."""
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile

import fastviz
from fastviz._execute import iter_frames
from fastviz._options import Options
from fastviz._plan import frame_values, make_renderer

from ._common import RATE, SIZES, ChildrenPeakMemory, parse_size, test_signal

SECONDS = 5  # 150 frames at 30 fps


class Render:
    """``fastviz.render(wav, mp4, size=...)`` of 5 s of audio on the bundled brain.

    Defaults otherwise: 30 fps, all cores, libx264 veryfast crf 20, AAC audio.
    ``track_ffmpeg_peakmem`` is the largest peak resident memory (VmHWM, polled) of the
    ffmpeg processes: the audio decoder for the analysis and the encoder.
    """

    params = [SIZES]
    param_names = ["size"]
    timeout = 300

    def setup(self, size):
        rng = np.random.default_rng(0)
        self.tmp = tempfile.TemporaryDirectory(prefix="fastviz-bench-")
        self.wav = Path(self.tmp.name) / "signal.wav"
        self.mp4 = Path(self.tmp.name) / "out.mp4"
        wavfile.write(self.wav, RATE, test_signal(SECONDS, rng))
        short = Path(self.tmp.name) / "short.wav"
        wavfile.write(short, RATE, test_signal(0.2, rng))
        # warm-up: kernel compile (or cache load), lazy imports, joblib's pool
        fastviz.render(short, self.mp4, size=(64, 48), progress=False, overwrite=True)
        self.size = parse_size(size)

    def teardown(self, size):
        self.tmp.cleanup()

    def _render(self):
        # stretched, with the post's dots: the scene of the earlier results
        fastviz.render(self.wav, self.mp4, size=self.size, progress=False, overwrite=True,
                       fit="stretch", dot_size=100.0)

    def time_render(self, size):
        self._render()

    def peakmem_render(self, size):
        self._render()

    def track_ffmpeg_peakmem(self, size):
        with ChildrenPeakMemory() as memory:
            self._render()
        return memory.peak_mb

    track_ffmpeg_peakmem.unit = "MB"


class RenderFrames:
    """``iter_frames`` alone for the 150 frames of ``Render``: the raster stage with
    its joblib threads, NV12 as ``render`` draws them, no analysis and no encoder;
    ``Render`` minus this is the rest."""

    params = [SIZES]
    param_names = ["size"]
    timeout = 300

    def setup(self, size):
        rng = np.random.default_rng(0)
        self.renderer = make_renderer(Options(size=parse_size(size)))
        env = fastviz.audio_envelopes(test_signal(SECONDS, rng), RATE)
        bands = fastviz.electrode_bands(self.renderer.ys, len(env.freqs))
        self.amplitudes = env.scaled()[bands]
        self.rate = env.rate
        self.n_frames = SECONDS * 30
        self._consume()  # warm-up: kernel and joblib's threads

    def _consume(self):
        def values(first, stop):
            return frame_values(self.amplitudes, self.rate, 30, first, stop)

        for _ in iter_frames(self.renderer, values, self.n_frames):
            pass

    def time_iter_frames(self, size):
        self._consume()

    def peakmem_iter_frames(self, size):
        self._consume()
