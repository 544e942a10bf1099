"""What the suites share: inputs (background, electrodes, test signal), and the peak
memory of child processes.

Not a suite (asv collects only ``time_``/``peakmem_``/``track_``/``timeraw_`` names).
"""
import os
import threading

import numpy as np

from fastviz import load_background
from fastviz._demo import demo_scene

RATE = 44100
SIZES = ["640x480", "1000x1000", "1920x1080"]


def parse_size(text):
    """``"640x480"`` -> ``(640, 480)`` (width, height)."""
    width, height = (int(v) for v in text.split("x"))
    return width, height


def background(size):
    """The bundled brain picture resized to ``size``: a real picture for the encoder."""
    return load_background(demo_scene()[0], size)


def electrodes(size, n, rng):
    """``n`` electrode centres (x, y) in pixels, in the middle 60% of the frame."""
    width, height = size
    return rng.uniform(0.2, 0.8, n) * width, rng.uniform(0.2, 0.8, n) * height


def smooth_values(n_frames, n_electrodes, rng, fps=30):
    """Amplitudes in 0..1 that move like envelopes do (a few Hz), frame by frame."""
    t = np.arange(n_frames)[:, None] / fps
    freq = rng.uniform(0.5, 3.0, n_electrodes)
    phase = rng.uniform(0, 2 * np.pi, n_electrodes)
    return 0.5 + 0.5 * np.sin(2 * np.pi * freq * t + phase)


def test_signal(seconds, rng, rate=RATE):
    """Float32 audio: tones from 400 to 6000 Hz swelling at 1-4 Hz, plus quiet noise."""
    t = np.arange(int(seconds * rate)) / rate
    out = 0.02 * rng.standard_normal(len(t))
    for f in np.logspace(np.log10(400), np.log10(6000), 10):
        swell = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1, 4) * t + rng.uniform(0, 6))
        out += 0.08 * swell * np.sin(2 * np.pi * f * t)
    return out.astype(np.float32)


def vm_hwm_mb(pid="self"):
    """Peak resident memory (VmHWM) of a live process in MB, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class ChildrenPeakMemory(threading.Thread):
    """``with ChildrenPeakMemory() as mem: ...``; then ``mem.peak_mb`` is the largest
    VmHWM among this process's children (ffmpeg), polled from /proc every 20 ms.

    Not ``getrusage(RUSAGE_CHILDREN)``: on Linux a child's ru_maxrss includes the RSS
    its parent had when it was spawned, so ffmpeg would report the benchmark's memory.
    """

    def __init__(self, interval=0.02):
        super().__init__(daemon=True)
        self.interval, self.peak_mb, self._done = interval, 0.0, threading.Event()

    def _children(self):
        pids = []
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/children") as f:
                    pids += f.read().split()
            except OSError:
                pass
        return pids

    def run(self):
        while not self._done.wait(self.interval):
            self.peak_mb = max([self.peak_mb, *map(vm_hwm_mb, self._children())])

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self.join()
