"""Bad input gets a clear error, a non-zero exit, and nothing is lost or left behind."""
import dataclasses
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import ffmpeg_processes_in, hidden, tone, write_wav
from scipy.io import wavfile

import fastviz
from fastviz import EncodeError, InputError, OutputError, VideoWriter
from fastviz.cli import main


@pytest.fixture
def wav(tmp_path):
    return write_wav(tmp_path / "in.wav", tone(800, 1.0), 44100)


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


leftovers, ffmpeg_processes_writing = hidden, ffmpeg_processes_in  # the names used here


def test_missing_audio(tmp_path, capsys):
    code, err = run_cli(capsys, "render", tmp_path / "nope.wav", "-o", tmp_path / "o.mp4")
    assert code == 1 and "error: audio file not found" in err and "nope.wav" in err
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("content", [b"", os.urandom(5000), b"RIFF\x00\x00\x00\x00WAVEjunk"])
def test_corrupt_audio(tmp_path, capsys, content):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    code, err = run_cli(capsys, "render", bad, "-o", tmp_path / "o.mp4", "-q")
    assert code == 1 and "bad.wav" in err and err.startswith("error: ")
    assert not (tmp_path / "o.mp4").exists() and not leftovers(tmp_path)


def test_file_without_audio(tmp_path, capsys):
    picture = tmp_path / "picture.png"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(picture)
    code, err = run_cli(capsys, "render", picture, "-o", tmp_path / "o.mp4", "-q")
    assert code == 1 and "picture.png has no audio stream" in err
    assert err.count("\n") == 1  # one error: line, not ffmpeg's stream-map advice


@pytest.mark.parametrize("content", [b"", b"\x00\xff" * 3000, b"not audio at all\n" * 50])
def test_a_file_ffmpeg_cannot_decode_is_one_line(tmp_path, capsys, content):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(content)
    code, err = run_cli(capsys, "render", bad, "-o", tmp_path / "o.mp4", "-q")
    assert code == 1 and err.startswith(f"error: cannot decode audio from {bad}: ")
    assert err.count("\n") == 1 and not list(tmp_path.glob("o*"))


def test_more_than_64_integer_channels_are_named(tmp_path, capsys):
    """A 16-bit WAV fails in ffmpeg's resampler before any header: the count is still
    read, from the stream's description."""
    wav = tmp_path / "c65.wav"
    wavfile.write(wav, 8000, np.zeros((800, 65), np.int16))
    code, err = run_cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", "-q")
    assert code == 1 and "c65.wav has 65 audio channels" in err and "at most 64" in err


def test_signal_rates_and_ragged_rows_say_what_is_wrong(tmp_path):
    with pytest.raises(InputError, match="rate must be a sampling rate in Hz above 0, got -1"):
        fastviz.render_signal(np.zeros((2, 100)), tmp_path / "o.mp4", rate=-1)
    with pytest.raises(InputError, match="every row as long"):
        fastviz.render_signal([[0.0, 1.0], [0.0]], tmp_path / "o.mp4", rate=10)
    assert not list(tmp_path.iterdir())


def test_existing_output_is_kept_unless_asked(tmp_path, wav, capsys):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"precious")
    code, err = run_cli(capsys, "render", wav, "-o", out, "-q", "--size", "64x48")
    assert code == 1 and "exists" in err and out.read_bytes() == b"precious"
    code, err = run_cli(capsys, "render", wav, "-o", out, "-q", "--size", "64x48", "-y")
    assert code == 0 and out.read_bytes()[4:8] == b"ftyp"


def test_unwritable_output_folder(tmp_path, wav, capsys):
    code, err = run_cli(capsys, "render", wav, "-o", tmp_path / "missing" / "o.mp4", "-q")
    assert code == 1 and "cannot write" in err and "missing" in err


@pytest.mark.parametrize("csv, message", [
    ("x,y\n1,2\n", "lacks column"),
    ("x_2d,y_2d\n1,2\nthree,4\n", "row 3"),
    ("x_2d,y_2d\n", "no rows"),
    ('x_2d,y_2d\n"1,2\n', "cannot read"),
])
def test_bad_electrode_table(tmp_path, wav, capsys, csv, message):
    table = tmp_path / "e.csv"
    table.write_text(csv)
    background, _ = fastviz._demo.demo_scene()
    code, err = run_cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", "-q",
                        "--background", background, "--electrodes", table)
    assert code == 1 and "e.csv" in err and message in err


def test_bad_background_and_half_a_scene(tmp_path, wav, capsys):
    _, table = fastviz._demo.demo_scene()
    (tmp_path / "bg.png").write_text("not a picture")
    code, err = run_cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", "--background",
                        tmp_path / "bg.png", "--electrodes", table)
    assert code == 1 and "cannot read background picture" in err and "bg.png" in err
    code, err = run_cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", "--background",
                        tmp_path / "bg.png")
    assert code == 2 and "needs electrode positions" in err  # half a scene: usage


def test_bad_options(tmp_path, wav, capsys):
    code, err = run_cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", "--channel", "3")
    assert code == 1 and "channel 3 does not exist" in err  # a fact of this file
    with pytest.raises(SystemExit):
        main(["render", str(wav), "-o", "x.mp4", "--size", "big"])


@pytest.mark.parametrize("extra, message", [
    (["--speed", "turbo"], "--speed must be one of"),
    (["--fps", "abc"], "--fps must be a positive number"),
    (["--fps", "0"], "frame rate"),
    (["--crf", "60"], "--crf must be a whole number in 0..51"),
    (["--jobs", "0"], "--jobs must be"),
    (["--dot-size", "-5"], "--dot-size must be"),
    (["--preset", "quick"], "unknown preset 'quick'"),
    (["--transparent"], "--transparent needs a format with an alpha channel"),
    (["--format", "gif"], "--format must match the output's name"),
    (["--codec", "vp9"], "codec vp9 does not go in"),
    (["--montage", "nope"], "--montage must be one MNE ships"),
    (["--look", "neon"], "--look must be a bundled look"),
    (["--bg-color", "notacolour"], "--bg-color must be a colour"),
    (["--cmap", "notamap"], "--cmap must be a colour"),
    (["--size", "99999x99999"], "is too large"),
    (["--encoder", "h265"], "--encoder must be a video encoder"),
    (["--sampling", "sometimes"], "invalid choice"),
])
def test_every_bad_flag_value_is_a_usage_error(tmp_path, wav, capsys, extra, message):
    """One rule: a flag's value (or flags together) that cannot work is argparse's 2,
    before any work, with one error line. --speed, --fps, --crf, --jobs and a negative
    --dot-size used to exit 1, like a missing file, while --size 100 exited 2."""
    try:
        code = main(["render", str(wav), "-o", str(tmp_path / "o.mp4"), "-q", *extra])
    except SystemExit as exit:  # argparse's own: a choice, a type
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert err.count("error:") == 1 and (err.startswith("error: ") or "usage:" in err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


def test_files_and_the_machine_are_errors_not_usage(tmp_path, wav, capsys):
    for args in (["render", str(tmp_path / "nope.wav"), "-o", str(tmp_path / "o.mp4")],
                 ["render", str(wav), "-o", str(tmp_path / "o.mp4"), "--look",
                  str(tmp_path / "missing.toml")],
                 ["render", str(wav), "-o", str(tmp_path / "no" / "o.mp4")]):
        assert main(args) == 1
    assert "look file not found" in capsys.readouterr().err


def test_ffmpeg_refusing_settings_shows_its_words(tmp_path):
    writer = VideoWriter(tmp_path / "o.mp4", (64, 48), 30)
    # past the up-front check (the writer trusts its spec): what ffmpeg says must show
    writer.spec = dataclasses.replace(writer.spec, preset="nonsense")
    with pytest.raises(EncodeError) as info:
        with writer as video:
            for _ in range(50):
                video.write(np.zeros((10, 48, 64, 3), np.uint8))
    text = str(info.value)
    assert "nonsense" in text and "command:" in text and "o.mp4" in text
    assert not (tmp_path / "o.mp4").exists() and not leftovers(tmp_path)


def test_ffmpeg_dying_mid_stream(tmp_path):
    with pytest.raises(EncodeError, match="ffmpeg stopped reading frames"):
        with VideoWriter(tmp_path / "o.mp4", (64, 48), 30) as video:
            video.write(np.zeros((5, 48, 64, 3), np.uint8))
            video._proc.kill()
            for _ in range(200):
                video.write(np.zeros((10, 48, 64, 3), np.uint8))
    assert not (tmp_path / "o.mp4").exists() and not leftovers(tmp_path)
    assert not ffmpeg_processes_writing(tmp_path)


def test_exception_mid_stream_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(tmp_path / "o.mp4", (64, 48), 30) as video:
            video.write(np.zeros((5, 48, 64, 3), np.uint8))
            raise KeyboardInterrupt
    assert video._proc.returncode is not None
    assert not (tmp_path / "o.mp4").exists() and not leftovers(tmp_path)


def test_normal_close_reaps_ffmpeg(tmp_path):
    with VideoWriter(tmp_path / "o.mp4", (64, 48), 30) as video:
        video.write(np.zeros((5, 48, 64, 3), np.uint8))
    assert video._proc.returncode == 0 and (tmp_path / "o.mp4").exists()
    assert not ffmpeg_processes_writing(tmp_path)


def test_ctrl_c_in_the_cli(tmp_path):
    wav = write_wav(tmp_path / "long.wav", tone(800, 120.0), 44100)
    out = tmp_path / "o.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "fastviz", "render", str(wav), "-o",
                             str(out), "--preset", "slow", "--size", "800x800"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 60
    while not ffmpeg_processes_writing(tmp_path) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130 and "interrupted" in err
    assert not out.exists() and not leftovers(tmp_path)
    assert not ffmpeg_processes_writing(tmp_path)


def test_a_batch_says_what_it_did_and_what_an_interruption_leaves(tmp_path, capsys):
    """A batch whose every file was made before printed "2/2 files, 499313.4 files/s"
    and "wrote out"; an interrupted batch said "no output was written" though the
    videos before were; a 10-channel file was averaged to stereo without a note."""
    short = write_wav(tmp_path / "a.wav", tone(800, 0.3), 44100)
    ten = write_wav(tmp_path / "ten.wav", np.stack([tone(300 + 50 * i, 0.3) for i in
                                                    range(10)]), 44100)
    batch = ["render", str(short), str(ten), "--outdir", str(tmp_path / "out"), "--size",
             "32x24", "--preset", "ultrafast"]
    assert main(batch) == 0
    err = capsys.readouterr().err
    assert "note: " in err and "ten.wav has 10 channels" in err and "average" in err
    assert "wrote 2 videos to" in err
    assert main(batch) == 0
    err = capsys.readouterr().err
    assert "nothing to render: the 2 videos in" in err and "files/s" not in err, err
    assert "wrote" not in err
    long = write_wav(tmp_path / "long.wav", tone(800, 120.0), 44100)
    proc = subprocess.Popen([sys.executable, "-m", "fastviz", "render", str(short), str(ten),
                             str(long), "--outdir", str(tmp_path / "out"), "--size",
                             "800x800", "--preset", "slow"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 60
    while not ffmpeg_processes_writing(tmp_path / "out") and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "2 videos finished before are in" in err and "a rerun resumes" in err, err
    assert "no output was written" not in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "ten.mp4"]


def test_api_raises_instead_of_exiting(tmp_path):
    with pytest.raises(InputError):
        fastviz.render(tmp_path / "nope.wav", tmp_path / "o.mp4")
    (tmp_path / "o.mp4").write_bytes(b"x")
    with pytest.raises(OutputError):
        fastviz.render(tmp_path / "nope.wav", tmp_path / "o.mp4")


def test_nan_samples_in_a_file(tmp_path, capsys):
    bad = write_wav(tmp_path / "nan.wav", np.full(4410, np.nan, np.float32), 44100)
    code, err = run_cli(capsys, "render", bad, "-o", tmp_path / "o.mp4", "-q")
    assert code == 1 and "NaN" in err and "nan.wav" in err


def test_missing_ffmpeg_is_an_error_not_a_traceback(tmp_path, wav):
    env = {**os.environ, "IMAGEIO_FFMPEG_EXE": str(tmp_path / "no-ffmpeg")}
    done = subprocess.run([sys.executable, "-m", "fastviz", "render", str(wav), "-o",
                           str(tmp_path / "o.mp4"), "-q"], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 1 and done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr


def test_a_render_thread_raising_stops_the_render_cleanly(tmp_path, wav, monkeypatch):
    calls = []
    draw = fastviz.FrameRenderer.frames_nv12

    def failing(self, values, out=None):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("a render thread broke")
        return draw(self, values, out)

    monkeypatch.setattr(fastviz.FrameRenderer, "frames_nv12", failing)
    with pytest.raises(RuntimeError, match="a render thread broke"):
        fastviz.render(wav, tmp_path / "o.mp4", size=(64, 48), jobs=2, progress=False)
    assert not (tmp_path / "o.mp4").exists() and not leftovers(tmp_path)
    assert not ffmpeg_processes_writing(tmp_path)
