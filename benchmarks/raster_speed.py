"""Frame drawing, side by side: fastviz's kernel against matplotlib, threads, the floor.

    python benchmarks/raster_speed.py [--frames 200] [--size 1000] [--electrodes 90 130]

Same scene both ways (1000 x 1000 background, electrodes at random positions, values
drawn uniformly in 0..1 so dots span the post's size range, up to 100 points across).
Timings are medians of interleaved repeats, so machine noise hits all contenders alike.
"""
import argparse
import os
import time

import numpy as np
from joblib import Parallel, delayed

from fastviz import FrameRenderer
from fastviz._kernels import _render_frames


def matplotlib_drawer(background, xs, ys, lut):
    """The post's drawing: imshow + scatter in a figure 10 inches wide, reused."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    h, w = background.shape[:2]
    fig = Figure(figsize=(10, 10 * h / w), dpi=w / 10)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    ax.imshow(background, interpolation="nearest")
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    dots = ax.scatter(xs, ys, s=1, linewidths=0)

    def draw(values):
        dots.set_sizes((np.clip(values, 0.01, 1) * 100) ** 2)
        dots.set_facecolors(lut[np.minimum((values * len(lut)).astype(int), len(lut) - 1)])
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()

    return draw


def median_ms(fn, n_frames, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) / n_frames * 1e3)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=128)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--electrodes", type=int, nargs="+", default=[90, 130])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    size = args.size
    background = rng.integers(60, 200, (size, size, 3)).astype(np.uint8)
    print(f"{os.cpu_count()} cores; {size} x {size}; {args.frames} frames a repeat; "
          f"median of {args.repeats} interleaved repeats; ms per frame")
    print(f"{'electrodes':>10} {'copy floor':>10} {'fastviz 1t':>10} {'fastviz 2t':>10} "
          f"{'nv12 1t':>8} {'matplotlib':>10} {'mpl/1t':>7} {'1t/2t':>6} {'1t-copy':>8}")
    parallel = Parallel(n_jobs=2, backend="threading")
    parallel.__enter__()  # one pool for all calls, as iter_frames holds one per render
    for n in args.electrodes:
        xs, ys = rng.uniform(0, size, n), rng.uniform(0, size, n)
        values = rng.uniform(0, 1, (args.frames, n))
        renderer = FrameRenderer(background, xs, ys, dot_size=100)  # the post's range
        lut = renderer.lut.copy()
        lut[:, :3] /= 255
        draw = matplotlib_drawer(background, xs, ys, lut)
        out = np.empty((args.frames, size, size, 3), np.uint8)
        renderer.frames(values[:2], out[:2])  # compile / warm up
        nv12 = renderer.frames_nv12(values)
        nothing = np.full((args.frames, n), np.nan)
        chunk = 8

        def one_thread():
            renderer.frames(values, out)

        def two_threads():  # the pipeline's path: chunks on a joblib pool kept open
            parallel(delayed(renderer.frames)(values[i:i + chunk], out[i:i + chunk])
                     for i in range(0, args.frames, chunk))

        def copy_floor():  # the kernel with no dots: the background copy only
            _render_frames(out, renderer.background, renderer.xs, renderer.ys, nothing,
                           nothing, renderer.lut)

        def one_thread_nv12():  # what the video pipeline draws
            renderer.frames_nv12(values, nv12)

        def with_matplotlib():
            for v in values[:16]:
                draw(v)

        results = {name: [] for name in ("copy", "1t", "2t", "nv12", "mpl")}
        for _ in range(args.repeats):  # interleaved, so noise hits all alike
            results["copy"].append(median_ms(copy_floor, args.frames, 1))
            results["1t"].append(median_ms(one_thread, args.frames, 1))
            results["2t"].append(median_ms(two_threads, args.frames, 1))
            results["nv12"].append(median_ms(one_thread_nv12, args.frames, 1))
            results["mpl"].append(median_ms(with_matplotlib, 16, 1))
        m = {k: float(np.median(v)) for k, v in results.items()}
        print(f"{n:>10} {m['copy']:>10.3f} {m['1t']:>10.3f} {m['2t']:>10.3f} "
              f"{m['nv12']:>8.3f} {m['mpl']:>10.2f} {m['mpl'] / m['1t']:>7.1f} "
              f"{m['1t'] / m['2t']:>6.2f} "
              f"{m['1t'] - m['copy']:>8.3f}")
    parallel.__exit__(None, None, None)


if __name__ == "__main__":
    main()
