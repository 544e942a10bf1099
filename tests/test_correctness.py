"""Valid but unusual input gives the video the input asks for (issue 13's cases)."""
import os
import re
import shlex
import subprocess
import sys
import warnings

import imageio_ffmpeg
import numpy as np
import pytest
from helpers import decode_frames, probe, tone, write_wav
from scipy.io import wavfile

import fastviz
from fastviz.cli import main

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args):
    subprocess.run([FFMPEG, "-v", "error", "-y", *map(str, args)], check=True)


def decoded_audio(path):
    """(samples (n, channels) float32, rate) of a file's first audio stream."""
    raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-map", "0:a:0",
                          "-c:a", "pcm_f32le", "-f", "f32le", "-"], capture_output=True,
                         check=True).stdout
    info = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True,
                          text=True).stderr
    rate = int(info.split(" Hz")[0].rsplit(" ", 1)[1])
    channels = fastviz._audio.AudioStream(path).channels
    return np.frombuffer(raw, np.float32).reshape(-1, channels), rate


def clicks(times, seconds, rate=44100):
    x = np.zeros(int(seconds * rate), np.float32)
    for t in times:
        x[int(t * rate):int(t * rate) + 2000] = tone(3000, 2000 / rate, rate, 0.9)
    return x


def activity(frames, background):
    return np.abs(frames.astype(int) - background.astype(int)).mean(axis=(1, 2, 3))


@pytest.mark.parametrize("start", [None, 0.2, 1.0])
def test_audio_that_starts_after_the_picture_stays_with_the_dots(tmp_path, start):
    """A camera file whose sound begins 0.5 s late: clicks heard and dots peak together."""
    write_wav(tmp_path / "clicks.wav", clicks([1.5, 3.5], 5.0), 44100)
    delayed = tmp_path / "delayed.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=gray:s=64x64:r=25:d=6", "-itsoffset", "0.5", "-i",
           tmp_path / "clicks.wav", "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
           "-c:a", "aac", "-shortest", delayed)
    background = np.full((60, 80, 3), 128, np.uint8)
    out = fastviz.render(delayed, tmp_path / "out.mp4", background=background,
                         electrodes=[[40, 30]], cmap="white", fps=20, crf=10, start=start,
                         progress=False)
    heard, rate = decoded_audio(out)
    loud = np.flatnonzero(np.abs(heard[:, 0]) > 0.3) / rate
    heard_at = [loud[0], loud[loud > loud[0] + 1][0]]
    shift = 0.5 - (start or 0)
    assert np.allclose(heard_at, [1.5 + shift, 3.5 + shift], atol=0.03)
    seen = activity(decode_frames(out, (80, 60)), background)
    for t in heard_at:  # the dots peak within a few frames of the click
        window = slice(int((t - 0.5) * 20), int((t + 0.5) * 20))
        peak = (window.start + np.argmax(seen[window])) / 20
        assert abs(peak - t) <= 0.2, (peak, t)


def test_ogg_start_past_the_end_is_refused(tmp_path, capsys):
    write_wav(tmp_path / "t.wav", tone(440, 3.0), 44100)
    ogg = tmp_path / "t.oga"
    ffmpeg("-i", tmp_path / "t.wav", "-c:a", "libvorbis", ogg)
    with pytest.raises(fastviz.InputError, match="start 50 s is past the end of .*t.oga"):
        fastviz.load_audio(ogg, start=50)
    code = main(["render", str(ogg), "-o", str(tmp_path / "o.mp4"), "--start", "100", "-q"])
    assert code == 1 and "t.oga" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("channels", [3, 6, 7, 8])
def test_every_channel_comes_out_as_it_went_in(tmp_path, channels):
    """No guessed LFE channel low-passed, no channel reordered (arrays and plain WAVs)."""
    rate = 48000
    t = np.arange(rate) / rate
    freqs = [440 * (k + 1) for k in range(channels)]
    sound = np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in freqs]).astype(np.float32)
    frames = np.zeros((25, 48, 64, 3), np.uint8)
    wav = write_wav(tmp_path / "multi.wav", sound, rate)
    for source, name in (((sound, rate), "array.mp4"), (wav, "file.mp4")):
        with fastviz.VideoWriter(tmp_path / name, (64, 48), 25, audio=source) as video:
            video.write(frames)
        heard, heard_rate = decoded_audio(tmp_path / name)
        assert heard.shape[1] == channels
        middle = heard[heard_rate // 4:-heard_rate // 4]
        spectrum = np.abs(np.fft.rfft(middle, axis=0))
        peaks = np.fft.rfftfreq(len(middle), 1 / heard_rate)[spectrum.argmax(axis=0)]
        assert np.allclose(peaks, freqs, atol=5), peaks
        rms = np.sqrt((middle ** 2).mean(axis=0))
        assert np.allclose(rms, 0.5 / np.sqrt(2), rtol=0.08), rms


def test_uint8_audio_is_centred():
    quiet = np.full(44100, 128, np.uint8)
    samples = fastviz._audio.as_channels_first(quiet)
    assert np.abs(samples).max() == 0
    loud = (128 + 100 * np.sin(np.arange(44100) / 7)).astype(np.uint8)
    as_float = (loud.astype(np.float64) - 128) / 128
    a = fastviz.audio_envelopes(loud, 44100).values
    b = fastviz.audio_envelopes(as_float, 44100).values
    assert np.allclose(a, b, atol=1e-6)


def test_render_signal_honours_start_and_duration_and_refuses_channel(tmp_path):
    rate = 100.0
    t = np.arange(1000) / rate
    data = np.vstack([t, 10 - t])  # ramps: the scaled values say which part was drawn
    background = np.zeros((40, 60, 3), np.uint8)
    common = dict(background=background, electrodes=[[15, 20], [45, 20]], fps=10,
                  crf=0, progress=False)
    out = fastviz.render_signal(data, tmp_path / "cut.mp4", rate, start=2, duration=3,
                                **common)
    assert probe(out)[0] == 30
    whole = fastviz.render_signal(data[:, 200:500], tmp_path / "whole.mp4", rate, **common)
    assert np.array_equal(decode_frames(out, (60, 40)), decode_frames(whole, (60, 40)))
    with pytest.raises(ValueError, match="channel"):
        fastviz.render_signal(data, tmp_path / "c.mp4", rate, channel=1, **common)
    with pytest.raises(fastviz.InputError, match="past the end"):
        fastviz.render_signal(data, tmp_path / "p.mp4", rate, start=20, **common)


def test_sound_longer_than_the_picture_is_cut_at_the_last_frame(tmp_path):
    sound = tone(440, 10.0)
    out = fastviz.render_signal(np.ones((1, 200)), tmp_path / "s.mp4", 100.0,
                                audio=(sound, 44100), fps=25, electrodes=[[10, 10]],
                                background=np.zeros((48, 64, 3), np.uint8), progress=False)
    n_frames, _, _, seconds = probe(out)
    assert n_frames == 50 and abs(seconds - 2.0) < 1 / 25
    with fastviz.VideoWriter(tmp_path / "w.mp4", (64, 48), 25, audio=(sound, 44100)) as v:
        v.write(np.zeros((25, 48, 64, 3), np.uint8))
    n_frames, _, _, seconds = probe(tmp_path / "w.mp4")
    assert n_frames == 25 and abs(seconds - 1.0) < 1 / 25


def test_two_points_are_two_points_and_nan_hides_a_dot_quietly(tmp_path):
    background = np.zeros((300, 300, 3), np.uint8)
    renderer = fastviz._plan.make_renderer(fastviz.Options(
        background=background, electrodes=((100, 50), (200, 250))))
    assert list(renderer.xs) == [100, 200] and list(renderer.ys) == [50, 250]
    with pytest.raises(fastviz.InputError, match="column_stack"):
        fastviz._plan.make_renderer(fastviz.Options(
            background=background, electrodes=np.zeros((2, 5))))
    data = np.vstack([np.linspace(0, 1, 50), np.full(50, np.nan)])
    with warnings.catch_warnings():  # an all-NaN electrode used to warn "All-NaN slice"
        warnings.simplefilter("error")
        out = fastviz.render_signal(data, tmp_path / "nan.mp4", 25.0, background=background,
                                    electrodes=[[100, 50], [200, 250]], fps=25, crf=0,
                                    cmap="white", progress=False)
        assert np.isnan(fastviz.scale_minmax(data)[1]).all()
    frames = decode_frames(out, (300, 300))
    assert frames[-1, 50, 100].min() > 200  # the first dot is drawn
    assert frames[:, 230:270, 180:220].max() <= 2  # the NaN one never is


@pytest.mark.parametrize("redirect", ["2>&1 | head -c 50 >/dev/null", "2>&-"])
def test_a_piped_or_closed_stderr_costs_nothing(tmp_path, redirect):
    wav = write_wav(tmp_path / "in.wav", tone(600, 2.0), 44100)
    out = tmp_path / "o.mp4"
    command = shlex.join([sys.executable, "-m", "fastviz", "render", str(wav), "-o",
                          str(out), "--size", "64x48"])
    done = subprocess.run(["bash", "-o", "pipefail", "-c", f"{command} {redirect}"],
                          capture_output=True)
    assert done.returncode == 0 and probe(out)[0] == 60


def test_progress_in_a_log_file_is_plain_lines(tmp_path):
    wav = write_wav(tmp_path / "in.wav", tone(600, 2.0), 44100)
    done = subprocess.run([sys.executable, "-m", "fastviz", "render", str(wav), "-o",
                           str(tmp_path / "o.mp4"), "--size", "64x48"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "\r" not in done.stderr
    assert "o.mp4: 60/60 frames (100%)" in done.stderr


def test_a_colon_in_a_relative_name(tmp_path):
    write_wav(tmp_path / "12:30-meeting.wav", tone(600, 1.0), 44100)
    done = subprocess.run([sys.executable, "-m", "fastviz", "render", "12:30-meeting.wav",
                           "-o", "take1:intro.mp4", "--size", "64x48", "-q"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert probe(tmp_path / "take1:intro.mp4")[0] == 30


def test_one_colour_mixed_colours_and_a_latin1_table(tmp_path):
    assert (fastviz.colormap_lut("red")[:, :3] == (255, 0, 0)).all()
    lut = fastviz.colormap_lut(["red", (0, 0, 1, 0.5)])
    assert lut.shape[1] == 4 and lut[-1, 3] == pytest.approx(0.5)
    table = tmp_path / "e.csv"
    table.write_bytes("name,x_2d,y_2d\nG\xe9n\xe9ral,10,20\n".encode("latin-1"))
    xs, ys = fastviz.load_electrodes(table)
    assert (xs[0], ys[0]) == (10, 20)


def test_messages_speak_the_callers_language(tmp_path, capsys):
    wav = write_wav(tmp_path / "in.wav", tone(600, 1.0), 44100)
    (tmp_path / "o.mp4").write_bytes(b"x")
    assert main(["render", str(wav), "-o", str(tmp_path / "o.mp4"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "-y" in err and "overwrite=True" not in err
    with pytest.raises(fastviz.OutputError, match="overwrite=True"):
        fastviz.render(wav, tmp_path / "o.mp4")
    with pytest.raises(TypeError, match="render\\(\\) .* 'fsp'; did you mean 'fps'"):
        fastviz.render(wav, tmp_path / "n.mp4", fsp=25)
    assert main(["demo", "-o", str(tmp_path / "d.mp4"), "--channel", "1", "-q"]) == 1
    err = capsys.readouterr().err
    assert "the demo song" in err and "fastviz-" not in err
    assert main(["demo", "-o", str(tmp_path / "d.mp4"), "--start", "40", "-q"]) == 1
    assert "past the end of the demo song" in capsys.readouterr().err
    assert main(["render", str(wav), "-o", str(tmp_path / "o.avi"), "-q"]) == 2  # a usage error
    assert ".mp4" in capsys.readouterr().err and not (tmp_path / "o.avi").exists()
    table = tmp_path / "e.csv"
    table.write_text("x_2d,y_2d\n10,abc\n")
    assert main(["render", str(wav), "-o", str(tmp_path / "t.mp4"), "-q", "--background",
                 fastviz._demo.demo_scene()[0], "--electrodes", str(table)]) == 1
    err = capsys.readouterr().err
    assert "y_2d='abc'" in err and "np." not in err
    with pytest.raises(SystemExit) as usage:
        main(["render"])
    assert usage.value.code == 2


def test_help_shows_defaults_and_examples():
    done = subprocess.run([sys.executable, "-m", "fastviz", "render", "--help"],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"})
    for words in ("default: 30", "default: balanced", "(veryfast, CRF 20)", "lower is better",
                  "examples:", "exit codes", "default: auto", "100 is the post's",
                  "--dot-size 100", "2 a usage error", "a flag's value",
                  "a GIF 15, at most 50"):
        assert words in " ".join(done.stdout.split()), words


def test_unknown_preset_is_refused_before_the_analysis(tmp_path, capsys):
    missing = tmp_path / "never-read.wav"  # refused on the preset, before the audio
    assert main(["render", str(missing), "-o", str(tmp_path / "o.mp4"), "--preset",
                 "fastest"]) == 2
    err = capsys.readouterr().err
    assert "unknown preset 'fastest'" in err and "veryfast" in err


def test_8_bit_wav_file_renders_centred(tmp_path):
    rate = 8000
    loud = (128 + 100 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.uint8)
    wavfile.write(tmp_path / "u8.wav", rate, loud)
    samples, _ = fastviz.load_audio(tmp_path / "u8.wav")
    assert abs(samples.mean()) < 0.01


def test_bands_above_the_sources_nyquist_stay_dark_and_the_cli_says_so(tmp_path, capsys):
    rng = np.random.default_rng(3)
    wav = write_wav(tmp_path / "phone.wav", rng.standard_normal(16000) * 0.3, 8000)
    assert main(["render", str(wav), "-o", str(tmp_path / "o.mp4"), "--size", "64x48",
                 "-q"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "6000 Hz" in notes[0] and "phone.wav" in notes[0]
    with pytest.warns(fastviz.FastvizWarning, match="stay dark"):
        fastviz.render(wav, tmp_path / "p.mp4", size=(64, 48), progress=False)


def test_video_writer_keeps_sound_and_picture_together_whatever_is_written(tmp_path):
    sound = (tone(440, 3.0), 44100)
    with fastviz.VideoWriter(tmp_path / "a.mp4", (64, 48), 30, audio=sound,
                             n_frames=90) as video:
        video.write(np.zeros((30, 48, 64, 3), np.uint8))  # fewer than announced
        video.write(np.zeros((0, 48, 64, 3), np.uint8))  # an empty block: nothing
    n_frames, _, _, seconds = probe(tmp_path / "a.mp4")
    assert n_frames == 30 and abs(seconds - 1.0) < 1 / 30
    with pytest.raises(ValueError, match="n_frames=10"):
        with fastviz.VideoWriter(tmp_path / "b.mp4", (64, 48), 30, audio=sound,
                                 n_frames=10) as video:
            video.write(np.zeros((30, 48, 64, 3), np.uint8))
    assert not (tmp_path / "b.mp4").exists()


def test_a_dropped_writer_leaves_nothing(tmp_path):
    import gc

    video = fastviz.VideoWriter(tmp_path / "d.mp4", (64, 48), 30,
                                audio=(tone(440, 1.0), 44100)).open()
    video.write(np.zeros((3, 48, 64, 3), np.uint8))
    proc, scratch = video._proc, video._wav
    del video
    gc.collect()
    assert proc.returncode is not None and not scratch.exists()
    assert not [p for p in tmp_path.iterdir()]


def test_photo_orientation_is_the_one_viewers_show(tmp_path):
    from PIL import Image

    stored = Image.new("RGB", (100, 200), "white")
    exif = stored.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    stored.save(tmp_path / "photo.jpg", exif=exif)
    assert fastviz.load_background(tmp_path / "photo.jpg").shape == (100, 200, 3)


@pytest.mark.parametrize("options, words", [
    (dict(start=float("nan")), "start must be a finite"),
    (dict(duration=float("inf")), "duration must be a finite"),
    (dict(start="1"), "start must be"),
    (dict(fps="1/1000000"), "fps must be from"),
    (dict(size="100x80"), "size must be a (width, height)"),
    (dict(size=(100.7, 80.2)), "whole numbers"),
    (dict(crf=20.9), "crf must be a whole number"),
    (dict(jobs=1.5), "jobs must be a whole number"),
])
def test_options_are_checked_before_any_work(tmp_path, options, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        fastviz.render(tmp_path / "never-read.wav", tmp_path / "o.mp4", **options)


def test_odd_outputs_and_inputs_are_named_up_front(tmp_path, capsys):
    wav = write_wav(tmp_path / "in.wav", tone(600, 1.0), 44100)
    (tmp_path / "dangling.mp4").symlink_to(tmp_path / "nowhere.mp4")
    assert main(["render", str(wav), "-o", str(tmp_path / "dangling.mp4"), "-q"]) == 1
    assert "exists" in capsys.readouterr().err
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(fastviz.InputError, match="is a pipe"):
        fastviz.render(fifo, tmp_path / "o.mp4")


def test_matplotlib_colour_names_and_an_mne_rate_that_disagrees(tmp_path):
    assert fastviz.colormap_lut("tab:blue")[0, 2] == pytest.approx(180, abs=1)
    assert fastviz.colormap_lut("0.5")[0, 0] == pytest.approx(127.5)
    import mne

    raw = mne.io.RawArray(np.zeros((2, 100)), mne.create_info(2, 100.0, "ecog"),
                          verbose="error")
    with pytest.raises(fastviz.InputError, match="sampling rate"):
        fastviz.render_signal(raw, tmp_path / "r.mp4", rate=50.0, electrodes=[[1, 1], [2, 2]])
