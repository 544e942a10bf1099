"""End to end: render real audio, decode the video, check what a viewer would see."""
import shlex
import subprocess
import sys

import numpy as np
import pandas as pd
from helpers import decode_frames, probe, tone, write_wav

import fastviz
from fastviz._analysis import FREQS


def test_render_decodes_to_the_right_frames_and_audio(tmp_path):
    rng = np.random.default_rng(0)
    seconds, rate = 3.3, 48000
    stereo = rng.standard_normal((2, int(seconds * rate))).astype(np.float32) * 0.1
    audio = write_wav(tmp_path / "in.wav", stereo, rate)
    out = fastviz.render(audio, tmp_path / "out.mp4", fps=25, size=(320, 240), progress=False)
    n_frames, size, codecs, audio_seconds = probe(out)
    assert n_frames == 83  # ceil(3.3 * 25)
    assert size == (320, 240)
    assert codecs == ["aac"]
    assert abs(audio_seconds - seconds) < 1 / 25
    assert abs(n_frames / 25 - seconds) < 1 / 25


def test_exact_rational_rate_odd_size_and_clip(tmp_path):
    audio = write_wav(tmp_path / "in.wav", tone(1000, 5.0), 44100)
    out = fastviz.render(audio, tmp_path / "out.mp4", fps="30000/1001", size=(161, 121),
                         start=1.0, duration=2.0, preset="ultrafast", progress=False)
    n_frames, size, codecs, audio_seconds = probe(out)
    assert n_frames == 60  # ceil(2.0 * 29.97) = 60
    assert size == (162, 122)  # padded by one column and one row, not rescaled
    assert abs(audio_seconds - 2.0) < 1001 / 30000


def test_cli_demo_and_module_entry(tmp_path):
    out = tmp_path / "demo.mp4"
    command = shlex.join([sys.executable, "-m", "fastviz", "demo", "-o", str(out),
                          "--duration", "2", "--size", "400x300"])
    done = subprocess.run(["bash", "-c", command + " >&-"],  # stdout closed: still rc 0
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    n_frames, size, codecs, _ = probe(out)
    assert (n_frames, size, codecs) == (60, (400, 300), ["aac"])
    version = subprocess.run([sys.executable, "-m", "fastviz", "--version"],
                             capture_output=True, text=True)
    assert version.stdout.strip() == f"fastviz {fastviz.__version__}"


def test_tone_in_one_band_grows_that_bands_electrodes(tmp_path):
    """A tone in band 2, then one in band 7: the matching electrodes are the large ones.

    A noise burst at the end gives every band a loud moment, so that min-max scaling
    per band (as in the post) does not stretch a band's faint leakage to full size.
    """
    height, width = 400, 200
    ys = np.linspace(20, 380, 10)  # one electrode a band, low bands at the bottom
    pd.DataFrame({"x_2d": 100.0, "y_2d": ys}).to_csv(tmp_path / "e.csv", index=False)
    background = np.full((height, width, 3), 128, np.uint8)
    from PIL import Image

    Image.fromarray(background).save(tmp_path / "bg.png")
    noise = np.random.default_rng(5).standard_normal(44100).astype(np.float32)
    audio = np.concatenate([tone(FREQS[2], 1.5), tone(FREQS[7], 1.5), noise])
    wav = write_wav(tmp_path / "tones.wav", audio, 44100)
    out = fastviz.render(wav, tmp_path / "out.mp4", background=tmp_path / "bg.png",
                         electrodes=tmp_path / "e.csv", fps=10, dot_size=40,
                         crf=10, progress=False)
    frames = decode_frames(out, (width, height)).astype(int)
    bands = fastviz.electrode_bands(ys, 10)

    def areas(frame):
        changed = np.abs(frame - 128).sum(axis=2) > 60
        return np.array([changed[max(0, int(y) - 18):int(y) + 18].sum() for y in ys])

    first, second = areas(frames[7]), areas(frames[22])  # t = 0.7 s and 2.2 s
    for areas_now, band in ((first, 2), (second, 7)):
        assert areas_now.argmax() == np.flatnonzero(bands == band)[0], areas_now
        # a neighbour shares some of the tone (Morlet bands overlap); the rest stay small
        assert (areas_now[np.abs(bands - band) >= 2] < areas_now.max() / 2).all(), areas_now
