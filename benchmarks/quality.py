"""Speed, size and quality of x264 settings on fastviz's own frames, against lossless.

    python benchmarks/quality.py [--seconds 10] [--presets ultrafast,superfast,...]
                                 [--crfs 18,20,...]

Two scenes: "compare" (compare.py's: the bundled brain at 1000 x 1000, 90 electrodes,
Jingle Bells looped) and "demo" (the demo as ``fastviz demo`` renders it, 800 x 600).
Each is drawn once into memory as NV12 (``FrameRenderer.frames_nv12`` of
``plan_render``'s values, what ``render`` encodes), then encoded losslessly (x264 CRF 0)
as the reference, then at every preset and CRF of the grid through fastviz's own
``VideoWriter`` (NV12 in, video only). Per point: wall s of the encode alone (frames
already drawn), MB of the file, and VMAF against the reference (the bundled ffmpeg's
libvmaf, default model; a build without libvmaf makes this script stop and say so).
Timings depend on the machine's cores; sizes and VMAF do not.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from compare import N_ELECTRODES, make_inputs  # noqa: E402

PRESETS = "ultrafast,superfast,veryfast,faster,medium"
CRFS = "18,20,22,24,26"


def scene_plans(tmp, seconds):
    """(name, Plan) of each scene, ``seconds`` long."""
    import compare

    from fastviz._demo import jingle_bells
    from fastviz._plan import options_from, plan_render

    compare.args = argparse.Namespace(seconds=seconds)
    make_inputs(tmp, seconds)
    compare_opts = options_from("render", dict(background=tmp / "brain.png",
                                               electrodes=tmp / "electrodes.csv",
                                               dot_size=100))  # compare.py's scene
    from scipy.io import wavfile

    samples, rate = jingle_bells()
    wavfile.write(tmp / "demo.wav", rate, np.resize(samples, int(seconds * rate)))
    return [(f"compare ({N_ELECTRODES} dots, 1000x1000)",
             plan_render(tmp / "song.wav", compare_opts)),
            ("demo (80 dots, 800x600)", plan_render(tmp / "demo.wav", options_from(
                "render", {})))]


def encode(frames, plan, out, preset, crf):
    """Wall seconds to encode ``frames`` (NV12, in memory) with fastviz's writer."""
    from fastviz import VideoWriter

    start = time.perf_counter()
    with VideoWriter(out, plan.renderer.nv12_size, plan.fps, preset=preset, crf=crf,
                     pixel_format="nv12", overwrite=True) as video:
        for first in range(0, len(frames), 16):
            video.write(frames[first:first + 16])
    return time.perf_counter() - start


def vmaf(ffmpeg, distorted, reference):
    """VMAF of ``distorted`` against ``reference`` (libvmaf's default model)."""
    proc = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(distorted), "-i",
                           str(reference), "-lavfi", "[0:v][1:v]libvmaf=n_threads=8",
                           "-f", "null", "-"], capture_output=True, text=True)
    found = re.search(r"VMAF score: ([\d.]+)", proc.stderr)
    if found is None:
        sys.exit(f"no VMAF from this ffmpeg (built without libvmaf?):\n{proc.stderr[-800:]}")
    return float(found.group(1))


def main():
    import imageio_ffmpeg

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--presets", default=PRESETS)
    parser.add_argument("--crfs", default=CRFS)
    args = parser.parse_args()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    grid = [(p, int(c)) for p in args.presets.split(",") for c in args.crfs.split(",")]
    print(f"{args.seconds:g} s at 30 fps, encode alone (frames drawn beforehand), "
          f"VMAF against x264 CRF 0 of the same frames")
    with tempfile.TemporaryDirectory(prefix="fastviz-quality-") as tmp:
        tmp = Path(tmp)
        for name, plan in scene_plans(tmp, args.seconds):
            frames = plan.renderer.frames_nv12(plan.values(0, plan.n_frames))
            reference = tmp / "reference.mp4"
            encode(frames, plan, reference, "ultrafast", 0)
            print(f"\n{name}, {plan.n_frames} frames")
            print("| preset | CRF | encode s | MB | VMAF |")
            print("|---|---|---|---|---|")
            for preset, crf in grid:
                out = tmp / "out.mp4"
                seconds = encode(frames, plan, out, preset, crf)
                print(f"| {preset} | {crf} | {seconds:.2f} | {out.stat().st_size / 1e6:.2f} "
                      f"| {vmaf(ffmpeg, out, reference):.1f} |", flush=True)


if __name__ == "__main__":
    main()
