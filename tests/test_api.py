"""The Python API as front ends use it: renderer, writer, any signal, no display."""
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import mne
import numpy as np
import pytest
from helpers import decode_frames, decode_nv12, probe, write_wav

import fastviz

ROOT = Path(__file__).parents[1]


def test_public_names_are_documented_with_examples():
    for name in fastviz.__all__:
        obj = getattr(fastviz, name)
        assert obj.__doc__ and "Examples" in obj.__doc__, name


def test_renderer_frames_reuse_buffers_and_match_single_frames():
    rng = np.random.default_rng(0)
    r = fastviz.FrameRenderer(rng.integers(0, 256, (60, 80, 3)).astype(np.uint8),
                              rng.uniform(0, 80, 12), rng.uniform(0, 60, 12))
    values = rng.uniform(0, 1, (5, 12))
    buffer = np.empty((5, 60, 80, 3), np.uint8)
    block = r.frames(values, out=buffer)
    assert block is buffer
    for i in range(5):
        assert np.array_equal(r.frame(values[i]), block[i])
    with pytest.raises(ValueError, match="values must be"):
        r.frames(values[:, :3])


def test_frame_function_interpolates_in_time():
    r = fastviz.FrameRenderer(np.zeros((40, 40, 3), np.uint8), [20], [20], min_value=0)
    frame_at = r.frame_function(np.array([[0.0, 1.0]]), rate=2.0)  # 0 at t=0, 1 at t=.5
    areas = [(frame_at(t).sum(axis=2) > 0).sum() for t in (0.0, 0.25, 0.5, 3.0)]
    assert areas[0] == 0 and 0 < areas[1] < areas[2] == areas[3]


def test_video_writer_with_audio_array(tmp_path):
    frames = np.zeros((12, 48, 64, 3), np.uint8)
    frames[:, :, :32] = 255
    sound = np.sin(np.arange(22050) / 10).astype(np.float32) * 0.3
    with fastviz.VideoWriter(tmp_path / "o.mp4", (64, 48), 24, audio=(sound, 44100)) as v:
        v.write(frames[:5])
        v.write(frames[5])
        v.write(frames[6:])
    n_frames, size, codecs, seconds = probe(tmp_path / "o.mp4")
    assert (n_frames, size, codecs) == (12, (64, 48), ["aac"])
    assert abs(seconds - 0.5) < 1 / 24
    decoded = decode_frames(tmp_path / "o.mp4", (64, 48))
    assert decoded[3, :, :28].min() > 240 and decoded[3, :, 36:].max() < 15


@pytest.mark.parametrize("pixel_format", ["rgb24", "nv12"])
def test_colours_survive_encoding_and_are_tagged(tmp_path, pixel_format):
    import imageio_ffmpeg

    colours = np.array([[255, 0, 0], [0, 128, 0], [0, 0, 255], [241, 241, 240],
                        [230, 97, 86], [25, 115, 0], [128, 128, 128], [20, 20, 20]], np.uint8)
    frame = np.repeat(np.repeat(colours[None, :, None], 64, axis=0), 32, axis=2)
    frame = np.ascontiguousarray(frame.reshape(64, 256, 3))
    if pixel_format == "nv12":  # fastviz's own conversion: the background, a hidden dot
        frame = fastviz.FrameRenderer(frame, [0], [0]).frames_nv12([[np.nan]])[0]
    with fastviz.VideoWriter(tmp_path / "c.mp4", (256, 64), 30, crf=10,
                             pixel_format=pixel_format) as video:
        video.write(np.repeat(frame[None], 6, axis=0))
    decoded = decode_frames(tmp_path / "c.mp4", (256, 64))[3].astype(int)
    for i, colour in enumerate(colours):  # block centres, away from chroma edges
        assert np.abs(decoded[20:44, 32 * i + 8:32 * i + 24] - colour).max() <= 3
    info = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i",
                           str(tmp_path / "c.mp4")], capture_output=True, text=True).stderr
    assert "yuv420p(tv, bt709, progressive)" in info  # matrix, primaries, transfer


def test_nv12_frames_go_through_the_encoder_unchanged(tmp_path):
    import imageio_ffmpeg

    rng = np.random.default_rng(2)
    r = fastviz.FrameRenderer(rng.integers(0, 256, (47, 63, 3)).astype(np.uint8),
                              rng.uniform(5, 57, 6), rng.uniform(5, 41, 6))  # r <= 4.4
    assert r.nv12_size == (64, 48)
    frames = r.frames_nv12(rng.uniform(0, 1, (5, 6)))
    assert (frames[:, 47, :] == 16).all() and (frames[:, :47, 63] == 16).all()  # black pad
    out = tmp_path / "n.mp4"
    with fastviz.VideoWriter(out, (64, 48), 25, crf=0, pixel_format="nv12") as video:
        video.write(frames)  # crf 0: lossless, so the decoded planes must be ours
    assert np.array_equal(decode_nv12(out, (64, 48)), frames)
    headers = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(out),
                              "-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-"],
                             capture_output=True, text=True).stderr
    for field, value in (("video_full_range_flag", 0), ("colour_primaries", 1),
                         ("transfer_characteristics", 1), ("matrix_coefficients", 1),
                         ("chroma_sample_loc_type_top_field", 1)):  # BT.709, centred
        assert re.search(rf"{field}\s+\S+ = {value}\n", headers), field
    with pytest.raises(ValueError, match="even size"):
        fastviz.VideoWriter(tmp_path / "odd.mp4", (63, 47), 25, pixel_format="nv12")


def test_render_encodes_exactly_the_frames_of_its_analysis(tmp_path):
    """Lossless (crf 0): the video's planes are the renderer's frames at t = i / fps.

    The plumbing (times, band rows, odd-size padding, the pipe); the kernel tests check
    what ``frames_nv12`` draws."""
    rng = np.random.default_rng(4)
    audio = write_wav(tmp_path / "a.wav", rng.standard_normal(44100 * 2) * 0.2, 44100)
    background = rng.integers(0, 256, (90, 121, 3)).astype(np.uint8)
    xs, ys = rng.uniform(0, 121, 20), rng.uniform(0, 90, 20)
    out = fastviz.render(audio, tmp_path / "v.mp4", background=background,
                         electrodes=np.column_stack([xs, ys]), fps=25, crf=0, progress=False)
    env = fastviz.audio_envelopes(audio)
    amplitudes = env.scaled()[fastviz.electrode_bands(ys, 10)]
    renderer = fastviz.FrameRenderer(background, xs, ys)
    expected = renderer.frames_nv12(fastviz.values_at(amplitudes, env.rate,
                                                      np.arange(50) / 25))
    assert np.array_equal(decode_nv12(out, renderer.nv12_size), expected)


def make_ecog_raw(n=9, seconds=3.0, sfreq=250.0):
    names = [f"E{i}" for i in range(n)]
    info = mne.create_info(names, sfreq, "ecog")
    t = np.arange(int(seconds * sfreq)) / sfreq
    data = np.array([np.sin(2 * np.pi * 0.5 * t + i) for i in range(n)]) * 1e-5
    raw = mne.io.RawArray(data, info, verbose="error")
    pos = {name: (0.0, 0.01 * (i % 3), 0.01 * (i // 3)) for i, name in enumerate(names)}
    raw.set_montage(mne.channels.make_dig_montage(ch_pos=pos, coord_frame="head"))
    return raw


def test_render_mne_raw_ecog(tmp_path):
    raw = make_ecog_raw()
    out = fastviz.render_signal(raw, tmp_path / "raw.mp4", fps=20, size=(200, 160),
                                smoothing=2.0, progress=False)
    n_frames, size, codecs, _ = probe(out)
    assert (n_frames, size, codecs) == (60, (200, 160), [])
    # the projection puts all nine contacts on the picture, each drawn somewhere
    frames = decode_frames(out, size).astype(int)
    assert (np.abs(frames - 235).sum(axis=3) > 60).any(axis=0).sum() > 9 * 20


def test_render_epochs_evoked_and_named_positions(tmp_path):
    raw = make_ecog_raw(seconds=4.0)
    epochs = mne.make_fixed_length_epochs(raw, duration=1.0, verbose="error")
    positions = {name: (20 + 15 * i, 40) for i, name in enumerate(raw.ch_names)}
    background = np.full((80, 180, 3), 50, np.uint8)
    out = fastviz.render_signal(epochs, tmp_path / "ep.mp4", background=background,
                                electrodes=positions, scaling=(-1e-5, 1e-5), fps=10,
                                progress=False)
    assert probe(out)[0] == 10
    out = fastviz.render_signal(epochs.average(), tmp_path / "ev.mp4", fps=10,
                                progress=False)
    assert probe(out)[0] == 10


def test_signal_array_needs_a_matching_scene(tmp_path):
    with pytest.raises(fastviz.InputError, match="80 positions"):
        fastviz.render_signal(np.zeros((3, 10)), tmp_path / "o.mp4", rate=10)
    with pytest.raises(fastviz.InputError, match="rate"):
        fastviz.render_signal(np.zeros((80, 10)), tmp_path / "o.mp4")


def test_headless_never_imports_matplotlib(tmp_path):
    code = f"""
import sys, numpy as np, fastviz
assert "DISPLAY" not in __import__("os").environ
r = fastviz.FrameRenderer(np.zeros((30, 40, 3), np.uint8), [5, 20], [5, 20])
r.frames(np.random.default_rng(0).uniform(size=(3, 2)))
fastviz.render_signal(np.random.default_rng(0).uniform(size=(80, 20)), r"{tmp_path}/s.mp4",
                      rate=10, size=(160, 120), progress=False)
assert "matplotlib" not in sys.modules, "matplotlib was imported"
print("headless ok")
"""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MPLBACKEND"] = "this-backend-does-not-exist"  # any matplotlib import would fail
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0 and "headless ok" in done.stdout, done.stderr


@pytest.mark.parametrize("script", ["moviepy_frame_function.py", "mne_ecog_high_gamma.py"])
def test_example_scripts_make_videos(tmp_path, script):
    out = tmp_path / "out.mp4"
    done = subprocess.run([sys.executable, str(ROOT / "examples" / script), str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    n_frames, _, codecs, seconds = probe(out)
    assert n_frames > 0 and codecs == ["aac"] and seconds > 1


def test_notebook_example(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "notebook_frames.py"),
                           str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "frame0.png").exists() and probe(tmp_path / "wave.mp4")[0] == 48


def test_web_service_example():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from web_service import app
    finally:
        sys.path.pop(0)
    replies = []

    def call(body):
        data = json.dumps(body).encode()
        environ = {"CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data)}
        chunks = app(environ, lambda status, headers: replies.append(status))
        return b"".join(chunks)

    video = call({"values": np.random.default_rng(0).uniform(size=(80, 12)).tolist(),
                  "rate": 6})
    assert replies[-1] == "200 OK" and video[4:8] == b"ftyp"
    assert b"80 positions" in call({"values": [[0.5] * 12], "rate": 6})
    assert replies[-1] == "400 Bad Request"


def test_audio_arrays_in_any_layout_and_dtype(tmp_path):
    t = np.arange(44100) / 44100
    sine = np.sin(2 * np.pi * 1000 * t)
    as_float = fastviz.audio_envelopes(np.stack([sine, sine]) * 0.5, 44100)
    for other in ((sine * 16383).astype(np.int16), np.stack([sine, sine], axis=1) * 0.5):
        env = fastviz.audio_envelopes(other, 44100)
        assert env.duration == 1.0
        np.testing.assert_allclose(env.values, as_float.values, rtol=1e-3,
                                   atol=1e-4 * as_float.values.max())
    frames = np.zeros((3, 16, 16, 3), np.uint8)
    twelve = (np.tile(sine, (12, 1)) * 8000).astype(np.int16).T  # (n, 12 channels)
    with pytest.warns(fastviz.FastvizWarning, match="12 channels, more than the 8"):
        with fastviz.VideoWriter(tmp_path / "a.mp4", (16, 16), 3, audio=(twelve, 44100)) as v:
            v.write(frames)
    samples, rate = fastviz.load_audio(tmp_path / "a.mp4")
    level = np.abs(samples).max()
    assert 0.15 < level < 0.4  # 8000 / 32767 full scale, not clipped to a square wave


def test_unusual_pictures_and_tables(tmp_path):
    from PIL import Image

    grey16 = (np.linspace(0, 65535, 40 * 60).reshape(40, 60)).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "g16.png")
    picture = fastviz.load_background(tmp_path / "g16.png")
    assert picture[0, 0, 0] == 0 and picture[-1, -1, 0] == 255
    assert 120 < picture.mean() < 135
    (tmp_path / "e.csv").write_text("\ufeffname, x_2d, y_2d\nA, 1.5, 2\nB, 3, 4.25\n")
    xs, ys = fastviz.load_electrodes(tmp_path / "e.csv")
    assert xs.tolist() == [1.5, 3.0] and ys.tolist() == [2.0, 4.25]
