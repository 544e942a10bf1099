"""Peak memory of a batch against its number of failing files: it must stay flat.

    python benchmarks/batch_memory.py --files 0,100,500

Each point is one ``python -m fastviz render DIR --outdir OUT -q`` over N zero-byte
``.wav`` files and one good 1 s tone (the bundled scene, one file after another), and
its peak RSS (``ru_maxrss`` of the child). The slope, kB per failed file, is the
measure: a failed file's outcome used to keep its traceback, and with it the failed
render's scene (issue 16: 3.6 MB a file, 7.45 GB for 2,000 files). Run it against
another checkout with ``PYTHONPATH=that/checkout``.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile


def peak_mb(n_files):
    """Peak RSS in MB of a batch of ``n_files`` bad files and a good one, in a child."""
    with tempfile.TemporaryDirectory(prefix="fastviz-batch-memory-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for i in range(n_files):
            (folder / f"bad{i:05d}.wav").write_bytes(b"")
        t = np.arange(44100) / 44100
        wavfile.write(folder / "good.wav", 44100,
                      (0.5 * np.sin(2 * np.pi * 800 * t)).astype(np.float32))
        # measured by a wrapper process: ru_maxrss of children is the largest one's
        wrapper = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], "
                   "capture_output=True, text=True); sys.stderr.write(done.stderr); "
                   "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        done = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "fastviz",
                               "render", str(folder), "--outdir", str(Path(tmp) / "out"),
                               "-q", "--preset", "ultrafast"], capture_output=True,
                              text=True, cwd=tmp)  # -m puts the working folder first
        assert (Path(tmp) / "out" / "good.mp4").is_file(), done.stderr[-2000:]
        return int(done.stdout.split()[-1]) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="0,100,500",
                        help="failing files per point (default: %(default)s)")
    counts = [int(n) for n in parser.parse_args().files.split(",")]
    peaks = [peak_mb(n) for n in counts]
    for n, peak in zip(counts, peaks):
        print(f"{n:6d} failed files: peak RSS {peak:8.1f} MB")
    if len(counts) > 1:
        slope = (peaks[-1] - peaks[0]) / (counts[-1] - counts[0])
        print(f"{slope * 1000:.0f} kB per failed file")


if __name__ == "__main__":
    main()
