"""Analysis stage: audio samples -> per-band amplitude envelopes (MNE resample + Morlet)."""
import os

import numpy as np
from scipy.io import wavfile

from fastviz import audio_envelopes

from ._common import RATE, test_signal

SECONDS = [10, 60, 180]


class AudioEnvelopes:
    """``audio_envelopes(samples, 44100)`` on seeded noise of a given length."""

    params = [SECONDS]
    param_names = ["seconds"]
    timeout = 120

    def setup(self, seconds):
        rng = np.random.default_rng(0)
        self.samples = 0.1 * rng.standard_normal(seconds * RATE, dtype=np.float32)
        audio_envelopes(self.samples[:RATE], RATE)  # warm-up: MNE's lazy imports

    def time_audio_envelopes(self, seconds):
        audio_envelopes(self.samples, RATE)

    def peakmem_audio_envelopes(self, seconds):
        audio_envelopes(self.samples, RATE)


class AudioEnvelopesFile:
    """``audio_envelopes(path)`` on a 44.1 kHz 16-bit WAV, decoded by ffmpeg as ``render``
    does, in blocks: memory should not grow with the length."""

    params = [SECONDS]
    param_names = ["seconds"]
    timeout = 120

    def setup_cache(self):
        # In its own process (asv's), so making the signal does not count in peakmem;
        # the cwd is a temporary directory asv removes afterwards.
        rng = np.random.default_rng(0)
        paths = {}
        for seconds in SECONDS:
            paths[seconds] = os.path.abspath(f"signal-{seconds}s.wav")
            samples = test_signal(seconds, rng)
            wavfile.write(paths[seconds], RATE, (samples * 32767).astype(np.int16))
        return paths

    def setup(self, paths, seconds):
        audio_envelopes(paths[seconds], duration=1.0)  # warm-up: MNE's lazy imports

    def time_audio_envelopes_file(self, paths, seconds):
        audio_envelopes(paths[seconds])

    def peakmem_audio_envelopes_file(self, paths, seconds):
        audio_envelopes(paths[seconds])
