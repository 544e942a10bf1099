"""fastviz against the post's matplotlib + moviepy pipeline, the encoder alone, and showcqt.

    python benchmarks/compare.py [--quick]     # quick: 20 s of audio instead of 180 s

Input for every run: the demo's Jingle Bells looped to the length (44.1 kHz 16-bit WAV),
the bundled brain resized to 1000 x 1000 with Pillow, its 80 electrodes scaled to it
plus 10 seeded random ones (90), 30 fps. Each run is a child process of this script
(``compare.py --child KIND``), started one after the other.

Measured, per run: wall s = the child's lifetime seen from here (interpreter start,
imports, analysis, drawing, encoding); frames/s = frames in the MP4 (ffmpeg's count) /
wall s; x real = audio s / wall s; peak MB = the RSS of the child plus all its
descendants (ffmpeg) at one instant, sampled from /proc every 0.1 s; py MB, ffmpeg MB =
their own peaks (VmHWM: the child's, the largest ffmpeg's). showcqt counts ffmpeg only.
Not getrusage: on Linux a child's ru_maxrss includes the RSS of the Python process that
spawned it (the pre-exec high-water mark), so ffmpeg would show Python's memory too.
"""
import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SIZE, FPS, N_ELECTRODES, RATE = 1000, 30, 90, 44100
ANALYSIS_SECONDS = 180
CYCLE = 30  # distinct frames the encoder floor cycles through
RUNS = [  # (label, kind, preset; None = fastviz's default)
    ("post: matplotlib + moviepy, medium", "post", "medium"),
    ("encoder floor, veryfast", "floor", "veryfast"),
    ("encoder floor, medium", "floor", "medium"),
    ("ffmpeg showcqt, veryfast", "showcqt", "veryfast"),
    ("fastviz, default (veryfast)", "fastviz", None),
    ("fastviz, ultrafast", "fastviz", "ultrafast"),
    ("fastviz, medium", "fastviz", "medium"),
]


def make_inputs(tmp, seconds):
    """Write song.wav, song180.wav (looped Jingle Bells), brain.png, electrodes.csv."""
    from PIL import Image
    from scipy.io import wavfile

    from fastviz import load_electrodes
    from fastviz._demo import demo_scene, jingle_bells

    samples, rate = jingle_bells(RATE)
    for name, length in (("song.wav", seconds), ("song180.wav", ANALYSIS_SECONDS)):
        looped = np.resize(samples, int(length * rate))  # repeats the song to the length
        wavfile.write(tmp / name, rate, (looped * 32767).astype(np.int16))
    picture, table = demo_scene()
    with Image.open(picture) as im:
        width, height = im.size
        im.convert("RGB").resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(tmp / "brain.png")
    xs, ys = load_electrodes(table)
    xs, ys = (xs + .5) * SIZE / width - .5, (ys + .5) * SIZE / height - .5
    rng = np.random.default_rng(0)
    extra = N_ELECTRODES - len(xs)
    xs = np.r_[xs, rng.uniform(xs.min(), xs.max(), extra)]
    ys = np.r_[ys, rng.uniform(ys.min(), ys.max(), extra)]
    rows = [f"E{i},{x:.2f},{y:.2f}" for i, (x, y) in enumerate(zip(xs, ys))]
    (tmp / "electrodes.csv").write_text("\n".join(["name,x_2d,y_2d", *rows]) + "\n")


def amplitudes(wav, ys, **kwargs):
    """The post's analysis, with fastviz's functions: (n_electrodes, n_times), rate, s."""
    import fastviz

    env = fastviz.audio_envelopes(wav, **kwargs)
    bands = fastviz.electrode_bands(ys, len(env.freqs))
    return fastviz.scale_minmax(env.values)[bands], env.rate, env.duration


def child_post(tmp, out, preset):
    """The post rebuilt: one Agg figure reused, scatter updated, moviepy writing."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from moviepy import AudioFileClip, VideoClip
    from PIL import Image

    from fastviz import load_electrodes
    from fastviz._raster import post_colormap

    start = time.perf_counter()
    xs, ys = load_electrodes(tmp / "electrodes.csv")
    amps, rate, duration = amplitudes(tmp / "song.wav", ys)
    analysis = time.perf_counter() - start
    fig = plt.figure(figsize=(10, 10), dpi=100)  # 1000 x 1000 pixels
    ax = fig.add_axes([0, 0, 1, 1])
    ax.imshow(np.asarray(Image.open(tmp / "brain.png").convert("RGB")))
    dots = ax.scatter(xs, ys, s=np.ones(len(xs)), c=np.zeros(len(xs)),
                      cmap=ListedColormap(post_colormap()), vmin=0, vmax=1)
    ax.set_xlim(-.5, SIZE - .5)
    ax.set_ylim(SIZE - .5, -.5)
    ax.axis("off")

    def frame(t):
        a = amps[:, min(int(t * rate), amps.shape[1] - 1)]
        dots.set_sizes((np.clip(a, .01, None) * 100) ** 2)
        dots.set_array(a)
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()

    audio = AudioFileClip(str(tmp / "song.wav"))
    clip = VideoClip(frame_function=frame, duration=duration).with_audio(audio)
    clip.write_videofile(str(out), fps=FPS, codec="libx264", preset=preset,
                         audio_codec="aac", temp_audiofile_path=str(tmp), logger=None)
    audio.close()
    return {"analysis_s": analysis}


def child_floor(tmp, out, preset):
    """fastviz's VideoWriter (its ffmpeg command, NV12 in) fed a cycle of frames drawn
    before it starts."""
    import fastviz

    xs, ys = fastviz.load_electrodes(tmp / "electrodes.csv")
    amps, rate, _ = amplitudes(tmp / "song.wav", ys, duration=CYCLE / FPS)
    renderer = fastviz.FrameRenderer(tmp / "brain.png", xs, ys)
    frames = renderer.frames_nv12(fastviz.values_at(amps, rate, np.arange(CYCLE) / FPS))
    with fastviz.VideoWriter(out, (SIZE, SIZE), FPS, audio=tmp / "song.wav",
                             preset=preset, pixel_format="nv12", overwrite=True) as video:
        for i in range(math.ceil(args.seconds * FPS)):
            video.write(frames[i % CYCLE])
    return {}


def child_showcqt(tmp, out, preset):
    """ffmpeg's constant-Q spectrum video, with fastviz's encoder settings."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error",
                    "-i", str(tmp / "song.wav"), "-filter_complex",
                    f"[0:a]showcqt=s={SIZE}x{SIZE}:r={FPS}[v]", "-map", "[v]",
                    "-map", "0:a", "-c:v", "libx264", "-preset", preset, "-crf", "20",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k",
                    "-movflags", "+faststart", "-y", str(out)], check=True)
    return {}


def child_fastviz(tmp, out, preset):
    import fastviz

    fastviz.render(tmp / "song.wav", out, background=tmp / "brain.png",
                   electrodes=tmp / "electrodes.csv", progress=False, overwrite=True,
                   **({} if preset is None else {"preset": preset}))
    return {}


def run_child(kind, preset, tmp):
    cmd = [sys.executable, __file__, "--child", kind, "--tmp", str(tmp),
           "--seconds", str(args.seconds)] + (["--preset", preset] if preset else [])
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"FAILED: {' '.join(cmd)}\n{proc.stderr[-3000:]}", file=sys.stderr)
        return None
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]), wall_s=wall)


def main():
    import imageio_ffmpeg

    import fastviz

    print(f"command: python {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores (nproc), {platform.platform()}, "
          f"Python {platform.python_version()}, ffmpeg {imageio_ffmpeg.get_ffmpeg_version()}")
    print(f"input: {args.seconds:g} s of Jingle Bells (looped), {SIZE}x{SIZE}, "
          f"{N_ELECTRODES} electrodes, {FPS} fps; encoder floor cycles {CYCLE} distinct "
          "pre-rendered frames; post keeps moviepy's default crf (23), others crf 20\n")
    rows, failed = {}, False
    with tempfile.TemporaryDirectory(prefix="fastviz-compare-") as name:
        tmp = Path(name)
        make_inputs(tmp, args.seconds)
        print(f"{'run':<36}{'wall s':>9}{'frames/s':>10}{'x real':>8}{'peak MB':>9}"
              f"{'py MB':>7}{'ffmpeg MB':>11}", flush=True)
        for label, kind, preset in RUNS:
            r = run_child(kind, preset, tmp)
            if r is None:
                failed = True
                print(f"{label:<36}  FAILED", flush=True)
                continue
            out = tmp / f"{kind}-{preset}.mp4"
            n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
            out.unlink()
            rows[label] = r
            print(f"{label:<36}{r['wall_s']:9.1f}{n_frames / r['wall_s']:10.1f}"
                  f"{args.seconds / r['wall_s']:8.2f}{r['peak_mb']:9.0f}{r['py_mb']:7.0f}"
                  f"{r['ffmpeg_mb']:11.0f}", flush=True)
        fastviz.audio_envelopes(tmp / "song180.wav", duration=1.0)  # warm-up
        start = time.perf_counter()
        fastviz.audio_envelopes(tmp / "song180.wav")
        analysis = time.perf_counter() - start
    print()

    def ratio(text, a, b):
        if a in rows and b in rows:
            print(f"{text:<58}{rows[a]['wall_s'] / rows[b]['wall_s']:6.2f}x")

    fv, post = "fastviz, default (veryfast)", "post: matplotlib + moviepy, medium"
    ratio("fastviz default / encoder floor veryfast (wall)", fv, "encoder floor, veryfast")
    ratio("fastviz medium / encoder floor medium (wall)", "fastviz, medium",
          "encoder floor, medium")
    ratio("post / fastviz default (speed-up)", post, fv)
    ratio("post / fastviz medium (speed-up, same preset)", post, "fastviz, medium")
    ratio("showcqt / fastviz default (same encoder settings)",
          "ffmpeg showcqt, veryfast", fv)
    ratio("showcqt / encoder floor veryfast (the floor's own bound)",
          "ffmpeg showcqt, veryfast", "encoder floor, veryfast")
    if post in rows:
        print(f"analysis in the post run ({args.seconds:g} s audio, first call in the "
              f"process): {rows[post]['analysis_s']:.2f} s")
    print(f"analysis of {ANALYSIS_SECONDS} s audio (audio_envelopes of a WAV, ffmpeg decode "
          f"included, after a warm-up): {analysis:.2f} s "
          f"({ANALYSIS_SECONDS / analysis:.0f} x real time)")
    return 1 if failed else 0


def _vm(pid):
    """(VmRSS, VmHWM) of a process in MB; zeros once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            vm = dict(line.split(":", 1) for line in f if line.startswith("Vm"))
        return int(vm["VmRSS"].split()[0]) / 1024, int(vm["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError):
        return 0.0, 0.0


def _descendants(pid):
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return kids + [d for k in kids for d in _descendants(k)]


def watch_memory(stop, peaks, count_self):
    """Until ``stop``: every 0.1 s, the RSS of this process plus its descendants."""
    while True:
        vms = [_vm(k) for k in _descendants(os.getpid())]
        total = (_vm(os.getpid())[0] if count_self else 0) + sum(rss for rss, _ in vms)
        peaks["total"] = max(peaks["total"], total)
        peaks["ffmpeg"] = max([peaks["ffmpeg"], *(hwm for _, hwm in vms)])
        if stop.wait(0.1):
            return


def child():
    stop, peaks = threading.Event(), {"total": 0, "ffmpeg": 0}
    count_self = args.child != "showcqt"  # its Python only waits for ffmpeg
    watch = threading.Thread(target=watch_memory, args=(stop, peaks, count_self),
                             daemon=True)
    watch.start()
    tmp = Path(args.tmp)
    run = globals()[f"child_{args.child}"]
    report = run(tmp, tmp / f"{args.child}-{args.preset}.mp4", args.preset)
    stop.set()
    watch.join()
    report.update(peak_mb=peaks["total"], ffmpeg_mb=peaks["ffmpeg"],
                  py_mb=_vm(os.getpid())[1] if count_self else 0)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s of audio, not 180 s")
    parser.add_argument("--seconds", type=float, help="audio length (overrides --quick)")
    for hidden in ("--child", "--tmp", "--preset"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 20.0 if args.quick else 180.0
    sys.exit(child() if args.child else main())
