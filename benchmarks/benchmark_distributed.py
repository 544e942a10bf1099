"""The segmented render's own stages: one segment drawn and encoded, and the join.

No Dask here: a task is ``encode_segment`` and the driver's last step is
``join_segments``; what Dask adds (scheduling, transfers) is measured end to end by
``benchmarks/segments.py``.
"""
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from fastviz import FrameRenderer
from fastviz._distributed import encode_segment, join_segments, segment_bounds
from fastviz._output import output_spec

from ._common import (
    RATE,
    SIZES,
    ChildrenPeakMemory,
    background,
    electrodes,
    parse_size,
    smooth_values,
    test_signal,
)

N_ELECTRODES = 90
SEGMENT_FRAMES = 30  # one second at 30 fps
JOIN_SECONDS = 20


class Segment:
    """``encode_segment``: 30 frames (brain, 90 moving dots) drawn by one thread, as a
    Dask task does by default, and encoded video only into their own MP4.
    ``track_ffmpeg_peakmem`` is the encoder's peak resident memory (VmHWM, polled)."""

    params = [SIZES, ["ultrafast", "veryfast"]]
    param_names = ["size", "preset"]
    timeout = 180

    def setup(self, size, preset):
        rng = np.random.default_rng(0)
        size = parse_size(size)
        self.renderer = FrameRenderer(background(size), *electrodes(size, N_ELECTRODES, rng),
                                      dot_size=100)
        self.values = smooth_values(SEGMENT_FRAMES, N_ELECTRODES, rng)
        self.tmp = tempfile.TemporaryDirectory(prefix="fastviz-bench-")
        self.path = Path(self.tmp.name) / "segment.mp4"
        self._encode(preset, self.values[:2])  # warm-up: kernel and joblib

    def teardown(self, size, preset):
        self.tmp.cleanup()

    def _encode(self, preset, values=None):
        values = self.values if values is None else values
        spec = output_spec(self.path, self.renderer.nv12_size, 30, pixel_format="nv12",
                           preset=preset, overwrite=True, n_frames=len(values))
        encode_segment(self.renderer, values, spec, jobs=1)

    def time_encode_segment(self, size, preset):
        self._encode(preset)

    def peakmem_encode_segment(self, size, preset):
        self._encode(preset)

    def track_ffmpeg_peakmem(self, size, preset):
        with ChildrenPeakMemory() as memory:
            self._encode(preset)
        return memory.peak_mb

    track_ffmpeg_peakmem.unit = "MB"


class Join:
    """``join_segments``: 20 s of 640 x 480 video (600 frames, veryfast) cut into 1 to
    30 segments, joined by stream copy, with the audio encoded to AAC and muxed in, or
    video only: the difference is the audio's share of the join."""

    params = [[1, 6, 30], [True, False]]
    param_names = ["segments", "audio"]
    timeout = 300

    def setup(self, segments, audio):
        rng = np.random.default_rng(0)
        size = parse_size("640x480")
        renderer = FrameRenderer(background(size), *electrodes(size, N_ELECTRODES, rng),
                                 dot_size=100)
        values = smooth_values(JOIN_SECONDS * 30, N_ELECTRODES, rng)
        self.tmp = tempfile.TemporaryDirectory(prefix="fastviz-bench-")
        tmp = Path(self.tmp.name)
        self.wav = tmp / "signal.wav"
        wavfile.write(self.wav, RATE, test_signal(JOIN_SECONDS, rng))
        self.parts = []
        for i, (first, stop) in enumerate(segment_bounds(len(values), segments)):
            spec = output_spec(tmp / f"part-{i}.mp4", renderer.nv12_size, 30,
                               pixel_format="nv12", overwrite=True, n_frames=stop - first)
            self.parts.append((encode_segment(renderer, values[first:stop], spec), stop - first))
        self.specs = {audio: output_spec(tmp / "joined.mp4", renderer.nv12_size, 30,
                                         pixel_format="nv12", overwrite=True,
                                         audio=self.wav if audio else None,
                                         n_frames=len(values))
                      for audio in (True, False)}

    def teardown(self, segments, audio):
        self.tmp.cleanup()

    def time_join(self, segments, audio):
        join_segments(self.parts, self.specs[audio])
