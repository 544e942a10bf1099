"""One stream against segments on a local Dask cluster; the join against the segment count.

    python benchmarks/segments.py [--seconds 180] [--size 1000x1000] [--workers 2]
                                     [--join-segments 1 6 30 180] [--preset veryfast]

Input: the demo's Jingle Bells looped to the length (44.1 kHz 16-bit WAV), the bundled
scene at the size, 30 fps, crf 20. The analysis runs once (``plan_render``); then, in
this process:

- one stream: ``write_video`` (joblib threads, one ffmpeg);
- segments: ``render_segments`` on a ``LocalCluster`` of ``--workers`` one-thread worker
  processes (started before, timed apart), default segment count, the join included.
  Per worker: its peak RSS (VmHWM) and the peak RSS of the worker with its ffmpeg child,
  summed and sampled from /proc every 0.1 s;
- the join alone: for each count, the video encoded (here, one segment after another)
  as that many segments with ``encode_segment``, then ``join_segments`` with the audio
  timed; the encode's time shows what each extra segment costs x264.

Wall times on a shared 2-core machine: read the ratios.
"""
import argparse
import os
import shlex
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from fastviz._demo import jingle_bells
from fastviz._distributed import (
    connect,
    count_segments,
    encode_segment,
    join_segments,
    render_segments,
    segment_bounds,
)
from fastviz._execute import Run, write_video
from fastviz._options import Options
from fastviz._output import output_spec, retarget
from fastviz._plan import resolve

PAGE_KB = 4


def hide_this_folder():
    """Run as a script, this file's folder heads ``sys.path``, and this file's name would
    stand for the ``distributed`` package in every later import: take the folder off."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]


def vm_hwm_mb(pid="self"):
    """Peak resident memory (VmHWM) of a live process in MB (as ``_common.vm_hwm_mb``,
    which this script cannot import once its folder is off the path)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid):
    """Resident memory in MB of ``pid`` now, 0 once it is gone."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB / 1024
    except OSError:
        return 0.0


def children(pid):
    pids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


class TreePeaks(threading.Thread):
    """Peak summed RSS of each of ``pids`` with its children, sampled every 0.1 s."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.peaks = dict.fromkeys(pids, 0.0)
        self._done = threading.Event()

    def run(self):
        while not self._done.wait(0.1):
            for pid in self.peaks:
                total = rss_mb(pid) + sum(map(rss_mb, children(pid)))
                self.peaks[pid] = max(self.peaks[pid], total)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self.join()


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--size", default="1000x1000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--join-segments", type=int, nargs="+", default=[1, 6, 30, 180])
    parser.add_argument("--preset", default="veryfast")
    args = parser.parse_args()
    hide_this_folder()
    size = tuple(int(v) for v in args.size.split("x"))
    print("command: python " + shlex.join(["benchmarks/segments.py", *sys.argv[1:]]))
    print(f"{args.seconds:g} s at {args.size}, 30 fps, {args.preset} crf 20, "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="fastviz-dist-") as name:
        tmp = Path(name)
        song, rate = jingle_bells()
        wav = tmp / "song.wav"
        pcm = np.resize(song, int(args.seconds * rate)) * 32767
        wavfile.write(wav, rate, pcm.astype(np.int16))
        # the scene the README's numbers were measured on: stretched, the post's dots
        options = Options(size=size, preset=args.preset, progress=False, overwrite=True,
                          fit="stretch", dot_size=100.0)
        plan, spec = resolve(wav, tmp / "single.mp4", options)
        n = plan.n_frames
        run = Run(progress=False)

        print(f"\n{'run':<36} {'wall s':>7} {'frames/s':>9}")
        wall, _ = timed(write_video, plan, spec, run)
        print(f"{'one stream (write_video)':<36} {wall:>7.1f} {n / wall:>9.1f}", flush=True)
        begin = time.perf_counter()
        with connect(scheduler=f"local:{args.workers}") as client:
            start = time.perf_counter() - begin
            print(f"{f'LocalCluster start, {args.workers} workers':<36} {start:>7.1f}")
            pids = list(client.run(os.getpid).values())
            with TreePeaks(pids) as trees:
                wall, _ = timed(render_segments, plan, retarget(spec, tmp / "segments.mp4"),
                                run, client=client)
            python = [vm_hwm_mb(pid) for pid in pids]
        n_segments = count_segments(n, plan.fps, args.workers)
        label = f"segments ({n_segments}), join included"
        print(f"{label:<36} {wall:>7.1f} {n / wall:>9.1f}")
        print(f"{'  + cluster start':<36} {wall + start:>7.1f} {n / (wall + start):>9.1f}")
        for i, (pid, py) in enumerate(zip(pids, python)):
            print(f"  worker {i}: peak {py:.0f} MB Python, {trees.peaks[pid]:.0f} MB with "
                  "its ffmpeg")
        print(f"  driver: peak {vm_hwm_mb():.0f} MB (both runs)")

        print(f"\n{'segments':>8} {'encode s':>9} {'join s':>7} {'MB':>6}")
        for count in args.join_segments:
            bounds = segment_bounds(n, count)
            parts = [(tmp / f"part-{i:05d}.mp4", stop - first)
                     for i, (first, stop) in enumerate(bounds)]
            encode = 0.0
            for (path, _), (first, stop) in zip(parts, bounds):
                encode += timed(encode_segment, plan.renderer, plan.values(first, stop),
                                spec.video_only(path, stop - first))[0]
            join, out = timed(join_segments, parts, output_spec(
                tmp / "joined.mp4", plan.renderer.nv12_size, plan.fps, audio=wav,
                pixel_format="nv12", overwrite=True, n_frames=n))
            print(f"{len(bounds):>8} {encode:>9.1f} {join:>7.2f} "
                  f"{out.stat().st_size / 1e6:>6.1f}", flush=True)
            for path, _ in parts:
                path.unlink()


if __name__ == "__main__":
    main()
