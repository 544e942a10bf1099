"""asv benchmarks of two checkouts, timed side by side in one run: medians and their ratio.

asv compares commits by building an environment for each, which takes minutes and a
network; on a shared, noisy machine what matters is the ratio measured in the same
minutes. This runs ``time_*`` methods of this folder's asv classes under each checkout
(``PYTHONPATH``), in interleaved rounds, one fresh process a round (setup untimed):

    python benchmarks/side_by_side.py /path/to/old/checkout . \
        benchmark_pipeline.Render.time_render:1000x1000 \
        benchmark_pipeline.Frames.time_iter_frames:1000x1000 --rounds 7
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import importlib, json, sys, time
module, cls, method = sys.argv[1].rsplit(".", 2)
params = json.loads(sys.argv[2])
bench = getattr(importlib.import_module("benchmarks." + module), cls)()
bench.setup(*params)
try:
    start = time.perf_counter()
    getattr(bench, method)(*params)
    print(json.dumps(time.perf_counter() - start))
finally:
    if hasattr(bench, "teardown"):
        bench.teardown(*params)
"""


def timed(checkout, name, params):
    """Seconds of one call of benchmark ``name`` with ``params`` under ``checkout``."""
    env = dict(os.environ, PYTHONPATH=str(Path(checkout).resolve()))
    out = subprocess.run([sys.executable, "-c", CHILD, name, json.dumps(params)], env=env,
                         cwd=checkout, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("benchmarks", nargs="+",
                        help="module.Class.method[:param,param]")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print("command: python benchmarks/side_by_side.py " + " ".join(sys.argv[1:]))
    print(f"{'benchmark':<58} {'before ms':>10} {'after ms':>9} {'after/before':>13}")
    for spec in args.benchmarks:
        name, _, params = spec.partition(":")
        params = params.split(",") if params else []
        times = {args.before: [], args.after: []}
        for _ in range(args.rounds):  # interleaved: both see the same load
            for checkout in (args.before, args.after):
                times[checkout].append(timed(checkout, name, params))
        before, after = (statistics.median(times[c]) for c in (args.before, args.after))
        print(f"{spec:<58} {before * 1e3:>10.1f} {after * 1e3:>9.1f} {after / before:>13.3f}",
              flush=True)


if __name__ == "__main__":
    main()
