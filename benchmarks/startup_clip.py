"""First and later runs of the ``fastviz`` command on a 5 s clip: imports, compile, render.

    python benchmarks/startup_clip.py [--runs 8] [--fastviz PATH]

The clip is the first 5 s of the demo's song (16-bit WAV) on the bundled scene
(800 x 600). The first run gets a new empty ``NUMBA_CACHE_DIR``, so it compiles the
kernels as the first run after an install does; the later runs reuse that directory.
Wall time of the whole process, as a shell's ``time`` shows it.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from fastviz._demo import jingle_bells


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--fastviz", default=shutil.which("fastviz"),
                        help="the command to time (default: fastviz on PATH)")
    args = parser.parse_args()
    if not args.fastviz:
        sys.exit("error: no fastviz command on PATH; pip install . first")
    with tempfile.TemporaryDirectory(prefix="fastviz-startup-") as name:
        tmp = Path(name)
        samples, rate = jingle_bells()
        wavfile.write(tmp / "five.wav", rate, (samples[:5 * rate] * 32767).astype(np.int16))
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp / "numba-cache"))
        command = [args.fastviz, "render", str(tmp / "five.wav"), "-o", str(tmp / "five.mp4"),
                   "-y", "-q"]
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(command, env=env, check=True)
            times.append(time.perf_counter() - start)
    later = times[1:]
    print(f"command: {' '.join(command[:1])} render five.wav -o five.mp4 -y -q")
    print(f"first run (empty numba cache): {times[0]:.2f} s")
    if later:
        print(f"later runs: {' '.join(f'{t:.2f}' for t in later)} s; "
              f"median {np.median(later):.2f} s")


if __name__ == "__main__":
    main()
