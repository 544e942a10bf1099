"""The analysis's time and peak memory by sampling, side by side with another checkout.

    python benchmarks/analysis_speed.py [--seconds 180 600] [--rounds 4]
                                        [--other /path/to/an/older/checkout]

For each length, a 44.1 kHz 16-bit WAV of ``_common.test_signal`` is written once; then,
round after round, each variant times ``fastviz.audio_envelopes(path, ...)`` in a fresh
process (a 1 s warm-up first, for MNE's lazy imports; then the median of 5 calls) and
reports its peak RSS (VmHWM). The variants: this checkout's ``sampling="interval"`` (the
default) and ``"instant"`` (the post's), and with ``--other`` that checkout's default,
imported through PYTHONPATH (a checkout from before ``sampling`` existed has only the
instants). The machine is shared: read the ratios within a round.
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.io import wavfile

sys.path.insert(0, str(Path(__file__).parent))  # run as a script, or found by asv
from _common import RATE, test_signal  # noqa: E402

# VmHWM, not getrusage: a child's ru_maxrss includes the parent's memory at the fork
CHILD = """
import sys, time
import numpy as np
import fastviz
path, sampling = sys.argv[1], sys.argv[2]
kw = {} if sampling == "default" else {"sampling": sampling}
fastviz.audio_envelopes(path, duration=1.0, **kw)
times = []
for _ in range(5):
    start = time.perf_counter()
    fastviz.audio_envelopes(path, **kw)
    times.append(time.perf_counter() - start)
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) / 1024
print(f"{np.median(times):.3f} {peak:.0f}")
"""


def run(path, sampling, pythonpath=None):
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath,
                                                           env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), sampling], env=env,
                          capture_output=True, text=True, check=True)
    seconds, peak = done.stdout.split()
    return float(seconds), float(peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[180.0, 600.0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--other", help="another checkout, timed at its defaults")
    args = parser.parse_args()
    variants = [("interval", "interval", None), ("instant", "instant", None)]
    if args.other:
        variants.append((f"other ({Path(args.other).name})", "default", args.other))
    with tempfile.TemporaryDirectory(prefix="fastviz-analysis-") as tmp:
        for seconds in args.seconds:
            path = Path(tmp) / f"signal-{seconds:g}s.wav"
            samples = test_signal(seconds, np.random.default_rng(0))
            wavfile.write(path, RATE, (samples * 32767).astype(np.int16))
            print(f"-- {seconds:g} s of audio: median s of 5 calls, peak RSS MB")
            for round_ in range(args.rounds):
                cells = []
                for name, sampling, pythonpath in variants:
                    took, peak = run(path, sampling, pythonpath)
                    cells.append(f"{name} {took:.3f} s {peak:.0f} MB")
                load = " ".join(f"{x:.1f}" for x in os.getloadavg())
                print(f"round {round_ + 1} (load {load}): " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
