"""Time and peak memory of `fastviz render` as the audio gets longer.

    python benchmarks/long_audio.py [--minutes 1 10 60] [-- extra fastviz options]

For each length, Jingle Bells is looped into a 16-bit mono WAV of that length and
`fastviz render` runs in a child process. Memory is the peak, over samples taken every
0.1 s, of the summed resident set size (RSS) of the fastviz process and all its
descendants (ffmpeg), read from /proc: what the machine had to hold at once.
"""
import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from fastviz._demo import jingle_bells

PAGE_KB = 4


def tree_rss_mb(pid):
    """Summed RSS in MB of ``pid`` and its descendants."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE_KB
        except OSError:
            pass
    return total / 1024


def run(wav, out, extra):
    cmd = [sys.executable, "-m", "fastviz", "render", str(wav), "-o", str(out), "-y",
           "-q", *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_rss_mb(proc.pid))
        time.sleep(0.1)
    if proc.returncode:
        raise SystemExit(f"fastviz failed: {' '.join(cmd)}")
    return time.perf_counter() - start, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    parser.add_argument("extra", nargs="*", help="options passed to fastviz render")
    args = parser.parse_args()
    song, rate = jingle_bells()
    print(f"fastviz render {' '.join(args.extra)}; peak = summed RSS of fastviz + ffmpeg")
    print(f"{'minutes':>8} {'wall s':>8} {'frames/s':>9} {'x real time':>12} {'peak MB':>8}")
    with tempfile.TemporaryDirectory(prefix="fastviz-long-") as tmp:
        for minutes in args.minutes:
            n = int(minutes * 60 * rate)
            pcm = (np.resize(song, n) * 32767).astype(np.int16)
            wav = Path(tmp) / f"{minutes:g}min.wav"
            wavfile.write(wav, rate, pcm)
            del pcm
            wall, peak = run(wav, Path(tmp) / "out.mp4", args.extra)
            frames = np.ceil(minutes * 60 * 30)  # the default 30 fps
            print(f"{minutes:>8g} {wall:>8.1f} {frames / wall:>9.1f} "
                  f"{minutes * 60 / wall:>12.2f} {peak:>8.0f}", flush=True)
            wav.unlink()


if __name__ == "__main__":
    main()
