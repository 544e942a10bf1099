"""Issue 10: every bad input, option, output and fault gives one clean error, nothing else.

The rule for a failure, checked by ``assert_failed_cleanly``: exit code 1 (or the
signal's), exactly one ``error: `` line on stderr, first, naming the offending file or
flag, no traceback, nothing at the output path (an existing file there byte-equal), no
hidden ``.*.part`` file beside it and no ffmpeg still running for it.
"""
import os
import re
import resource
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from helpers import decode_frames, probe, tone, write_wav
from PIL import Image
from scipy.io import wavfile
from test_errors import ffmpeg_processes_writing, leftovers

import fastviz
from fastviz import FastvizError, VideoWriter
from fastviz.cli import main

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
FAST = ["-q", "--preset", "ultrafast", "--size", "64x48"]
RATE = 44100


# ----------------------------------------------------------------------------- helpers

def cli(capsys, *args):
    """Run ``fastviz`` in this process: (exit code, stderr). Usage errors exit; keep them."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def run_module(args, cwd=None, preexec_fn=None, timeout=120):
    """Run ``python -m fastviz ARGS`` in a child process: (exit code, stderr, seconds)."""
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "fastviz", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec_fn)
    return done.returncode, done.stderr, time.monotonic() - began


def limit_memory(n_bytes):
    def preexec():
        resource.setrlimit(resource.RLIMIT_AS, (n_bytes, n_bytes))
    return preexec


def error_line(err):
    """The one ``error:`` line of a failed run's stderr, checked to be the first and only."""
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert lines and lines[0].startswith("error: "), f"stderr does not start with 'error: ':\n{err}"
    assert sum(line.startswith("error:") for line in lines) == 1, err
    return lines[0]


def assert_nothing_left(folder):
    folder = Path(folder)
    assert folder.is_dir() or not folder.exists()
    parts = [n for n in leftovers(folder) if n.endswith(".part")] if folder.exists() else []
    assert not parts, parts
    assert not ffmpeg_processes_writing(folder)


def assert_failed_cleanly(code, err, out, *names, existing=None, exit_code=1):
    """A clean failure naming ``names`` (files by their base name, or flags)."""
    assert code == exit_code, f"exit code {code}, expected {exit_code}; stderr:\n{err}"
    line = error_line(err)
    for name in names:
        name = Path(name).name if isinstance(name, Path) else name
        assert name in line, f"{name!r} not named in {line!r}"
    if existing is None:
        assert not os.path.lexists(out), f"{out} was created"
    else:
        assert Path(out).read_bytes() == existing, f"{out} was changed"
    assert_nothing_left(Path(out).parent)


def assert_rendered(code, err, out, seconds=1.0, size=(64, 48), fps=30):
    """A complete video: its frames cover ``seconds``, with an AAC track as long."""
    assert code == 0, err
    assert "Traceback" not in err and "error" not in err, err
    n_frames, video_size, audio, audio_seconds = probe(out)
    assert video_size == size
    assert abs(n_frames - np.ceil(seconds * fps)) <= 1, n_frames
    assert audio == ["aac"] and abs(audio_seconds - seconds) < 0.1, (audio, audio_seconds)
    assert_nothing_left(Path(out).parent)


def png_header_bomb(path, width=30000, height=30000):
    """A valid 1-bit PNG of width x height: about 110 kB on disk, 0.9 Gpixel decoded."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    rows = (b"\0" * (1 + (width + 7) // 8)) * 1000
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(rows) for _ in range(height // 1000)) + packer.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def ffmpeg(*args):
    subprocess.run([FFMPEG, "-v", "error", "-y", *map(str, args)], check=True,
                   capture_output=True)


def scene(folder):
    """A 64x48 background and a table of 5 electrodes in its pixels."""
    rng = np.random.default_rng(0)
    background = folder / "bg.png"
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(background)
    table = folder / "e.csv"
    table.write_text("x_2d,y_2d\n5,5\n20,10\n40,25\n60,40\n32,24\n")
    return background, table


@pytest.fixture
def wav(tmp_path):
    return write_wav(tmp_path / "in.wav", tone(800, 1.0), RATE)


PRECIOUS = b"an older video, which a failed render must leave as it is"


@pytest.fixture(params=["new", "existing-y"])
def target(request, tmp_path):
    """(output path, extra arguments, its content): a new path, or one holding a file
    that ``-y`` allows to be replaced, and which a failed render must not touch."""
    out = tmp_path / "o.mp4"
    if request.param == "new":
        return out, [], None
    out.write_bytes(PRECIOUS)
    return out, ["-y"], PRECIOUS


# ------------------------------------------------------------------------------- audio

def _missing(folder):
    return folder / "missing.wav"


def _directory(folder):
    (folder / "folder.wav").mkdir()
    return folder / "folder.wav"


def _empty(folder):
    (folder / "empty.wav").write_bytes(b"")
    return folder / "empty.wav"


def _text(folder):
    (folder / "text.wav").write_text("this is not audio, only words\n" * 40)
    return folder / "text.wav"


def _png(folder):
    Image.new("RGB", (16, 16), (200, 30, 30)).save(folder / "picture.png")
    return folder / "picture.png"


def _video_only(folder):
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x48:d=1:r=10", "-c:v", "libx264",
           "-preset", "ultrafast", folder / "video-only.mp4")
    return folder / "video-only.mp4"


def _zero_samples(folder):
    wavfile.write(folder / "zero.wav", RATE, np.zeros(0, np.int16))
    assert (folder / "zero.wav").stat().st_size == 44
    return folder / "zero.wav"


def _float_wav(name, samples):
    def make(folder):
        return write_wav(folder / name, samples, RATE)
    return make


def _tone_with(value):
    samples = tone(800, 1.0)
    samples[RATE // 2] = value
    return samples


UNUSABLE_AUDIO = {
    "missing": _missing, "directory": _directory, "empty": _empty, "text": _text,
    "png": _png, "video-only": _video_only, "zero-samples": _zero_samples,
    "nan": _float_wav("nan.wav", np.full(RATE, np.nan, np.float32)),
    "inf": _float_wav("inf.wav", np.full(RATE, np.inf, np.float32)),
    "minus-inf": _float_wav("minus-inf.wav", np.full(RATE, -np.inf, np.float32)),
    "one-nan": _float_wav("one-nan.wav", _tone_with(np.nan)),
    "one-inf": _float_wav("one-inf.wav", _tone_with(np.inf)),
}


@pytest.mark.parametrize("case", UNUSABLE_AUDIO)
def test_unusable_audio(tmp_path, capsys, target, case):
    audio = UNUSABLE_AUDIO[case](tmp_path)
    out, y, existing = target
    code, err = cli(capsys, "render", audio, "-o", out, *FAST, *y)
    assert_failed_cleanly(code, err, out, audio, existing=existing)


def _cut_float_wav(folder):
    """A float WAV whose data stops in the middle, inside a sample; the header is intact."""
    path = write_wav(folder / "truncated.wav", tone(800, 1.0), RATE)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2 + 1])
    return path


def _overclaiming_wav(folder):
    """A 16-bit WAV with all its samples whose header claims ten times as many."""
    path = folder / "overclaiming.wav"
    wavfile.write(path, RATE, (tone(800, 1.0) * 32767).astype(np.int16))
    data = bytearray(path.read_bytes())
    at = data.index(b"data")
    size = struct.unpack_from("<I", data, at + 4)[0]
    struct.pack_into("<I", data, at + 4, size * 10)
    struct.pack_into("<I", data, 4, len(data) - 8 + size * 9)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("make", [_cut_float_wav, _overclaiming_wav],
                         ids=["truncated", "header-claims-more"])
def test_damaged_audio_renders_what_is_there_or_fails_cleanly(tmp_path, capsys, make):
    renders_or_fails_cleanly(tmp_path, capsys, make(tmp_path))


def test_very_short_audio_renders_or_names_the_minimum(tmp_path, capsys):
    audio = write_wav(tmp_path / "blip.wav", tone(800, 0.01), RATE)
    err = renders_or_fails_cleanly(tmp_path, capsys, audio)
    if err is not None:
        assert re.search(r"short|minimum|at least", error_line(err)), err


def renders_or_fails_cleanly(tmp_path, capsys, audio):
    """Render ``audio``: a whole small video, or a clean failure (then its stderr)."""
    out = tmp_path / "o.mp4"
    code, err = cli(capsys, "render", audio, "-o", out, *FAST)
    if code != 0:
        assert_failed_cleanly(code, err, out, audio)
        return err
    n_frames, size, codecs, seconds = probe(out)
    assert n_frames >= 1 and size == (64, 48) and codecs == ["aac"], err
    assert_nothing_left(tmp_path)
    return None


def test_silence_renders(tmp_path, capsys):
    audio = write_wav(tmp_path / "silence.wav", np.zeros(RATE, np.float32), RATE)
    out = tmp_path / "o.mp4"
    assert_rendered(*cli(capsys, "render", audio, "-o", out, *FAST), out)


@pytest.mark.parametrize("kind", ["uint8", "int16", "int24", "int32", "float32", "float64"])
def test_every_wav_sample_format_renders(tmp_path, capsys, kind):
    samples = tone(800, 1.0)
    audio = tmp_path / f"{kind}.wav"
    if kind == "int24":
        ffmpeg("-i", write_wav(tmp_path / "float.wav", samples, RATE), "-c:a", "pcm_s24le",
               audio)
        assert wavfile.read(audio)[1].dtype == np.int32  # scipy reads 24-bit as int32
    elif kind == "uint8":
        wavfile.write(audio, RATE, (samples * 127 + 128).astype(np.uint8))
    elif kind.startswith("int"):
        top = np.iinfo(kind).max
        wavfile.write(audio, RATE, (samples * top).astype(kind))
    else:
        wavfile.write(audio, RATE, samples.astype(kind))
    out = tmp_path / "o.mp4"
    assert_rendered(*cli(capsys, "render", audio, "-o", out, *FAST), out)


CHANNEL_HZ = [440, 620, 830, 1010, 1270, 1530, 1790, 2050]


def dominant_hz(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


@pytest.mark.parametrize("channels", range(1, 9))
def test_mono_to_eight_channels_render_in_order(tmp_path, capsys, channels):
    samples = np.stack([tone(f, 1.0, level=0.3) for f in CHANNEL_HZ[:channels]])
    audio = write_wav(tmp_path / f"{channels}ch.wav", samples, RATE)
    out = tmp_path / "o.mp4"
    assert_rendered(*cli(capsys, "render", audio, "-o", out, *FAST), out)
    if channels < 3:
        return
    decoded = tmp_path / "decoded.wav"
    ffmpeg("-i", out, "-vn", "-c:a", "pcm_f32le", decoded)
    rate, back = wavfile.read(decoded)
    assert back.ndim == 2 and back.shape[1] == channels, back.shape
    found = [dominant_hz(back[:, c], rate) for c in range(channels)]
    assert np.allclose(found, CHANNEL_HZ[:channels], atol=5), found


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 44056, 48000, 96000, 192000])
def test_sample_rates_from_8_to_192_khz_render(tmp_path, capsys, rate):
    audio = write_wav(tmp_path / f"{rate}.wav", tone(1000, 1.0, rate=rate), rate)
    out = tmp_path / "o.mp4"
    assert_rendered(*cli(capsys, "render", audio, "-o", out, *FAST), out)


# ---------------------------------------------------------------------------- pictures

@pytest.mark.parametrize("case", ["missing", "not-an-image", "zero-bytes"])
def test_unusable_background(tmp_path, capsys, wav, target, case):
    _, table = scene(tmp_path)
    background = tmp_path / f"{case}.png"
    if case == "not-an-image":
        background.write_text("a picture of a brain, in words\n" * 20)
    elif case == "zero-bytes":
        background.write_bytes(b"")
    out, y, existing = target
    code, err = cli(capsys, "render", wav, "-o", out, *FAST, *y, "--background", background,
                    "--electrodes", table)
    assert_failed_cleanly(code, err, out, background, existing=existing)


def test_decompression_bomb_background(tmp_path, wav):
    """30000x30000 pixels claimed by a 110 kB PNG: a clear error, no MemoryError, quickly.

    In a child process limited to 2 GB of address space, so a test that fails cannot
    take the machine's memory."""
    _, table = scene(tmp_path)
    background = png_header_bomb(tmp_path / "huge.png")
    out = tmp_path / "o.mp4"
    code, err, _ = run_module(["render", wav, "-o", out, *FAST, "--background", background,
                               "--electrodes", table], preexec_fn=limit_memory(2 << 30))
    assert_failed_cleanly(code, err, out, background)
    assert "memory" not in error_line(err).lower(), err


# ------------------------------------------------------------------------------ tables

JUNK = np.random.default_rng(1).bytes(3000)


@pytest.mark.parametrize("content", [
    b"",
    JUNK,
    b"x,y\n10,20\n30,40\n",
    b"x_2d,y_2d\n10,20\nten,30\n",
    b"x_2d,y_2d\n10,20\nNaN,30\n",
    b"x_2d,y_2d\n10,20\n,30\n",
], ids=["empty", "binary-junk", "wrong-columns", "text-in-numbers", "nan-cell",
        "empty-cell"])
def test_unusable_electrode_table(tmp_path, capsys, wav, target, content):
    background, _ = scene(tmp_path)
    table = tmp_path / "table.csv"
    table.write_bytes(content)
    out, y, existing = target
    code, err = cli(capsys, "render", wav, "-o", out, *FAST, *y, "--background", background,
                    "--electrodes", table)
    assert_failed_cleanly(code, err, out, table, existing=existing)


def test_latin1_table_with_accents_in_an_ignored_column_works(tmp_path, capsys, wav):
    background, _ = scene(tmp_path)
    table = tmp_path / "latin1.csv"
    table.write_bytes("name,x_2d,y_2d\nÉlectrode frontale,10,10\nà gauche ç,40,30\n"
                      "Größe ñ,60,40\n".encode("latin-1"))
    out = tmp_path / "o.mp4"
    assert_rendered(*cli(capsys, "render", wav, "-o", out, *FAST, "--background",
                         background, "--electrodes", table), out)


# ----------------------------------------------------------------------------- options

@pytest.mark.parametrize("option, names", [
    (["--fps", "0"], ["--fps"]),
    (["--fps", "-5"], ["--fps"]),
    (["--fps", "1000"], ["--fps", "240"]),
    (["--size", "0x48"], ["--size"]),
    (["--jobs", "0"], ["--jobs"]),
    (["--crf", "99"], ["--crf"]),
], ids=["fps-0", "fps-negative", "fps-1000", "size-0x48", "jobs-0", "crf-99"])
def test_bad_option(tmp_path, capsys, wav, target, option, names):
    out, y, existing = target
    code, err = cli(capsys, "render", wav, "-o", out, "-q", "--preset", "ultrafast", *y,
                    *option)
    assert_failed_cleanly(code, err, out, *names, existing=existing, exit_code=2)


def test_usage_error_exits_2(tmp_path, capsys, wav):
    out = tmp_path / "o.mp4"
    code, err = cli(capsys, "render", wav, "-o", out, "-q", "--size", "big")
    assert code == 2 and "--size" in err and "big" in err and "Traceback" not in err, err
    assert not out.exists()
    assert_nothing_left(tmp_path)


def test_huge_size_is_refused_at_once_without_allocating(tmp_path, wav):
    out = tmp_path / "o.mp4"
    code, err, seconds = run_module(["render", wav, "-o", out, "-q", "--preset", "ultrafast",
                                     "--size", "99999x99999"],
                                    preexec_fn=limit_memory(2 << 30))
    assert_failed_cleanly(code, err, out, "99999", exit_code=2)  # a usage error
    line = error_line(err)
    assert "memory" not in line.lower(), line
    limits = [n for n in re.findall(r"\d[\d,]*", line) if n.replace(",", "") != "99999"]
    assert limits, f"the limit is not named: {line!r}"
    assert seconds < 20, f"took {seconds:.1f} s"


def test_odd_size_works(tmp_path, capsys, wav):
    out = tmp_path / "o.mp4"
    code, err = cli(capsys, "render", wav, "-o", out, "-q", "--preset", "ultrafast",
                    "--size", "63x47")
    assert_rendered(code, err, out, size=(64, 48))


def test_start_past_the_end(tmp_path, capsys, wav):
    out = tmp_path / "o.mp4"
    code, err = cli(capsys, "render", wav, "-o", out, *FAST, "--start", "5")
    assert_failed_cleanly(code, err, out)
    line = error_line(err)
    assert "--start" in line or "in.wav" in line, line


def test_unknown_preset_is_named_with_the_valid_ones_before_analysis(tmp_path, capsys, wav,
                                                                     monkeypatch):
    from fastviz import _audio

    decoded = []
    original = _audio.AudioStream.blocks

    def blocks(self, *args, **kwargs):
        decoded.append(self.path)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_audio.AudioStream, "blocks", blocks)
    out = tmp_path / "o.mp4"
    code, err = cli(capsys, "render", wav, "-o", out, "-q", "--size", "64x48",
                    "--preset", "nonsense")
    assert_failed_cleanly(code, err, out, "nonsense", "ultrafast", "veryfast", "veryslow",
                          exit_code=2)
    assert not decoded, "the audio was analysed before the preset was checked"


# ------------------------------------------------------------------------------ output

def test_missing_output_folder(tmp_path, capsys, wav):
    out = tmp_path / "missing" / "o.mp4"
    code, err = cli(capsys, "render", wav, "-o", out, *FAST)
    assert_failed_cleanly(code, err, out, "missing")
    assert not out.parent.exists()


def _unwritable_folder(tmp_path):
    """A folder this process cannot create files in: mode 555, or (as root, whom modes
    do not stop) sysfs, where nobody can create a file."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        return folder
    folder.chmod(0o755)
    try:
        fd = os.open("/sys/fastviz-probe", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        return Path("/sys")
    os.close(fd)
    os.unlink("/sys/fastviz-probe")
    pytest.skip("running as root: neither a mode-555 folder nor /sys refuses new files")


def test_read_only_output_folder(tmp_path, capsys, wav):
    folder = _unwritable_folder(tmp_path)
    out = folder / f"fastviz-{os.getpid()}-o.mp4"
    try:
        code, err = cli(capsys, "render", wav, "-o", out, *FAST)
    finally:
        if folder != Path("/sys"):
            folder.chmod(0o755)
    assert_failed_cleanly(code, err, out, str(folder))


@pytest.mark.parametrize("name", ["./-weird.mp4", "vidéo ü 東京.mp4", "東" * 67 + ".mp4"],
                         ids=["leading-dash", "spaces-non-ascii", "long-cjk"])
def test_unusual_output_names_work(tmp_path, capsys, monkeypatch, name):
    assert len(os.fsencode(Path(name).name)) <= 255
    write_wav(tmp_path / "in.wav", tone(800, 1.0), RATE)
    monkeypatch.chdir(tmp_path)
    code, err = cli(capsys, "render", "in.wav", "-o", name, *FAST)
    assert_rendered(code, err, tmp_path / Path(name).name)


def test_relative_paths_with_a_colon_render(tmp_path, capsys, monkeypatch):
    write_wav(tmp_path / "12:30-meeting.wav", tone(800, 1.0), RATE)
    monkeypatch.chdir(tmp_path)
    code, err = cli(capsys, "render", "12:30-meeting.wav", "-o", "12:30-meeting.mp4", *FAST)
    assert_rendered(code, err, tmp_path / "12:30-meeting.mp4")


@pytest.mark.parametrize("target", ["audio", "background", "electrodes", "symlink",
                                    "hardlink"])
def test_output_that_is_an_input_is_refused_even_with_y(tmp_path, capsys, wav, target):
    background, table = scene(tmp_path)
    inputs = {p: p.read_bytes() for p in (wav, background, table)}
    out = {"audio": wav, "background": background, "electrodes": table}.get(target)
    if target == "symlink":
        out = tmp_path / "link.mp4"
        out.symlink_to(wav)
    elif target == "hardlink":
        out = tmp_path / "link.mp4"
        os.link(wav, out)
    code, err = cli(capsys, "render", wav, "-o", out, *FAST, "-y", "--background",
                    background, "--electrodes", table)
    # an input's own name (.wav, .png, .csv) names no video: a usage error, refused first
    assert_failed_cleanly(code, err, out, out, existing=inputs[wav if "link" in target
                                                               else out],
                          exit_code=1 if "link" in target else 2)
    for path, content in inputs.items():
        assert path.read_bytes() == content, f"{path.name} was changed"
    if target == "symlink":
        assert out.is_symlink() and os.readlink(out) == str(wav)
    if target == "hardlink":
        assert os.path.samefile(out, wav)


def test_file_appearing_at_the_output_during_the_render_is_kept(tmp_path, capsys):
    audio = write_wav(tmp_path / "in.wav", tone(800, 4.0), RATE)
    out = tmp_path / "o.mp4"
    mine = b"written by someone else while fastviz rendered"
    outcome = {}

    def appear():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "done" not in outcome:
            if any(name.endswith(".part") for name in leftovers(tmp_path)):
                try:
                    with open(out, "xb") as f:
                        f.write(mine)
                    outcome["wrote"] = True
                except FileExistsError:
                    outcome["lost the race"] = True
                return
            time.sleep(0.001)

    thread = threading.Thread(target=appear)
    thread.start()
    try:
        code, err = cli(capsys, "render", audio, "-o", out, "-q", "--preset", "ultrafast",
                        "--size", "320x240")
    finally:
        outcome["done"] = True
        thread.join()
    assert outcome.get("wrote"), f"the file was not written during the render: {outcome}"
    assert_failed_cleanly(code, err, out, out, existing=mine)
    assert re.search(r"appeared|exists|already", error_line(err)), err


# ------------------------------------------------------------------------------ faults

def ffmpeg_pids(folder, word="libx264"):
    """Process ids of ffmpeg processes whose command line names ``folder`` and ``word``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "ffmpeg" in cmdline and str(folder) in cmdline and word in cmdline:
            found.append(int(proc.name))
    return found


def start_long_render(tmp_path, preexec_fn=None, seconds=60.0, preset="slow", existing=None):
    """``python -m fastviz render`` of a long tone, slowly; over ``existing`` with -y."""
    audio = write_wav(tmp_path / "long.wav", tone(800, seconds), RATE)
    out = tmp_path / "o.mp4"
    y = []
    if existing is not None:
        out.write_bytes(existing)
        y = ["-y"]
    proc = subprocess.Popen([sys.executable, "-m", "fastviz", "render", str(audio), "-o",
                             str(out), "-q", "--preset", preset, "--size", "800x800", *y],
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=preexec_fn)
    return proc, out


def wait_for_encoder(proc, folder):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        pids = ffmpeg_pids(folder)
        if pids:
            time.sleep(1.0)  # well into the render
            assert proc.poll() is None, "the render ended before the fault"
            return pids
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"the encoder never started: {proc.communicate()[1]}")


def finish(proc):
    try:
        return proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise


@pytest.mark.parametrize("existing", [None, PRECIOUS], ids=["new", "existing-y"])
def test_ffmpeg_killed_mid_render(tmp_path, existing):
    proc, out = start_long_render(tmp_path, existing=existing)
    for pid in wait_for_encoder(proc, tmp_path):
        os.kill(pid, signal.SIGKILL)
    err = finish(proc)
    assert_failed_cleanly(proc.returncode, err, out, existing=existing)
    line = error_line(err)
    assert "ffmpeg" in line and re.search(r"kill|signal|SIGKILL|-9|died|stopped", line), line
    assert len(err.strip().splitlines()) > 1, f"ffmpeg's last lines are not shown:\n{err}"


@pytest.mark.parametrize("signum, group, existing", [
    (signal.SIGINT, False, None), (signal.SIGINT, True, PRECIOUS),
    (signal.SIGTERM, False, None), (signal.SIGHUP, False, PRECIOUS),
], ids=["SIGINT", "SIGINT-group-existing-y", "SIGTERM", "SIGHUP-existing-y"])
def test_signal_mid_render(tmp_path, signum, group, existing):
    proc, out = start_long_render(tmp_path, existing=existing)
    wait_for_encoder(proc, tmp_path)
    if group:
        os.killpg(proc.pid, signum)  # as a terminal's Ctrl-C does
    else:
        os.kill(proc.pid, signum)
    err = finish(proc)
    assert_failed_cleanly(proc.returncode, err, out, existing=existing,
                          exit_code=128 + signum)
    assert len(err.strip().splitlines()) == 1, err


def test_disk_full(tmp_path):
    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    proc, out = start_long_render(tmp_path, small_files, seconds=20.0, preset="ultrafast")
    err = finish(proc)
    assert_failed_cleanly(proc.returncode, err, out, out)


# -------------------------------------------------------------------------- Python API

def test_abandoned_frame_iterator_leaves_no_thread(tmp_path):
    from fastviz._execute import iter_frames

    before = set(threading.enumerate())
    renderer = fastviz.FrameRenderer(np.zeros((48, 64, 3), np.uint8), [10.0, 30.0, 50.0],
                                     [10.0, 20.0, 30.0])

    def values(first, stop):
        return np.linspace(0, 1, (stop - first) * 3).reshape(-1, 3)

    blocks = iter_frames(renderer, values, 500, jobs=2)
    first = next(blocks)
    assert first.shape[1:] == (72, 64)
    blocks.close()
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(threading.enumerate()) - before, threading.enumerate()
    assert_nothing_left(tmp_path)


FRAMES = np.zeros((3, 48, 64, 3), np.uint8)


def test_video_writer_closed_twice(tmp_path):
    writer = VideoWriter(tmp_path / "o.mp4", (64, 48), 30, preset="ultrafast")
    writer.open()
    writer.write(FRAMES)
    writer.close()
    writer.close()
    assert decode_frames(tmp_path / "o.mp4", (64, 48)).shape[0] == 3
    assert_nothing_left(tmp_path)


def test_video_writer_closed_inside_its_with(tmp_path):
    with VideoWriter(tmp_path / "o.mp4", (64, 48), 30, preset="ultrafast") as video:
        video.write(FRAMES)
        video.close()
    assert decode_frames(tmp_path / "o.mp4", (64, 48)).shape[0] == 3
    assert_nothing_left(tmp_path)


def test_video_writer_write_before_open(tmp_path):
    writer = VideoWriter(tmp_path / "o.mp4", (64, 48), 30)
    with pytest.raises(ValueError, match="open"):
        writer.write(FRAMES)
    assert not (tmp_path / "o.mp4").exists()
    assert_nothing_left(tmp_path)


def test_video_writer_opened_twice(tmp_path):
    with pytest.raises((ValueError, FastvizError), match="open") as info:
        with VideoWriter(tmp_path / "o.mp4", (64, 48), 30, preset="ultrafast") as video:
            video.write(FRAMES)
            video.open()
    assert "ffmpeg" not in str(info.value)
    assert not (tmp_path / "o.mp4").exists()
    assert_nothing_left(tmp_path)


def test_video_writer_write_after_close(tmp_path):
    with VideoWriter(tmp_path / "o.mp4", (64, 48), 30, preset="ultrafast") as video:
        video.write(FRAMES)
    with pytest.raises((ValueError, FastvizError), match="closed") as info:
        video.write(FRAMES)
    assert "ffmpeg" not in str(info.value)
    assert decode_frames(tmp_path / "o.mp4", (64, 48)).shape[0] == 3
    assert_nothing_left(tmp_path)


# ------------------------------------------------------------------------- determinism

def test_same_inputs_same_frames_whatever_the_jobs(tmp_path, capsys):
    audio = write_wav(tmp_path / "in.wav", tone(700, 1.0) + tone(3000, 1.0, level=0.3),
                      RATE)
    decoded = []
    for run, jobs in enumerate([1, 2, 1, 2]):
        out = tmp_path / f"o{run}.mp4"
        code, err = cli(capsys, "render", audio, "-o", out, "-q", "--preset", "ultrafast",
                        "--crf", "0", "--size", "160x120", "--jobs", jobs)
        assert code == 0, err
        decoded.append(decode_frames(out, (160, 120)))
    assert decoded[0].shape[0] == 30 and decoded[0].std() > 0
    for other in decoded[1:]:
        assert np.array_equal(decoded[0], other)
