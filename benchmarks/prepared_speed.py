"""A prepared render's frame at a new time, and how fast a cancel stops a render.

    python benchmarks/prepared_speed.py [--frames 200] [--size 800x600]

The demo song (33 s) on the bundled brain at 800 x 600:

- ``Prepared.frame(t)`` at times never drawn before (one raster), against
  ``fastviz.frame(song, t)`` (the analysis again each call, as before issue 19), and
  the preview slider's redraw (the frame, then its JPEG), interleaved, medians;
- cancel latency: from the moment the condition a ``cancel()`` asks turns true (the
  progress callable reports the phase under way) to ``Cancelled`` raised, during the
  analysis and during the encode (60 s of noise), medians of a few stops.

Medians of interleaved repeats, so the machine's noise hits every contender alike.
"""
import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from scipy.io import wavfile

import fastviz
from fastviz._display import jpeg_bytes


def cancel_latency(wav, phase, size, repeats):
    """Seconds from cancel turning true to ``Cancelled``, in ``phase``."""
    delays = []
    for _ in range(repeats):
        turned = []  # when the stop button was pressed, so to say
        began = threading.Event()

        def progress(done, total, left, began=began, turned=turned):
            if (total is None) == (phase == "analysis") and done > 0 and not turned:
                turned.append(time.perf_counter())
                began.set()

        with tempfile.TemporaryDirectory() as tmp:
            try:
                fastviz.render(wav, Path(tmp) / "o.mp4", size=size, progress=progress,
                               cancel=began.is_set, preset="ultrafast")
            except fastviz.Cancelled:
                delays.append(time.perf_counter() - turned[0])
    return delays


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--size", default="800x600")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="fastviz-bench-") as tmp:
        song = fastviz.demo_audio(Path(tmp) / "song.wav")
        started = time.perf_counter()
        prepared = fastviz.prepare(song, size=size, progress=False)
        prepare_s = time.perf_counter() - started
        prepared.frame(0.0)  # warm-up: the kernel's compile (or cache load)
        times = rng.uniform(0, prepared.duration - 1 / prepared.fps, args.frames)
        frame_ms, preview_ms, again_ms = [], [], []
        for i, t in enumerate(times):
            started = time.perf_counter()
            prepared.frame(float(t))
            frame_ms.append((time.perf_counter() - started) * 1e3)
            started = time.perf_counter()
            jpeg_bytes(prepared.frame(float(t) + 1e-3))
            preview_ms.append((time.perf_counter() - started) * 1e3)
            if i < 10:  # a whole analysis each: a few are enough
                started = time.perf_counter()
                fastviz.frame(song, float(t), size=size, progress=False)
                again_ms.append((time.perf_counter() - started) * 1e3)
        print(f"{size[0]}x{size[1]}, the demo song ({prepared.duration:.0f} s, "
              f"{prepared.n_frames} frames): prepare {prepare_s:.2f} s (first call, "
              "imports included)")
        print(f"  Prepared.frame(t), new t:   median {np.median(frame_ms):6.2f} ms, "
              f"95th percentile {np.percentile(frame_ms, 95):6.2f} ms ({args.frames} times)")
        print(f"  preview redraw (frame+JPEG): median {np.median(preview_ms):6.2f} ms")
        print(f"  fastviz.frame(song, t):     median {np.median(again_ms):6.2f} ms "
              "(analyses every call)")
        noise = Path(tmp) / "noise.wav"
        wavfile.write(noise, 44100, (rng.standard_normal(60 * 44100) * 3000).astype(np.int16))
        for phase in ("analysis", "encode"):
            delays = cancel_latency(noise, phase, size, args.repeats)
            print(f"  cancel during the {phase:8s}: median {np.median(delays) * 1e3:5.0f} ms, "
                  f"worst {max(delays) * 1e3:5.0f} ms ({len(delays)} stops)")


if __name__ == "__main__":
    main()
