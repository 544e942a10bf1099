"""Front ends (issue 19): a prepared render drawn and written many ways, progress and
cancel everywhere, inputs from memory, renders in threads, results that display
themselves, and the notebook and moviepy examples run as they stand (a real kernel)."""
import glob
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    decode_frames,
    decode_nv12,
    ffmpeg_processes_in,
    hidden,
    probe,
    tone,
    write_wav,
)
from scipy.io import wavfile

import fastviz
from fastviz import Cancelled, InputError, OptionError
from fastviz._encode import read_source_tag

ROOT = Path(__file__).parents[1]
SIZE = (161, 121)  # odd: the MP4's frame gets its black column and row, as render's
FAST = dict(preset="ultrafast", progress=False)


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """2 s of the demo song (the bundled scene: its table's band column, auto dots)."""
    samples, rate = fastviz._demo.jingle_bells()
    path = tmp_path_factory.mktemp("song") / "song.wav"
    wavfile.write(path, rate, samples[8 * rate:10 * rate])
    return path


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    """120 s of noise at 16 kHz: an analysis of twelve blocks, half a second or more."""
    path = tmp_path_factory.mktemp("long") / "long.wav"
    noise = np.random.default_rng(0).standard_normal(120 * 16000) * 3000
    wavfile.write(path, 16000, noise.astype(np.int16))
    return path


def left_behind(folder):
    """What a stopped render may not leave: hidden files, scratch copies, ffmpeg."""
    scratch = glob.glob(os.path.join(tempfile.gettempdir(), "fastviz-audio-*"))
    return hidden(folder), scratch, ffmpeg_processes_in(folder)


# ------------------------------------------------------------ one prepared render

def test_what_a_prepared_render_draws_is_what_render_writes(tmp_path, song):
    prepared = fastviz.prepare(song, size=SIZE, progress=False)
    n = prepared.n_frames
    assert (n, prepared.fps, prepared.size) == (60, 30, (162, 122))
    written = prepared.write(tmp_path / "p.mp4", crf=0, preset="ultrafast")
    rendered = fastviz.render(song, tmp_path / "r.mp4", size=SIZE, crf=0, **FAST)
    expected = prepared.frames(0, n, "nv12")
    assert np.array_equal(decode_nv12(written, (162, 122)), expected)  # lossless
    assert np.array_equal(decode_nv12(rendered, (162, 122)), expected)
    for t in (0.0, 0.51, 1.99):
        picture = fastviz.frame(song, t, size=SIZE)
        assert np.array_equal(picture, prepared.frame(t))
        assert np.array_equal(picture, prepared.frames(0, n)[int(t * 30)])
        assert np.array_equal(prepared.make_frame(t), picture)
    assert np.array_equal(prepared.layout(), fastviz.layout(size=SIZE))
    # the bundled table's band column decides the bands, as in render
    table_bands = fastviz._scene.build_scene(*fastviz.demo_scene()).bands
    assert np.array_equal(prepared.plan.rows, table_bands)
    with pytest.raises(InputError, match="past the video's end"):
        prepared.frame(2.0)
    with pytest.raises(OptionError, match="0 <= first < stop <= 60"):
        prepared.frames(5, 2)
    with pytest.raises(OptionError, match="rgb, rgba or nv12"):
        prepared.frame(1.0, "yuv")
    assert prepared.make_frame(5.0).shape == (122, 162, 3)  # moviepy's t past the end
    mask = prepared.make_mask(1.0)
    assert mask.dtype == float and 0 <= mask.min() and mask.max() == 1.0
    assert np.array_equal(mask, prepared.frame(1.0, "rgba")[..., 3] / 255)


def test_another_format_builds_the_scene_again_never_the_analysis(tmp_path, song,
                                                                  monkeypatch):
    analyses = []
    envelopes_of = fastviz._plan.envelopes_of
    monkeypatch.setattr(fastviz._plan, "envelopes_of",
                        lambda *a, **k: analyses.append(1) or envelopes_of(*a, **k))
    prepared = fastviz.prepare(song, progress=False)  # the bundled 800 x 600 brain
    with pytest.warns(fastviz.FastvizWarning, match="no sound"):
        gif = prepared.write(tmp_path / "a.gif")  # 480 px wide, 15 fps
    webm = prepared.write(tmp_path / "a.webm", fps=10, progress=False)
    assert analyses == [1]
    assert probe(gif)[:2] == (30, (480, 360)) and probe(webm)[:2] == (20, (800, 600))
    assert prepared.size == (800, 600)  # its own frames are unchanged
    with pytest.raises(TypeError, match="not 'cmap'.*prepare"):
        prepared.write(tmp_path / "b.mp4", cmap="viridis")
    with pytest.raises(TypeError, match="did you mean 'fps'"):
        prepared.write(tmp_path / "b.mp4", fsp=25)
    assert not (tmp_path / "b.mp4").exists()


# ------------------------------------------------------------- progress and cancel

def test_progress_reports_the_analysis_then_the_frames(tmp_path, long_wav):
    calls, threads = [], set()

    def progress(done, total, left):
        calls.append((time.monotonic(), done, total, left))
        threads.add(threading.get_ident())

    fastviz.render(long_wav, tmp_path / "o.mp4", size=(64, 48), fps=10,
                   preset="ultrafast", progress=progress)
    analysis = [c for c in calls if c[2] is None]
    frames = [c for c in calls if c[2] is not None]
    assert analysis and calls[:len(analysis)] == analysis  # the first phase comes first
    assert all(left is None for *_, left in analysis)
    assert [d for _, d, _, _ in analysis] == sorted(d for _, d, _, _ in analysis)
    assert frames[0][1:] == (0, 1200, None) and frames[-1][1:] == (1200, 1200, 0.0)
    assert [d for _, d, _, _ in frames] == sorted(d for _, d, _, _ in frames)
    assert threads == {threading.get_ident()}  # from the rendering thread


def test_cancel_during_the_analysis_stops_it_and_leaves_nothing(tmp_path, long_wav):
    seen, asks = [], []

    def cancel():  # asked as the analysis starts, then at most every 0.1 s as it reads
        asks.append(1)
        return len(asks) > 1

    with pytest.raises(Cancelled, match="analysis of .*long.wav"):
        fastviz.render(long_wav, tmp_path / "o.mp4", size=(64, 48),
                       progress=lambda *report: seen.append(report), cancel=cancel)
    assert all(total is None for _, total, _ in seen)  # no frame phase began
    assert not (tmp_path / "o.mp4").exists() and left_behind(tmp_path) == ([], [], [])
    asks.clear()
    with pytest.raises(Cancelled, match="analysis of"):  # a prepared render's too
        fastviz.prepare(long_wav, progress=False, cancel=cancel)


def test_cancel_a_signal_render_and_a_batch(tmp_path, long_wav):
    values = np.random.default_rng(1).uniform(size=(80, 6000))  # 10 min at 10 Hz
    calls = []
    with pytest.raises(Cancelled):  # true when asked the second time, 0.1 s on
        fastviz.render_signal(values, tmp_path / "s.mp4", rate=10, size=(64, 48),
                              preset="ultrafast", progress=False,
                              cancel=lambda: calls.append(1) or len(calls) > 1)
    assert not (tmp_path / "s.mp4").exists() and left_behind(tmp_path) == ([], [], [])
    asked = []  # the batch asks before each file, the prepared render before its scene,
    # the analysis as it starts, then as it reads: the fourth time, mid-decode
    with pytest.raises(Cancelled) as stopped:
        fastviz.render_batch([long_wav], tmp_path / "out", size=(64, 48), progress=False,
                             cancel=lambda: asked.append(1) or len(asked) > 3)
    assert "envelopes_of" in {code.co_name for code in _frames(stopped.value.__traceback__)}
    assert not list((tmp_path / "out").iterdir())
    assert left_behind(tmp_path) == ([], [], [])


def test_a_batch_reports_files(tmp_path, song):
    calls = []
    outcomes = fastviz.render_batch([song], tmp_path / "out", size=(64, 48),
                                    preset="ultrafast", progress=lambda *a: calls.append(a))
    assert outcomes[0].error is None
    assert calls[0] == (0, 1, None) and calls[-1] == (1, 1, 0.0)


def test_progress_is_told_at_a_bounded_rate_and_at_the_end(monkeypatch):
    """The rate bound on a clock the test sets: no real time measured."""
    import types
    from fractions import Fraction

    from fastviz import _progress

    now = [0.0]
    monkeypatch.setattr(_progress, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(_progress, "REPORT_SECONDS", 0.25)  # exact in binary, as is 1/40
    said = []
    with _progress.Reports(lambda *a: said.append(a), 100) as bar:
        for step in range(100):  # a frame every 25 ms of the set clock
            now[0] = Fraction(step + 1, 40)  # exact: 0.25 s apart is 10 frames
            bar.update(1)
    assert said[0] == (0, 100, None) and said[-1] == (100, 100, 0.0)
    told = [done for done, *_ in said[1:-1]]
    assert told == list(range(10, 101, 10))  # every 0.25 s of the clock, not every frame


def _frames(traceback):
    while traceback is not None:
        yield traceback.tb_frame.f_code
        traceback = traceback.tb_next


def test_three_renders_in_threads_cancel_fail_and_finish(tmp_path, song):
    """A web app's workers: one cancelled, one failing (its progress raises), one
    finishing; the finished video equals a lone render's, the others leave nothing."""
    options = dict(size=(160, 120), crf=0, preset="ultrafast")
    lone = fastviz.render(song, tmp_path / "lone.mp4", progress=False, **options)
    folders = {name: tmp_path / name for name in ("cancelled", "failed", "finished")}
    for folder in folders.values():
        folder.mkdir()
    results, reports, writing = {}, {name: [] for name in folders}, threading.Event()
    running = threading.Barrier(3, timeout=60)

    def progress_of(name):
        def progress(done, total, left):
            reports[name].append((threading.get_ident(), done, total))
            if total is not None and done == 0:  # each has its encoder running
                running.wait()
                writing.set()
                if name == "failed":
                    raise RuntimeError("the front end broke")
        return progress

    def one(name):
        try:
            results[name] = fastviz.render(
                song, folders[name] / "o.mp4", progress=progress_of(name),
                cancel=writing.is_set if name == "cancelled" else None, **options)
        except BaseException as exc:
            results[name] = exc

    threads = {name: threading.Thread(target=one, args=(name,)) for name in folders}
    for thread in threads.values():
        thread.start()
    for thread in threads.values():
        thread.join(timeout=120)
    assert isinstance(results["cancelled"], Cancelled), results
    assert isinstance(results["failed"], RuntimeError), results
    assert results["finished"] == folders["finished"] / "o.mp4"
    assert np.array_equal(decode_frames(results["finished"], (160, 120)),
                          decode_frames(lone, (160, 120)))
    assert reports["finished"][-1][1:] == (60, 60)
    for name in ("cancelled", "failed"):
        assert not list(folders[name].iterdir()), name
    for name, thread in threads.items():  # each report came from its own render's thread
        assert {ident for ident, *_ in reports[name]} == {thread.ident}
    assert not ffmpeg_processes_in(tmp_path) and not hidden(tmp_path)


# ------------------------------------------------------------------ from memory

def test_audio_from_memory_and_from_a_file_object(tmp_path, song):
    rate, samples = wavfile.read(song)
    stereo = np.stack([samples, samples], axis=1)  # (n, 2) int16: its mix is the file
    from_path = fastviz.render(song, tmp_path / "path.mp4", size=(160, 120), crf=0, **FAST)
    from_samples = fastviz.render((stereo, rate), tmp_path / "samples.mp4", size=(160, 120),
                                  crf=0, **FAST)
    with open(song, "rb") as file:
        from_file = fastviz.render(file, tmp_path / "file.mp4", size=(160, 120), crf=0,
                                   **FAST)
    frames = decode_frames(from_path, (160, 120))
    for video in (from_samples, from_file):
        assert probe(video)[:3] == (60, (160, 120), ["aac"])
        assert np.abs(decode_frames(video, (160, 120)).astype(int) - frames).max() <= 1
    sound, sound_rate = fastviz.load_audio(from_samples)
    assert sound_rate == rate and abs(len(sound) / rate - 2.0) < 0.05
    assert read_source_tag(from_path) is not None  # an array is not a file: no tag
    assert read_source_tag(from_samples) is None and read_source_tag(from_file) is None
    prepared = fastviz.prepare((samples, rate), start=0.5, duration=1.0, progress=False)
    assert prepared.n_frames == 30
    assert left_behind(tmp_path) == ([], [], [])


@pytest.mark.parametrize("audio, words", [
    (42, "got int 42"),
    ([0.1, 0.2], "got list"),
    (("song", 44100), "samples must be numbers, got str 'song'"),
    ((np.zeros(100), 44100.5), "audio rate must be a whole number"),
    (io.StringIO("RIFF"), "is open in text mode: open it in binary mode"),
    (io.BytesIO(b"no sound in here"), "cannot decode audio from the BytesIO object"),
])
def test_other_audio_is_refused_by_what_it_is(tmp_path, audio, words):
    with pytest.raises(InputError, match=words) as refused:
        fastviz.render(audio, tmp_path / "o.mp4", progress=False)
    if isinstance(audio, (int, list)):
        assert "path of an audio file, a (samples, rate) pair or a binary file" in str(
            refused.value)
    assert not list(tmp_path.iterdir()) and left_behind(tmp_path) == ([], [], [])
    with pytest.raises(InputError, match="start 3 s is past the end of the audio array"):
        fastviz.render((np.zeros(44100), 44100), tmp_path / "o.mp4", start=3)


# -------------------------------------------------------------- in a notebook

def test_results_display_themselves(tmp_path, song, monkeypatch):
    import base64

    from PIL import Image

    video = fastviz.render(song, tmp_path / "v.mp4", size=(160, 120), **FAST)
    assert isinstance(video, fastviz.Video) and isinstance(video, Path)
    page = video._repr_html_()
    data = page.split("base64,")[1].split('"')[0]
    assert page.startswith("<video controls") and 'type="video/mp4"' in page
    assert base64.b64decode(data) == video.read_bytes()
    monkeypatch.setattr(fastviz.Video, "embed_limit", 1000)  # above it: linked
    monkeypatch.chdir(tmp_path)
    assert '<source src="v.mp4"' in video._repr_html_() and "linked" in video._repr_html_()
    with pytest.warns(fastviz.FastvizWarning, match="no sound"):
        gif = fastviz.render(song, tmp_path / "v.gif", size=(160, 120), progress=False)
    assert gif._repr_html_().startswith('<img src="v.gif"')
    picture = fastviz.frame(song, 1.0, size=(160, 120))
    for shown in (picture, fastviz.layout(size=(160, 120))):
        assert isinstance(shown, fastviz.Picture)
        png = Image.open(io.BytesIO(shown._repr_png_()))
        assert np.array_equal(np.asarray(png), shown)
    assert type(picture.astype(int) - 1) is np.ndarray and picture[0, 0, :1].sum() >= 0


def test_preview_redraws_from_frame(song):
    pytest.importorskip("ipywidgets")
    from fastviz._display import jpeg_bytes

    prepared = fastviz.prepare(song, size=(160, 120), progress=False)
    preview = prepared.preview(at=0.5)
    image, slider = preview.children
    assert image.value == jpeg_bytes(prepared.frame(0.5))
    slider.value = 1.5
    assert image.value == jpeg_bytes(prepared.frame(1.5))
    assert slider.max == pytest.approx(59 / 30)


def test_the_notebook_example_runs_on_a_real_kernel(tmp_path):
    """examples/notebook.ipynb on ipykernel: pictures, the embedded video, tqdm's widget
    bar while it is written, the preview slider, and nothing on stderr."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = {cell.source.splitlines()[-1]: cell.outputs
               for cell in notebook.cells if cell.cell_type == "code"}
    kinds = {line: [sorted(o.get("data", {})) or [o.output_type] for o in out]
             for line, out in outputs.items()}
    assert "image/png" in kinds["picture"][0] and "image/png" in kinds["prepared.layout()"][0]
    written = outputs["video"]
    assert "application/vnd.jupyter.widget-view+json" in written[0]["data"]  # the bar
    page = written[-1]["data"]["text/html"]
    assert page.startswith("<video controls") and "data:video/mp4;base64," in page
    assert "application/vnd.jupyter.widget-view+json" in kinds["prepared.preview(at=1.0)"][0]
    streams = [o for out in outputs.values() for o in out if o.output_type == "stream"]
    assert not streams, streams  # no wall of progress lines, no notes
    assert probe(tmp_path / "song.mp4")[:3] == (60, (320, 240), ["aac"])


# ------------------------------------------------------------------ moviepy

def test_the_moviepy_composite_example(tmp_path):
    out = tmp_path / "composite.mp4"
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "moviepy_composite.py"),
                           str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert probe(out)[:3] == (48, (480, 270), ["aac"])
    # the dots, drawn by fastviz, over moviepy's backdrop: composite it here and compare
    samples, rate = fastviz._demo.jingle_bells()
    song = write_wav(tmp_path / "song.wav", samples[:3 * rate], rate)
    dots = fastviz.prepare(song, duration=2, size=(320, 240), fps=24, transparent=True,
                           progress=False)
    ramp = np.linspace(20, 90, 270)[:, None, None] * np.array([0.3, 0.5, 1.0])
    expected = np.broadcast_to(ramp, (270, 480, 3)).astype(np.uint8).astype(float)
    rgba = dots.frame(1.5, "rgba").astype(float)
    alpha = rgba[..., 3:] / 255
    region = expected[15:255, 80:400]
    expected[15:255, 80:400] = rgba[..., :3] * alpha + region * (1 - alpha)
    decoded = decode_frames(out, (480, 270))[36].astype(float)
    assert np.abs(decoded - expected).mean() < 3  # x264 at its default quality
    assert (alpha > 0.5).sum() > 300  # there are dots to see


def test_what_the_front_end_trial_found(tmp_path):
    """A Fraction time (k / fps is frame k), huge and NaN times, closed and text-mode
    files, an output that is not a path, a cancel that is not callable, a write after
    close, a cancel asked before the scene is built."""
    from fractions import Fraction

    wav = write_wav(tmp_path / "a.wav", tone(500, 1.0), 44100)
    prepared = fastviz.prepare(wav, size=(64, 48))
    last = prepared.n_frames - 1
    assert np.array_equal(prepared.frame(Fraction(last) / prepared.fps),
                          prepared.frames(last, last + 1)[0])
    with pytest.raises(fastviz.InputError, match="past the video's end"):
        prepared.frame(1e308)
    with pytest.raises(fastviz.OptionError, match="finite"):
        prepared.make_frame(float("nan"))
    assert prepared.make_frame(1e9).shape == (48, 64, 3)  # held at the end
    with open(wav) as text, pytest.raises(fastviz.InputError, match="binary mode"):
        fastviz.render(text, tmp_path / "t.mp4")
    closed = open(wav, "rb")
    closed.close()
    with pytest.raises(fastviz.InputError, match="is closed"):
        fastviz.render(closed, tmp_path / "c.mp4")
    with pytest.raises(fastviz.OptionError, match="output must be a path"):
        fastviz.render(wav, 5)
    with pytest.raises(fastviz.OptionError, match="cancel must be a callable"):
        prepared.write(tmp_path / "n.mp4", cancel=True)
    with open(wav, "rb") as file:
        spooled = fastviz.prepare(file, size=(64, 48))
    spooled.close()
    with pytest.raises(fastviz.OptionError, match="was closed"):
        spooled.write(tmp_path / "s.mp4")
    asked = []
    with pytest.raises(fastviz.Cancelled):
        fastviz.prepare(wav, cancel=lambda: asked.append(1) or True)
    assert len(asked) == 1  # asked first, before the scene and the analysis
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]
