"""fastviz against the post's matplotlib + moviepy pipeline, the encoder alone, and showcqt.

    python benchmarks/compare.py [--quick]     # quick: 20 s of audio instead of 180 s
    python benchmarks/compare.py --quick --only-equal-vmaf   # the last section alone

Time here (2 cores, shared): ``--quick --only-equal-vmaf`` took 13 minutes at a load
average of 5-10, its post runs 92 s each where a quiet machine took 40 s, so about 7
minutes quiet; ``--quick`` adds about 4 quiet minutes; the full run renders the post's
180 s six times, some 10 minutes each: well over an hour. Stopped (Ctrl-C, SIGTERM,
SIGHUP), it ends the run in progress and removes its temporary folder (93 MB
with --quick, near 1 GB without: the lossless references) before it exits.

fastviz draws the post's 100-point dots here (``dot_size=100``), so both pipelines
draw the same scene; the post's analysis is fastviz's with ``sampling="instant"``.

The last section, "at equal VMAF", asks what the speed-up is when fastviz's video is
at least as good as the post's. Each pipeline's video is scored (VMAF, the bundled
ffmpeg's libvmaf, as in quality.py) against a lossless encode (x264 CRF 0) of its OWN
frames: the post's matplotlib frames written by moviepy with ``-crf 0``, fastviz's
``render(..., crf=0)`` of the same input. The post's video is moviepy's default (x264
``medium``, CRF 23); fastviz is scored at each ``--speed`` (fastest, balanced = the
default, smallest) and, while no ultrafast point reaches the post's score, at
ultrafast with CRF going down from 25 in steps of 1 (the fastest preset at any CRF;
``fastest`` is ultrafast CRF 26). The match is the candidate at or above the post's
VMAF with the least wall s in that one scoring run. Then the post, the match and
fastviz's default are timed side by side, EQ_ROUNDS rounds, the order rotated each
round (ABC BCA CAB); the section prints every round, the median and best wall s, the
least CPU s, and the load average before each round (the machine is shared).

Input for every run: the demo's Jingle Bells looped to the length (44.1 kHz 16-bit WAV),
the bundled brain resized to 1000 x 1000 with Pillow, its 80 electrodes scaled to it
plus 10 seeded random ones (90), 30 fps. Each run is a child process of this script
(``compare.py --child KIND``), started one after the other.

The encoder floor encodes exactly the frames fastviz encodes: the first N_PAIR = 600
frames of the render (20 s at 30 fps; fewer if the audio is shorter), drawn into memory
once by ``FrameRenderer.frames_nv12`` from ``plan_render``'s ``Plan.values`` (the values
fastviz draws), then fed to fastviz's ``VideoWriter`` with fastviz's settings and audio
(``audio_duration`` = N / fps, ``n_frames`` = N, NV12). Its wall s leaves out that
drawing (timed in the child and subtracted; starting ffmpeg and loading the compiled
kernel, which fastviz pays too, are kept): it is fastviz's time if drawing were free.
Each floor is paired with fastviz rendering the same N frames end to end (``render(...,
duration=N / fps)``): the two alternate for PAIR_ROUNDS = 3 rounds (AB BA AB), each row
shows its best round (least wall s; CPU s its least too), every round is printed, and
all their video streams are checked to be identical. 600 frames of 1000 x 1000 NV12 hold
0.9 GB, about as much memory as is sane here. The other runs (post, showcqt, fastviz)
cover the whole audio: 180 s, or with ``--quick`` 20 s, i.e. the same 600 frames as the
pairs (each run still its own). An earlier floor cycled 30 distinct frames: x264 codes
such a cycle differently from the real, slowly changing sequence, and fastviz at
``medium`` came out a third below it.

Measured, per run: wall s = the child's lifetime seen from here (interpreter start,
imports, analysis, drawing, encoding; the floor's minus its drawing); CPU s = user +
system CPU of the child and its ffmpeg (getrusage of waited-for children; the floor's
minus its drawing's), steadier than wall s when other work shares the machine; frames =
frames in the MP4 (ffmpeg's count); frames/s = frames / wall s; x real = video s / wall
s; peak MB = the RSS of the child plus all its descendants (ffmpeg) at one instant,
sampled from /proc every 0.1 s (the floor's includes its frames in memory); py MB,
ffmpeg MB = their own peaks (VmHWM: the child's, the largest ffmpeg's). showcqt counts
ffmpeg only. Memory not from getrusage: on Linux a child's ru_maxrss includes the RSS of
the Python process that spawned it (the pre-exec high-water mark), so ffmpeg would show
Python's memory too.
"""
import argparse
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SIZE, FPS, N_ELECTRODES, RATE = 1000, 30, 90, 44100
ANALYSIS_SECONDS = 180
N_PAIR = 600  # frames the encoder floor and its fastviz pair encode (0.9 GB of NV12)
RUNS = [  # (label, kind, preset; None = fastviz's default): the whole audio
    ("post: matplotlib + moviepy, medium", "post", "medium"),
    ("ffmpeg showcqt, veryfast", "showcqt", "veryfast"),
    ("fastviz, default (veryfast)", "fastviz", None),
    ("fastviz, ultrafast", "fastviz", "ultrafast"),
    ("fastviz, medium", "fastviz", "medium"),
]
PAIR_PRESETS = ("veryfast", "medium")
PAIR_ROUNDS = 3  # floor and fastviz alternate (AB BA AB); each row is its best round
EQ_ROUNDS = 3  # equal-VMAF timing: post, match, default, order rotated each round
EQ_SPEEDS = ("fastest", "balanced", "smallest")


def n_pair():
    """Frames in the floor's pair: N_PAIR, or all of a shorter audio's."""
    from fastviz._plan import frame_count

    return min(N_PAIR, frame_count(args.seconds, FPS))


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
    """The post's analysis, with fastviz's functions: (n_electrodes, n_times), rate, s.
    Its sampling at instants, its scaling over every column."""
    import fastviz

    env = fastviz.audio_envelopes(wav, sampling="instant", **kwargs)
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
    crf = [] if args.crf is None else ["-crf", str(args.crf)]  # None: x264's 23
    clip.write_videofile(str(out), fps=FPS, codec="libx264", preset=preset,
                         audio_codec="aac", temp_audiofile_path=str(tmp), logger=None,
                         ffmpeg_params=crf or None)
    audio.close()
    return {"analysis_s": analysis}


def child_floor(tmp, out, preset):
    """The frames fastviz would encode, all drawn before the first is written, then fed
    to fastviz's VideoWriter (its ffmpeg command, NV12 in) as ``write_video`` feeds it."""
    from fastviz import VideoWriter
    from fastviz._execute import CHUNK_FRAMES
    from fastviz._plan import options_from, resolve

    opts = options_from("render", dict(_pair_options(tmp, preset), overwrite=True))
    plan, spec = resolve(tmp / "song.wav", out, opts)  # the analysis fastviz does
    writer = VideoWriter.from_spec(spec)  # the very command render runs
    with writer:  # ffmpeg starts, then the kernel loads, as in write_video: both kept
        plan.renderer.frames_nv12(plan.values(0, 1))
        start, cpu = time.perf_counter(), time.process_time()
        frames = plan.renderer.frames_nv12(plan.values(0, plan.n_frames))
        drawing, drawing_cpu = time.perf_counter() - start, time.process_time() - cpu
        for first in range(0, plan.n_frames, 2 * CHUNK_FRAMES):  # write_video's blocks
            writer.write(frames[first:first + 2 * CHUNK_FRAMES])
    return {"drawing_s": drawing, "drawing_cpu_s": drawing_cpu}


def child_pair(tmp, out, preset):
    """fastviz end to end on the floor's frames: the first n_pair() of the render."""
    import fastviz

    fastviz.render(tmp / "song.wav", out, **_pair_options(tmp, preset))
    return {}


def _pair_options(tmp, preset):
    return dict(background=tmp / "brain.png", electrodes=tmp / "electrodes.csv",
                duration=n_pair() / FPS, preset=preset, overwrite=True, progress=False,
                dot_size=100)  # the post's dots, so both draw the same scene


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

    given = {"preset": preset, "crf": args.crf, "speed": args.speed}
    fastviz.render(tmp / "song.wav", out, background=tmp / "brain.png",
                   electrodes=tmp / "electrodes.csv", progress=False, overwrite=True,
                   dot_size=100, **{k: v for k, v in given.items() if v is not None})
    return {}


def run_child(kind, preset, tmp, extra=()):
    """Run ``compare.py --child KIND``; ``extra``: more hidden options (--crf, --speed,
    --out)."""
    cmd = [sys.executable, __file__, "--child", kind, "--tmp", str(tmp),
           "--seconds", str(args.seconds)] + (["--preset", preset] if preset else [])
    cmd += list(extra)
    start, cpu = time.perf_counter(), _children_cpu()
    # its own process group, so a stop ends it and what it started (moviepy's ffmpeg)
    # before the temporary folder is removed under them
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp, start_new_session=True)
    try:
        out, err = proc.communicate()
    except BaseException:
        _end(proc)
        raise
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if proc.returncode != 0:
        print(f"FAILED: {' '.join(cmd)}\n{err[-3000:]}", file=sys.stderr)
        return None
    report = json.loads(out.strip().splitlines()[-1])
    return dict(report, wall_s=wall - report.get("drawing_s", 0.0),
                cpu_s=cpu - report.get("drawing_cpu_s", 0.0))


def _end(proc):
    """Stop a child run: SIGINT to its group (fastviz's writer then kills its ffmpeg,
    which runs in a session of its own), then SIGKILL to what is left after 10 s."""
    for signum, wait in ((signal.SIGINT, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def _stopped(signum, frame):
    """SIGTERM and SIGHUP unwind as Ctrl-C does, so the temporary folders are removed."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _children_cpu():
    """User + system CPU s of the waited-for descendants: the child and its ffmpeg."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(kind, preset, tmp, ffmpeg):
    """One child run, with its MP4's frame count and video checksum; None if it failed."""
    import imageio_ffmpeg

    r = run_child(kind, preset, tmp)
    if r is not None:
        out = tmp / f"{kind}-{preset}.mp4"
        r["frames"], _ = imageio_ffmpeg.count_frames_and_secs(str(out))
        r["video_md5"] = video_md5(ffmpeg, out)
        out.unlink()
    return r


def show(label, r):
    """Print a table row; True if the run failed."""
    if r is None:
        print(f"{label:<36}  FAILED", flush=True)
        return True
    print(f"{label:<36}{r['frames']:7d}{r['wall_s']:8.1f}{r['cpu_s']:7.1f}"
          f"{r['frames'] / r['wall_s']:10.1f}{r['frames'] / FPS / r['wall_s']:8.2f}"
          f"{r['peak_mb']:9.0f}{r['py_mb']:7.0f}{r['ffmpeg_mb']:11.0f}", flush=True)
    return False


def video_md5(ffmpeg, path):
    """MD5 of an MP4's video packets (stream copy): equal for equal encodes."""
    out = subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-i", str(path),
                          "-map", "0:v:0", "-c", "copy", "-f", "md5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip()


def main():
    import imageio_ffmpeg

    import fastviz

    n = n_pair()
    print(f"command: python {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores (nproc), {platform.platform()}, "
          f"Python {platform.python_version()}, ffmpeg {imageio_ffmpeg.get_ffmpeg_version()}")
    print(f"input: {args.seconds:g} s of Jingle Bells (looped), {SIZE}x{SIZE}, "
          f"{N_ELECTRODES} electrodes, {FPS} fps; post keeps moviepy's default crf (23), "
          "others crf 20")
    print(f"encoder floor: the first {n} frames of fastviz's render ({n / FPS:g} s), drawn "
          "into memory before the first is written (its wall s leaves the drawing out), "
          "then encoded\nby fastviz's VideoWriter with fastviz's settings and audio; each is "
          f"paired with fastviz rendering the same {n} frames end to end, the two "
          f"alternating for {PAIR_ROUNDS} rounds\n")
    rows, failed = {}, False
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="fastviz-compare-", ignore_cleanup_errors=True) as name:
        tmp = Path(name)
        make_inputs(tmp, args.seconds)
        print(f"{'run':<36}{'frames':>7}{'wall s':>8}{'CPU s':>7}{'frames/s':>10}{'x real':>8}"
              f"{'peak MB':>9}{'py MB':>7}{'ffmpeg MB':>11}", flush=True)
        print(f"-- the whole {args.seconds:g} s", flush=True)
        for label, kind, preset in RUNS:
            r = measure(kind, preset, tmp, ffmpeg)
            failed |= show(label, r)
            if r is not None:
                rows[label] = r
        print(f"-- the same first {n} frames: encoder floor and fastviz alternating, "
              f"best of {PAIR_ROUNDS} rounds each", flush=True)
        for preset in PAIR_PRESETS:
            labels = {"floor": f"encoder floor, {preset}",
                      "pair": f"fastviz, {preset}, same frames"}
            tries = {"floor": [], "pair": []}
            for i in range(PAIR_ROUNDS):
                for kind in ("floor", "pair")[::1 if i % 2 == 0 else -1]:
                    r = measure(kind, preset, tmp, ffmpeg)
                    failed |= r is None
                    if r is not None:
                        tries[kind].append(r)
            for kind, label in labels.items():
                if not tries[kind]:
                    show(label, None)
                    continue
                r = dict(min(tries[kind], key=lambda t: t["wall_s"]),
                         cpu_s=min(t["cpu_s"] for t in tries[kind]), tries=tries[kind],
                         same_video=len({t["video_md5"] for t in
                                         tries["floor"] + tries["pair"]}) == 1)
                show(label, r)
                rows[label] = r
        fastviz.audio_envelopes(tmp / "song180.wav", duration=1.0)  # warm-up
        start = time.perf_counter()
        fastviz.audio_envelopes(tmp / "song180.wav")
        analysis = time.perf_counter() - start
    print()

    def ratio(text, a, b, key="wall_s"):
        """``key`` (default wall s) of a / b, per frame if their frame counts differ."""
        if a in rows and b in rows:
            ra, rb = rows[a], rows[b]
            value = (ra[key] / ra["frames"]) / (rb[key] / rb["frames"])
            if ra["frames"] != rb["frames"]:
                text += ", per frame"
            print(f"{text:<70}{value:6.2f}x")

    fv, post = "fastviz, default (veryfast)", "post: matplotlib + moviepy, medium"
    for preset in PAIR_PRESETS:
        pair, floor = f"fastviz, {preset}, same frames", f"encoder floor, {preset}"
        ratio(f"fastviz / encoder floor, {preset} (same {n} frames, best wall)", pair,
              floor)
        ratio(f"fastviz / encoder floor, {preset} (same {n} frames, least CPU)", pair,
              floor, "cpu_s")
    ratio("post / fastviz default (speed-up)", post, fv)
    ratio("post / fastviz medium (speed-up, same preset)", post, "fastviz, medium")
    ratio("showcqt / fastviz default (same encoder settings)",
          "ffmpeg showcqt, veryfast", fv)
    ratio("showcqt / encoder floor veryfast (the floor's own bound)",
          "ffmpeg showcqt, veryfast", "encoder floor, veryfast")
    for preset in PAIR_PRESETS:
        pair, floor = f"fastviz, {preset}, same frames", f"encoder floor, {preset}"
        if pair in rows and floor in rows:
            rounds = ", ".join(f"{a['wall_s']:.1f}/{b['wall_s']:.1f}"
                               for a, b in zip(rows[pair]["tries"], rows[floor]["tries"]))
            print(f"{preset}, fastviz/floor wall s by round: {rounds}; the floor drew its "
                  f"{rows[floor]['frames']} frames in {rows[floor]['drawing_s']:.1f} s "
                  f"({rows[floor]['drawing_cpu_s']:.1f} CPU s, one thread, page faults "
                  "included; left out of its wall s and CPU s); video streams "
                  f"{'all identical' if rows[floor]['same_video'] else 'DIFFER'}")
    if post in rows:
        print(f"analysis in the post run ({args.seconds:g} s audio, first call in the "
              f"process): {rows[post]['analysis_s']:.2f} s")
    print(f"analysis of {ANALYSIS_SECONDS} s audio (audio_envelopes of a WAV, ffmpeg decode "
          f"included, after a warm-up): {analysis:.2f} s "
          f"({ANALYSIS_SECONDS / analysis:.0f} x real time)")
    return 1 if failed else 0


def _opts(spec):
    """Hidden child options and a label for a fastviz setting (speed or preset + CRF)."""
    if "speed" in spec:
        from fastviz._formats import SPEEDS

        preset, crf = SPEEDS[spec["speed"]]
        return (["--speed", spec["speed"]],
                f"fastviz --speed {spec['speed']} ({preset}, CRF {crf})")
    return (["--preset", spec["preset"], "--crf", str(spec["crf"])],
            f"fastviz {spec['preset']}, CRF {spec['crf']}")


def _video_info(ffmpeg, path):
    """The video stream's codec line, e.g. 'h264 (High), yuv420p(progressive)'."""
    import re

    err = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)],
                         capture_output=True, text=True).stderr
    found = re.search(r"Video: (h264 \([^)]*\)[^,]*, \w+)", err)
    return found.group(1) if found else "?"


def equal_vmaf():
    """The speed-up over the post at equal VMAF, and at the defaults (module docstring)."""
    import imageio_ffmpeg
    from quality import vmaf  # benchmarks/quality.py: libvmaf, default model

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    if args.only_equal_vmaf:
        print(f"command: python {' '.join(sys.argv)}")
        print(f"machine: {os.cpu_count()} cores (nproc), {platform.platform()}, Python "
              f"{platform.python_version()}, ffmpeg {imageio_ffmpeg.get_ffmpeg_version()}")
    else:
        print()
    print(f"== at equal VMAF: {args.seconds:g} s of Jingle Bells (looped), {SIZE}x{SIZE}, "
          f"{N_ELECTRODES} electrodes, {FPS} fps; each video's VMAF against x264 CRF 0 "
          "of its own pipeline's frames", flush=True)
    print("load average (1, 5, 15 min) at the start: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    with tempfile.TemporaryDirectory(prefix="fastviz-equal-vmaf-",
                                     ignore_cleanup_errors=True) as name:
        tmp = Path(name)
        make_inputs(tmp, args.seconds)

        def run(kind, preset, extra, out):
            r = run_child(kind, preset, tmp, [*extra, "--out", out])
            if r is None:
                raise SystemExit(f"equal-VMAF section: {kind} {preset} {extra} failed")
            return r

        print("-- scoring: one run each (wall s: the child's lifetime, everything "
              "included; MB: the MP4 with its AAC audio)")
        print(f"{'video':<44}{'wall s':>8}{'CPU s':>7}{'MB':>7}{'VMAF':>7}  stream")
        run("post", "ultrafast", ["--crf", "0"], "post-ref.mp4")  # lossless: any preset
        run("fastviz", None, ["--crf", "0"], "fastviz-ref.mp4")
        for ref in ("post-ref.mp4", "fastviz-ref.mp4"):
            print(f"{'reference ' + ref:<44}{'':>8}{'':>7}"
                  f"{(tmp / ref).stat().st_size / 1e6:7.1f}{'':>7}  "
                  f"{_video_info(ffmpeg, tmp / ref)}")

        def score(kind, preset, extra, label, ref):
            out = f"{kind}-{len(scored)}.mp4"
            r = run(kind, preset, extra, out)
            r.update(label=label, extra=extra, mb=(tmp / out).stat().st_size / 1e6,
                     vmaf=vmaf(ffmpeg, tmp / out, tmp / ref))
            print(f"{label:<44}{r['wall_s']:8.1f}{r['cpu_s']:7.1f}{r['mb']:7.2f}"
                  f"{r['vmaf']:7.2f}  {_video_info(ffmpeg, tmp / out)}", flush=True)
            (tmp / out).unlink()
            scored.append(r)
            return r

        scored = []
        post = score("post", "medium", [], "post: matplotlib + moviepy (medium, CRF 23)",
                     "post-ref.mp4")
        for speed in EQ_SPEEDS:
            extra, label = _opts({"speed": speed})
            score("fastviz", None, extra, label, "fastviz-ref.mp4")
        default = scored[1 + EQ_SPEEDS.index("balanced")]
        crf = 25
        while crf >= 0 and not any(r["vmaf"] >= post["vmaf"] and "ultrafast" in r["label"]
                                   for r in scored[1:]):
            extra, label = _opts({"preset": "ultrafast", "crf": crf})
            score("fastviz", None, extra, label, "fastviz-ref.mp4")
            crf -= 1
        passing = [r for r in scored[1:] if r["vmaf"] >= post["vmaf"]]
        if not passing:
            print("no fastviz setting reached the post's VMAF")
            return 1
        match = min(passing, key=lambda r: r["wall_s"])
        print(f"match: {match['label']}, VMAF {match['vmaf']:.2f} >= the post's "
              f"{post['vmaf']:.2f} (the least wall s of the {len(passing)} at or above it)")

        members = [("post", "medium", [], post["label"]),
                   ("fastviz", None, match["extra"], match["label"] + " (match)")]
        if default is not match:
            members.append(("fastviz", None, default["extra"],
                            default["label"] + " (default)"))
        tries = {m[3]: [] for m in members}
        print(f"-- timing side by side: {EQ_ROUNDS} rounds, order rotated each round",
              flush=True)
        for i in range(EQ_ROUNDS):
            order = members[i % len(members):] + members[:i % len(members)]
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            walls = []
            for kind, preset, extra, label in order:
                r = run(kind, preset, extra, "timed.mp4")
                tries[label].append(r)
                walls.append(f"{label.split(':')[0].split(' (')[0]} {r['wall_s']:.1f}")
            print(f"round {i + 1} (load {load}), wall s: " + "; ".join(walls),
                  flush=True)
        print(f"{'run':<52}{'median wall':>12}{'best wall':>10}{'least CPU':>10}"
              f"{'frames/s':>9}")
        n = round(args.seconds * FPS)
        stats = {}
        for label, rs in tries.items():
            stats[label] = (float(np.median([r["wall_s"] for r in rs])),
                            min(r["wall_s"] for r in rs), min(r["cpu_s"] for r in rs))
            med, best, cpu = stats[label]
            print(f"{label:<52}{med:12.1f}{best:10.1f}{cpu:10.1f}{n / med:9.1f}")
        p = stats[post["label"]]
        for label in list(tries)[1:]:
            f = stats[label]
            print(f"post / {label}: {p[0] / f[0]:.2f}x median wall, {p[1] / f[1]:.2f}x "
                  f"best wall, {p[2] / f[2]:.2f}x least CPU")
    print("load average (1, 5, 15 min) at the end: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


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
    report = run(tmp, tmp / (args.out or f"{args.child}-{args.preset}.mp4"), args.preset)
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
    parser.add_argument("--only-equal-vmaf", action="store_true",
                        help="run only the last section, the speed-up at equal VMAF")
    for hidden in ("--child", "--tmp", "--preset", "--speed", "--out"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--crf", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 20.0 if args.quick else 180.0
    if args.child:
        sys.exit(child())
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stopped)
    try:
        status = 0 if args.only_equal_vmaf else main()
        sys.exit(equal_vmaf() or status)
    except KeyboardInterrupt as stop:
        print(f"stopped ({stop or 'SIGINT'}): the run in progress was ended and the "
              "temporary folder removed", file=sys.stderr)
        sys.exit(130)
