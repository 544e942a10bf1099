"""Segments on Dask, joined by stream copy: real scheduler, real workers, real ffmpeg.

A module-scoped cluster (``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1) serves most tests; every process a test starts, it ends. Renders are tiny
(160 x 120, ~3 s, ultrafast) so the whole file runs in well under two minutes.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from helpers import decode_nv12, ffmpeg_processes_in, hidden, probe, tone, write_wav

from fastviz import Cancelled, FastvizError, FastvizWarning, FrameRenderer, load_audio, render
from fastviz._batch import expand_inputs, output_paths, render_batch
from fastviz._distributed import check_split, segment_bounds
from fastviz._execute import Run
from fastviz._options import Options
from fastviz._output import retarget
from fastviz._plan import resolve
from fastviz._render import execute
from fastviz.cli import main

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

SIZE = (160, 120)
TESTS = Path(__file__).parent


class SlowRenderer(FrameRenderer):
    """The plan's renderer, sleeping ``delay`` s a block of frames, and raising (with a
    cause) on the block that starts at the frame whose values are ``fail_values``.
    Defined here and pickled by reference: the workers import this module."""

    def __init__(self, renderer, delay=0.0, fail_values=None):
        self.__dict__.update(vars(renderer))
        self.delay, self.fail_values = delay, fail_values

    def frames_nv12(self, values, out=None):
        time.sleep(self.delay)
        if self.fail_values is not None and np.array_equal(values[0], self.fail_values):
            raise ValueError("a bad block") from ZeroDivisionError("the root cause")
        return super().frames_nv12(values, out)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_worker(address, folder):
    """A ``dask worker`` process (no nanny: the process is the worker) with its scratch
    space and temporary files in ``folder``, able to import this module."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "TMPDIR": str(folder), "PYTHONPATH": os.pathsep.join(paths)}
    with open(folder / "worker.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--death-timeout", "30",
             "--local-directory", str(folder)], stdout=log, stderr=log, env=env)


def start_scheduler(address, folder):
    """A ``dask scheduler`` process on ``address`` (tcp://127.0.0.1:PORT)."""
    with open(folder / "scheduler.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", address.rsplit(":", 1)[1], "--no-dashboard",
             "--dashboard-address", "127.0.0.1:0",  # its health page: not on 8787
             "--idle-timeout", "600"],  # a safety net should this process die
            stdout=log, stderr=log)


def stop(procs):
    """End ``procs`` last first: workers before their scheduler, since a worker told to
    stop while its scheduler is closing can hang (then it is killed)."""
    for proc in reversed(procs):
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Cluster:
    def __init__(self, address, folder, client):
        self.address, self.folder, self.client = address, folder, client


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` + two ``dask worker`` processes; ended in the finalizer."""
    folder = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    procs = []
    try:
        procs.append(start_scheduler(address, folder))
        procs += [start_worker(address, folder / f"worker-{i}") for i in range(2)]
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            yield Cluster(address, folder, client)
    finally:
        stop(procs)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """(plan, spec, single-stream video, its NV12 frames) of a 3.1 s clip at 25 fps."""
    folder = tmp_path_factory.mktemp("clip")
    wav = write_wav(folder / "in.wav", tone(700, 3.1) + 0.3 * tone(3000, 3.1), 44100)
    plan, spec = resolve(wav, folder / "single.mp4", Options(size=SIZE, fps=25,
                                                             preset="ultrafast", crf=0))
    single = execute(plan, spec, Run(progress=False))
    return plan, spec, single, decode_nv12(single, SIZE)


def render_segments(plan, spec, output, jobs=None, **split):
    """What ``render(..., scheduler=...)`` runs once it resolved ``plan`` and ``spec``:
    the output (``retarget``) and the split checked, then the Dask executor."""
    spec = retarget(spec, output)
    check_split(**split)
    return execute(plan, spec, Run(jobs, progress=False), "dask", **split)


def packets(path):
    """(time base in s, [(dts, pts)] of the video packets), read by a stream copy."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    text = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy",
                           "-f", "framemd5", "-"], capture_output=True, text=True,
                          check=True).stdout
    base = next(line for line in text.splitlines() if line.startswith("#tb 0:"))
    num, den = base.split(":")[1].strip().split("/")
    rows = [line.split(",") for line in text.splitlines() if not line.startswith("#")]
    return Fraction(int(num), int(den)), [(int(r[1]), int(r[2])) for r in rows]


def check_video(path, plan, frames):
    """Exact frames, exact count, timestamps 1 / fps apart everywhere (no frame doubled
    or lost at a seam), and the sound as long as the picture."""
    assert np.array_equal(decode_nv12(path, SIZE), frames)
    time_base, times = packets(path)
    assert len(times) == plan.n_frames
    dts = [d for d, _ in times]
    pts = sorted(p for _, p in times)
    assert all(np.diff(dts) > 0)
    assert pts[0] == 0 and set(np.diff(pts)) == {1 / (plan.fps * time_base)}
    _, _, codecs, audio_seconds = probe(path)
    assert codecs == ["aac"]
    assert abs(audio_seconds - plan.n_frames / plan.fps) <= 1 / plan.fps


def segment_files(folder):
    return [p for p in Path(folder).rglob("*") if p.suffix in (".mp4", ".part", ".txt")]




def encoding(pid):
    """Whether process ``pid`` has an ffmpeg child."""
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            for child in (task / "children").read_text().split():
                if b"ffmpeg" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return True
        except OSError:  # it just ended
            pass
    return False


class When(threading.Thread):
    """``with When(condition, action) as when:`` runs ``action`` once, as soon as
    ``condition()`` holds, until the block ends; ``when.done`` tells whether it did."""

    def __init__(self, condition, action):
        super().__init__(daemon=True)
        self.condition, self.action = condition, action
        self.done, self._over = threading.Event(), threading.Event()

    def run(self):
        while not self._over.wait(0.01):
            if self.condition():
                self.action()
                self.done.set()
                return

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self._over.set()
        self.join()


@pytest.mark.parametrize("how", [dict(n_segments=2), dict(n_segments=7),
                                 dict(segment_seconds=0.7)])
def test_segments_equal_the_single_stream(tmp_path, cluster, clip, how):
    plan, spec, single, frames = clip
    out = render_segments(plan, spec, tmp_path / "out.mp4", scheduler=cluster.address,
                          **how)
    check_video(out, plan, frames)  # 78 frames: 7 segments of 11 or 12, 0.7 s of 17 or 18
    assert np.array_equal(load_audio(out)[0], load_audio(single)[0])  # muxed the same way
    assert not hidden(tmp_path) and not segment_files(cluster.folder)


def test_rational_frame_rate_and_b_frames(tmp_path, cluster):
    wav = write_wav(tmp_path / "in.wav", tone(500, 2.0), 48000)
    plan, spec = resolve(wav, tmp_path / "single.mp4", Options(
        size=SIZE, fps="30000/1001", preset="veryfast", crf=0))
    single = execute(plan, spec, Run(progress=False))
    out = render_segments(plan, spec, tmp_path / "out.mp4", client=cluster.client,
                          n_segments=5)
    check_video(out, plan, decode_nv12(single, SIZE))


def test_segments_in_a_shared_folder(tmp_path, cluster, clip):
    plan, spec, _, frames = clip
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "someone-else.mp4").write_bytes(b"kept")
    out = render_segments(plan, spec, tmp_path / "out.mp4", client=cluster.client,
                          n_segments=3, segment_dir=shared)
    check_video(out, plan, frames)
    assert [p.name for p in shared.iterdir()] == ["someone-else.mp4"]
    assert not segment_files(cluster.folder)


@pytest.mark.parametrize("shared", [False, True])
def test_a_failing_segment_stops_the_render(tmp_path, cluster, clip, shared):
    plan, spec, _, _ = clip
    bounds = segment_bounds(plan.n_frames, 4)
    bad = plan.values(bounds[1][0], bounds[1][0] + 1)[0]
    plan = replace(plan, renderer=SlowRenderer(plan.renderer, 0.05, fail_values=bad))
    folder = tmp_path / "shared"
    folder.mkdir()
    out = tmp_path / "out.mp4"
    with pytest.raises(FastvizError, match="segment 2 of 4") as info:
        render_segments(plan, spec, out, jobs=1, client=cluster.client,
                        n_segments=4, segment_dir=folder if shared else None)
    cause = info.value.__cause__
    assert isinstance(cause, ValueError) and "a bad block" in str(info.value)
    assert isinstance(cause.__cause__, ZeroDivisionError)
    assert not out.exists() and not hidden(tmp_path) and not list(folder.iterdir())
    assert not segment_files(cluster.folder)
    assert not ffmpeg_processes_in(tmp_path) and not ffmpeg_processes_in(cluster.folder)


def test_interrupt_stops_workers_and_cleans_up(tmp_path, cluster, clip):
    """Ctrl-C (or the CLI's SIGTERM, turned into an exception) in the driver."""
    plan, spec, _, _ = clip
    plan = replace(plan, renderer=SlowRenderer(plan.renderer, 0.2))
    main_thread = threading.main_thread().ident
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        with When(lambda: ffmpeg_processes_in(tmp_path),
                  lambda: signal.pthread_kill(main_thread, signal.SIGINT)) as when:
            render_segments(plan, spec, out, jobs=1, client=cluster.client,
                            n_segments=4, segment_dir=tmp_path)
    assert when.done.is_set()
    assert not out.exists() and not hidden(tmp_path) and not segment_files(tmp_path)
    assert not segment_files(cluster.folder)
    assert not ffmpeg_processes_in(tmp_path) and not ffmpeg_processes_in(cluster.folder)


def test_an_output_that_appears_meanwhile_is_kept(tmp_path, cluster, clip):
    plan, spec, _, frames = clip
    plan = replace(plan, renderer=SlowRenderer(plan.renderer, 0.05))
    out = tmp_path / "out.mp4"
    with pytest.raises(FastvizError, match="appeared while rendering") as info:
        with When(lambda: ffmpeg_processes_in(cluster.folder),
                  lambda: out.write_bytes(b"precious")):
            render_segments(plan, spec, out, jobs=1, client=cluster.client,
                            n_segments=2)
    assert out.read_bytes() == b"precious"
    kept = Path(str(info.value).rsplit(" ", 1)[1])
    assert kept.parent == tmp_path and not hidden(tmp_path)
    check_video(kept, plan, frames)


def test_a_killed_worker_is_replaced_and_the_video_is_whole(tmp_path, cluster, clip):
    plan, spec, _, frames = clip
    extra = start_worker(cluster.address, tmp_path / "extra")  # the one to kill
    try:
        cluster.client.wait_for_workers(3, timeout=60)
        plan = replace(plan, renderer=SlowRenderer(plan.renderer, 0.1))
        with When(lambda: encoding(extra.pid),
                  lambda: os.kill(extra.pid, signal.SIGKILL)) as killer:
            out = render_segments(plan, spec, tmp_path / "out.mp4", jobs=1,
                                  client=cluster.client, n_segments=6)
        assert killer.done.is_set() and extra.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop([extra])
    check_video(out, plan, frames)
    assert not segment_files(cluster.folder)


def test_the_scene_survives_the_loss_of_its_only_worker(tmp_path, clip):
    """One worker, killed mid-render and replaced (as a nanny restarts it): the scattered
    scene died with it, so it is sent again and the lost segments rerun."""
    plan, spec, _, frames = clip
    address = f"tcp://127.0.0.1:{free_port()}"
    procs = [start_scheduler(address, tmp_path)]
    try:
        procs.append(start_worker(address, tmp_path / "first"))
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
            first = procs[-1]

            def replace_worker():
                os.kill(first.pid, signal.SIGKILL)
                procs.append(start_worker(address, tmp_path / "second"))

            plan = replace(plan, renderer=SlowRenderer(plan.renderer, 0.1))
            with When(lambda: encoding(first.pid), replace_worker) as killer:
                out = render_segments(plan, spec, tmp_path / "out.mp4", jobs=1,
                                      client=client, n_segments=3)
            assert killer.done.is_set()
    finally:
        stop(procs)
    check_video(out, plan, frames)


def test_local_cluster(tmp_path, clip):
    plan, spec, _, frames = clip
    out = render_segments(plan, spec, tmp_path / "out.mp4", scheduler="local:2",
                          n_segments=3)
    check_video(out, plan, frames)
    assert not hidden(tmp_path)


def test_options_are_checked_before_any_work(tmp_path, clip):
    plan, spec, _, _ = clip
    out = tmp_path / "out.mp4"
    for scheduler in ("local:0", "locale", "127.0.0.1:8786"):
        with pytest.raises(ValueError, match="scheduler must be"):
            render_segments(plan, spec, out, scheduler=scheduler)
    with pytest.raises(ValueError, match="not both"):
        render_segments(plan, spec, out, n_segments=2, segment_seconds=1)
    out.write_bytes(b"precious")
    with pytest.raises(FastvizError, match="exists"):
        render_segments(plan, spec, out, scheduler="local:1")
    assert out.read_bytes() == b"precious" and not hidden(tmp_path)


def test_an_unreachable_scheduler_is_an_error(tmp_path, clip):
    plan, spec, _, _ = clip
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(FastvizError, match="cannot reach the Dask scheduler at tcp://"):
            render_segments(plan, spec, tmp_path / "out.mp4",
                            scheduler=f"tcp://127.0.0.1:{free_port()}")
    assert not list(tmp_path.iterdir())


def test_without_dask_the_error_says_what_to_install(tmp_path, clip, monkeypatch):
    plan, spec, _, _ = clip
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(FastvizError, match=r"pip install 'dask\[distributed\]'"):
        render_segments(plan, spec, tmp_path / "out.mp4", scheduler="local:1")
    assert not list(tmp_path.iterdir())


def test_segment_bounds_cover_every_frame_once():
    for n_frames in (1, 2, 77, 78, 1000):
        for n_segments in (1, 2, 7, 78, 2000):
            bounds = segment_bounds(n_frames, n_segments)
            frames = [i for first, stop in bounds for i in range(first, stop)]
            assert frames == list(range(n_frames))
            sizes = [stop - first for first, stop in bounds]
            assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


def test_expand_inputs(tmp_path):
    folder = tmp_path / "talks"
    folder.mkdir()
    for name in ("b.WAV", "a.flac", "notes.txt", ".hidden.wav", "c.mp4"):
        (folder / name).write_bytes(b"")
    (folder / "sub").mkdir()
    found = expand_inputs([folder, tmp_path / "talks" / "*.mp4", folder / "a.flac",
                           tmp_path / "missing.wav"])
    assert [p.name for p in found] == ["a.flac", "b.WAV", "c.mp4", "missing.wav"]
    with pytest.raises(FastvizError, match="no file matches"):
        expand_inputs([tmp_path / "*.ogg"])
    with pytest.raises(FastvizError, match="no audio files in folder"):
        expand_inputs([folder / "sub"])


def test_output_names_never_collide():
    inputs = ["x/song.wav", "y/song.wav", "song.flac", "Song-2.wav", "other.wav"]
    names = [p.name for p in output_paths(inputs, "out")]
    assert names == ["song.mp4", "song-3.mp4", "song-4.mp4", "Song-2.mp4", "other.mp4"]
    assert names == [p.name for p in output_paths(inputs, "out")]  # a rerun finds them


def batch_inputs(folder):
    folder.mkdir()
    write_wav(folder / "a.wav", tone(600, 1.0), 44100)
    write_wav(folder / "b.wav", tone(900, 1.2), 44100)
    (folder / "bad.wav").write_bytes(os.urandom(4000))
    (folder / "notes.txt").write_text("not audio")
    return folder


def test_batch_reports_each_file_and_resumes(tmp_path, cluster):
    inputs, outdir = batch_inputs(tmp_path / "in"), tmp_path / "out"
    settings = dict(size=SIZE, preset="ultrafast", progress=False)
    outcomes = render_batch([inputs], outdir, client=cluster.client, **settings)
    assert [(o.input.name, o.output.name) for o in outcomes] == [
        ("a.wav", "a.mp4"), ("b.wav", "b.mp4"), ("bad.wav", "bad.mp4")]
    errors = {o.input.name: o.error for o in outcomes}
    assert errors["a.wav"] is None and errors["b.wav"] is None
    assert isinstance(errors["bad.wav"], FastvizError) and "bad.wav" in str(errors["bad.wav"])
    assert probe(outdir / "a.mp4")[:3] == (30, SIZE, ["aac"])
    assert probe(outdir / "b.mp4")[0] == 36
    assert sorted(p.name for p in outdir.iterdir()) == ["a.mp4", "b.mp4"]
    written = {p.name: p.stat().st_mtime_ns for p in outdir.iterdir()}
    again = render_batch([inputs / "*.wav"], outdir, **settings)  # one by one, here
    assert [(o.error is None, o.skipped) for o in again] == [(True, True), (True, True),
                                                             (False, False)]
    assert {p.name: p.stat().st_mtime_ns for p in outdir.iterdir()} == written  # skipped


def test_a_batch_on_workers_shows_their_notes(tmp_path, cluster):
    """A note raised on a worker (an 8 kHz file's dark bands) stayed in its log; the
    task returns its notes and the driver raises them again, where the CLI shows them."""
    phone = write_wav(tmp_path / "phone.wav", tone(600, 0.5, 8000), 8000)
    with pytest.warns(FastvizWarning, match="phone.wav holds no sound there"):
        outcomes = render_batch([phone], tmp_path / "out", client=cluster.client, size=SIZE,
                                preset="ultrafast", progress=False)
    assert outcomes[0].error is None


def test_cli_segments(tmp_path, cluster, clip, capsys):
    wav = write_wav(tmp_path / "in.wav", tone(700, 2.0), 44100)
    shared = tmp_path / "shared"
    shared.mkdir()
    code = main(["render", str(wav), "-o", str(tmp_path / "out.mp4"), "--size", "160x120",
                 "--preset", "ultrafast", "--segments", "3", "--scheduler", cluster.address,
                 "--segment-dir", str(shared), "-q"])
    assert code == 0, capsys.readouterr().err
    assert probe(tmp_path / "out.mp4")[:3] == (60, SIZE, ["aac"])
    assert not list(shared.iterdir())
    code = main(["render", str(wav), "-o", str(tmp_path / "out2.mp4"), "--size", "160x120",
                 "--preset", "ultrafast", "--segment-seconds", "0.5", "--scheduler",
                 "local:1", "-q"])
    assert code == 0 and probe(tmp_path / "out2.mp4")[0] == 60


def test_cli_batch_exits_non_zero_naming_the_bad_file(tmp_path, capsys):
    inputs, outdir = batch_inputs(tmp_path / "in"), tmp_path / "out"
    code = main(["render", str(inputs / "a.wav"), str(inputs / "bad.wav"), str(inputs / "b.wav"),
                 "--outdir", str(outdir), "--size", "160x120", "--preset", "ultrafast", "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "bad.wav" in err
    assert sorted(p.name for p in outdir.iterdir()) == ["a.mp4", "b.mp4"]


def test_batch_never_replaces_an_input_and_trusts_only_its_own_videos(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_wav(inputs / "clip.wav", tone(600, 0.5), 44100)
    (tmp_path / "b").mkdir()
    write_wav(tmp_path / "b" / "song.wav", tone(500, 0.5), 44100)
    camera = tmp_path / "out" / "clip.mp4"  # an input that sits where a video would go
    camera.parent.mkdir()
    camera.write_bytes(b"the user's own camera file")
    settings = dict(size=SIZE, preset="ultrafast", progress=False)
    outcomes = render_batch([inputs / "clip.wav", camera], tmp_path / "out", overwrite=True,
                            **settings)
    assert "is the input" in str(outcomes[0].error)
    assert camera.read_bytes() == b"the user's own camera file"
    (tmp_path / "out" / "song.mp4").write_bytes(b"another video")
    first = render_batch([tmp_path / "b" / "song.wav"], tmp_path / "out", **settings)
    assert "is not fastviz's video of" in str(first[0].error)
    render_batch([tmp_path / "b" / "song.wav"], tmp_path / "other", **settings)
    (tmp_path / "c").mkdir()
    write_wav(tmp_path / "c" / "song.wav", tone(800, 0.5), 44100)
    again = render_batch([tmp_path / "c" / "song.wav"], tmp_path / "other", **settings)
    assert not again[0].skipped and "is not fastviz's video of" in str(again[0].error)
    empty = tmp_path / "empty"
    empty.mkdir()
    mixed = render_batch([empty, tmp_path / "b" / "song.wav"], tmp_path / "other", **settings)
    assert "no audio files" in str(mixed[0].error) and mixed[1].skipped


def writing():
    """(progress, cancel): cancel says true once the frames' phase began (the encoder,
    or the segments, running)."""
    began = threading.Event()
    return (lambda done, total, left: total is not None and began.set()), began.is_set


def test_a_cancelled_render_leaves_nothing(tmp_path):
    wav = write_wav(tmp_path / "in.wav", tone(600, 3.0), 44100)
    progress, cancel = writing()
    with pytest.raises(Cancelled, match="render of"):  # ffmpeg runs, no block written
        render(wav, tmp_path / "out.mp4", size=SIZE, progress=progress, cancel=cancel)
    assert not list(tmp_path.glob("out*")) and not hidden(tmp_path)
    assert not ffmpeg_processes_in(tmp_path)


# ----------------------------------------------------------------- issue 16: faults

def test_cancel_stops_a_render_in_segments(tmp_path, cluster):
    wav = write_wav(tmp_path / "in.wav", tone(600, 3.0), 44100)
    progress, cancel = writing()  # the segments submitted, the sound being encoded
    with pytest.raises(Cancelled, match="render of"):
        render(wav, tmp_path / "out.mp4", size=SIZE, preset="ultrafast", progress=progress,
               client=cluster.client, segments=2, cancel=cancel)
    assert not list(tmp_path.glob("out*")) and not hidden(tmp_path)
    assert not ffmpeg_processes_in(tmp_path) and not segment_files(cluster.folder)
    with pytest.raises(Cancelled, match="analysis of"):  # before any task
        render(wav, tmp_path / "out.mp4", size=SIZE, client=cluster.client, segments=2,
               progress=False, cancel=lambda: True)
    assert not list(tmp_path.glob("out*")) and not hidden(tmp_path)


def test_segments_report_progress_as_they_finish(tmp_path, cluster):
    wav = write_wav(tmp_path / "in.wav", tone(600, 3.0), 44100)
    calls = []
    render(wav, tmp_path / "out.mp4", size=SIZE, preset="ultrafast", client=cluster.client,
           segments=3, progress=lambda *report: calls.append(report))
    frames = [c for c in calls if c[1] is not None]
    assert frames[0] == (0, 90, None) and frames[-1] == (90, 90, 0.0)
    assert {done for done, *_ in frames} <= {0, 30, 60, 90}  # whole segments


def test_segments_in_a_folder_whose_name_holds_a_newline(tmp_path, cluster, clip):
    plan, spec, _, frames = clip
    folder = tmp_path / "a\nfolder? #1"
    folder.mkdir()
    out = render_segments(plan, spec, folder / "out.mp4", client=cluster.client,
                          n_segments=3)
    check_video(out, plan, frames)
    assert not hidden(folder)


def test_a_full_disk_in_segments_names_the_file(tmp_path, cluster, clip):
    import resource

    plan, spec, _, _ = clip
    spec = replace(spec, audio=None)  # the driver then writes only the segments
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))  # EFBIG, as a full disk
    try:
        with pytest.raises(FastvizError) as info:
            render_segments(plan, spec, tmp_path / "out.mp4", client=cluster.client,
                            n_segments=2)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    text = str(info.value)  # the first segment back, whichever it is
    assert re.search(r"segment \d of 2 to .*0000[01]\.mp4", text) and "Errno" not in text
    assert not list(tmp_path.iterdir())


def test_a_stop_inside_the_cleanup_of_segments_lets_it_finish(tmp_path, cluster, capsys,
                                                             monkeypatch):
    """SIGTERM arriving as the segments' folder is removed, after the video is in place:
    the folder still goes, and the answer says the video was written."""
    import shutil

    rmtree = shutil.rmtree

    def stopped_while_removing(path, *args, **kwargs):
        if ".fastviz-segments-" in str(path):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs in here
                pass
        return rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", stopped_while_removing)
    wav = write_wav(tmp_path / "in.wav", tone(700, 1.0), 44100)
    out = tmp_path / "out.mp4"
    code = main(["render", str(wav), "-o", str(out), "--size", "160x120", "--preset",
                 "ultrafast", "--segments", "2", "--scheduler", cluster.address, "-q"])
    err = capsys.readouterr().err
    assert code == 128 + signal.SIGTERM, err
    assert "no output" not in err and "written" in err, err
    assert probe(out)[:3] == (30, SIZE, ["aac"])
    assert not hidden(tmp_path) and not segment_files(cluster.folder)


def descendants(pid):
    """Process ids of ``pid``'s children, theirs, and so on."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.parametrize("moment", ["cluster-starting", "rendering"])
def test_ctrl_c_to_the_group_with_a_local_cluster_is_one_line(tmp_path, moment):
    wav = write_wav(tmp_path / "in.wav", tone(700, 20.0), 44100)
    proc = subprocess.Popen([sys.executable, "-m", "fastviz", "render", str(wav), "-o",
                             str(tmp_path / "out.mp4"), "-q", "--size", "160x120",
                             "--preset", "ultrafast", "--scheduler", "local:2"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    word = "multiprocessing" if moment == "cluster-starting" else "libx264"
    try:
        with When(lambda: any(word in cmdline(p) for p in descendants(proc.pid)),
                  lambda: os.killpg(proc.pid, signal.SIGINT)) as when:  # as a terminal
            err = proc.communicate(timeout=90)[1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert when.done.is_set(), f"never saw {word}: {err}"
    assert proc.returncode == 130 and err.splitlines() == [
        "error: interrupted; no output was written"], err
    assert not (tmp_path / "out.mp4").exists() and not hidden(tmp_path)
    deadline = time.monotonic() + 10  # its workers go with it
    while descendants(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not ffmpeg_processes_in(tmp_path)


def test_a_worker_killed_in_a_batch_leaves_no_part_file(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_wav(inputs / "a.wav", tone(600, 8.0), 44100)
    outdir = tmp_path / "out"
    address = f"tcp://127.0.0.1:{free_port()}"
    procs = [start_scheduler(address, tmp_path)]
    try:
        procs.append(start_worker(address, tmp_path / "first"))
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
            first = procs[-1]

            def replace_worker():
                os.kill(first.pid, signal.SIGKILL)
                procs.append(start_worker(address, tmp_path / "second"))

            def writing():
                return encoding(first.pid) and any(p.suffix == ".part"
                                                   for p in outdir.rglob("*"))

            with When(writing, replace_worker) as killer:
                outcomes = render_batch([inputs], outdir, client=client, size=(320, 240),
                                        preset="medium", progress=False)
            assert killer.done.is_set()
    finally:
        stop(procs)
    assert outcomes[0].error is None, outcomes[0].error
    assert [p.name for p in outdir.iterdir()] == ["a.mp4"]  # no .part, no scratch folder
    assert probe(outdir / "a.mp4")[0] == 240


def test_workers_dying_of_memory_are_named_so(tmp_path, clip):
    plan, spec, _, _ = clip
    plan = replace(plan, renderer=HungryRenderer(plan.renderer))
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      memory_limit="600MB", dashboard_address=None,
                                      silence_logs=50) as local:
            with distributed.Client(local) as client:
                with pytest.raises(FastvizError) as info:
                    render_segments(plan, spec, tmp_path / "out.mp4", jobs=1,
                                    client=client, n_segments=2)
    text = str(info.value)
    assert "memory" in text and "600 MB" in text, text
    assert not list(tmp_path.iterdir())


class HungryRenderer(FrameRenderer):
    """The plan's renderer, taking 1.2 GB on its first block: a worker over its memory
    limit, which its nanny kills."""

    def __init__(self, renderer):
        self.__dict__.update(vars(renderer))

    def frames_nv12(self, values, out=None):
        hog = np.ones(1_200_000_000, np.uint8)
        time.sleep(5)
        del hog
        return super().frames_nv12(values, out)
