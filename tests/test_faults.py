"""Issue 16: faults and hostile input, as an attacker and an unlucky operator try them.

Families: what may stand at the output (special files, folders, inputs, long names);
PNG sequences, whole or not at all; media that never ends (playlists, concat scripts,
pipes, a decoder that stalls); stop signals however they land (inside a ``__del__``,
during the imports, at the final move); what a batch keeps; and many renders in the
threads of one process. The rule for a failure is test_robustness's
``assert_failed_cleanly``. Tiny sizes (64 x 48), ultrafast, short audio.
"""
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import decode_frames, hidden, probe, tone, write_wav
from scipy.io import wavfile
from test_robustness import (
    FAST,
    RATE,
    assert_nothing_left,
    assert_rendered,
    cli,
    error_line,
    ffmpeg_pids,
    scene,
)

import fastviz
from fastviz import FastvizError, InputError, OutputError, VideoWriter

SIZE = (64, 48)
FRAMES = np.zeros((3, 48, 64, 3), np.uint8)


@pytest.fixture
def wav(tmp_path):
    return write_wav(tmp_path / "in.wav", tone(800, 1.0), RATE)


def png_names(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def kill_ffmpeg_in(folder):
    """SIGKILL the ffmpeg processes this test started (their command names ``folder``):
    the cleanup after a hang, so a failing test leaves nothing running."""
    for pid in ffmpeg_pids(folder, word=""):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_child(args, tmp_path, timeout=60, **kwargs):
    """``python -m fastviz ARGS``: (exit code, stderr); on a hang, its ffmpeg is killed
    and the test fails."""
    try:
        done = subprocess.run([sys.executable, "-m", "fastviz", *map(str, args)],
                              capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        kill_ffmpeg_in(tmp_path)
        pytest.fail(f"fastviz {' '.join(map(str, args))} still ran after {timeout} s")
    return done.returncode, done.stderr


# ---------------------------------------------------- what may stand at the output

def _fifo(path):
    os.mkfifo(path)
    return path.is_fifo


def _socket(path):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return path.is_socket


def _link_to_dev_null(path):
    path.symlink_to("/dev/null")
    return lambda: path.is_symlink() and os.readlink(path) == "/dev/null"


@pytest.mark.parametrize("make, y", [(_fifo, []), (_fifo, ["-y"]), (_socket, ["-y"]),
                                     (_link_to_dev_null, ["-y"])],
                         ids=["fifo", "fifo-y", "socket-y", "symlink-to-dev-null-y"])
def test_a_special_file_at_the_output_is_refused_even_with_y(tmp_path, capsys, wav,
                                                             make, y):
    out = tmp_path / "o.mp4"
    still_there = make(out)
    code, err = cli(capsys, "render", wav, "-o", out, *FAST, *y)
    assert code == 1 and still_there(), err
    line = error_line(err)
    assert "o.mp4" in line and "not a file" in line, line
    assert_nothing_left(tmp_path)


def test_dev_null_is_named_for_what_it_is(tmp_path, capsys, wav):
    code, err = cli(capsys, "render", wav, "-o", "/dev/null", "--format", "mp4", *FAST)
    assert code == 1 and "character device" in error_line(err), err


def test_a_special_file_that_appears_at_the_output_is_not_replaced(tmp_path):
    out = tmp_path / "o.mp4"
    with pytest.raises(OutputError, match=r"pipe \(FIFO\)") as info:
        with VideoWriter(out, SIZE, 30, preset="ultrafast", overwrite=True) as video:
            video.write(FRAMES)
            os.mkfifo(out)
    assert out.is_fifo()
    kept = Path(str(info.value).rsplit(" ", 1)[1])
    assert kept.parent == tmp_path and decode_frames(kept, SIZE).shape[0] == 3
    assert not hidden(tmp_path)


@pytest.mark.parametrize("y", [[], ["-y"]], ids=["new", "y"])
def test_a_folder_named_like_a_video_is_refused(tmp_path, capsys, wav, y):
    out = tmp_path / "existing.mp4"
    out.mkdir()
    (out / "mine.txt").write_text("kept")
    code, err = cli(capsys, "render", wav, "-o", out, *FAST, *y)
    assert code == 1 and "is a folder" in error_line(err), err
    assert png_names(out) == ["mine.txt"]
    assert_nothing_left(tmp_path)


def test_the_look_file_is_an_input(tmp_path, capsys, wav):
    look = tmp_path / "mine.toml"
    look.write_text('[mine]\ncmap = "viridis"\nbg_color = "black"\n')
    before = look.read_bytes()
    picture = tmp_path / "look.png"  # a picture can only be the look as a hard link
    os.link(look, picture)
    for command, out in ((["render", wav, "--format", "mp4", *FAST], look),
                         (["frame", wav, "--at", "0"], picture), (["layout"], picture)):
        code, err = cli(capsys, *command, "-o", out, "--look", look, "-y")
        assert code == 1 and "is the input" in error_line(err), err
        assert look.read_bytes() == before
    assert_nothing_left(tmp_path)


def test_a_long_multibyte_name_keeps_the_finished_video(tmp_path):
    out = tmp_path / ("\N{GRINNING FACE}" * 62 + ".mp4")  # 252 bytes
    assert len(os.fsencode(out.name)) <= 255
    with pytest.raises(OutputError, match="appeared") as info:
        with VideoWriter(out, SIZE, 30, preset="ultrafast") as video:
            video.write(FRAMES)
            out.write_bytes(b"someone else's")
    assert out.read_bytes() == b"someone else's"
    kept = Path(str(info.value).rsplit(" ", 1)[1])
    assert len(os.fsencode(kept.name)) <= 255 and decode_frames(kept, SIZE).shape[0] == 3
    assert not hidden(tmp_path)


# ------------------------------------------------------------- PNG sequences, whole

def test_png_frames_never_replace_an_input_or_other_files(tmp_path, capsys, wav):
    shots = tmp_path / "shots"
    shots.mkdir()
    background, table = scene(tmp_path)
    picture = shots / "1.png"
    picture.write_bytes(background.read_bytes())
    (shots / "2024.png").write_bytes(b"a photo")
    before = {p.name: p.read_bytes() for p in shots.iterdir()}
    code, err = cli(capsys, "render", wav, "-o", f"{shots}/", *FAST, "--background",
                    picture, "--electrodes", table, "-y")
    assert code == 1 and re.search(r"1\.png|2024\.png", error_line(err)), err
    assert {p.name: p.read_bytes() for p in shots.iterdir()} == before
    frame = shots / "00000.png"  # an input named as fastviz names frames
    picture.rename(frame)
    (shots / "2024.png").unlink()
    code, err = cli(capsys, "render", wav, "-o", f"{shots}/", *FAST, "--background",
                    frame, "--electrodes", table, "-y")
    assert code == 1 and "the input" in error_line(err), err
    assert png_names(shots) == ["00000.png"]
    assert_nothing_left(tmp_path)


def test_a_frame_pattern_needs_a_folder_of_its_own(tmp_path, capsys, wav):
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "f_%03d.png", *FAST, "-y")
    assert code == 1 and "in.wav" in error_line(err), err  # the folder holds the audio
    assert png_names(tmp_path) == ["in.wav"]
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "seq" / "f_%03d.png", *FAST)
    assert code == 0, err
    assert png_names(tmp_path / "seq") == [f"f_{i:03d}.png" for i in range(30)]


def test_a_file_appearing_among_the_frames_keeps_every_frame(tmp_path):
    folder = tmp_path / "frames"
    with pytest.raises(OutputError, match="appeared") as info:
        with VideoWriter(f"{folder}/", SIZE, 30) as video:
            video.write(np.zeros((10, 48, 64, 3), np.uint8))
            folder.mkdir()
            (folder / "00005.png").write_bytes(b"someone's frame")
    assert png_names(folder) == ["00005.png"]
    kept = Path(str(info.value).rsplit(" ", 1)[1])
    assert png_names(kept) == [f"{i:05d}.png" for i in range(10)]
    assert not hidden(tmp_path)


def test_an_older_sequence_survives_a_failed_replacement(tmp_path):
    folder = tmp_path / "frames"
    with VideoWriter(f"{folder}/", SIZE, 30) as video:
        video.write(np.full((5, 48, 64, 3), 200, np.uint8))
    with pytest.raises(OutputError, match="notes.txt"):
        with VideoWriter(f"{folder}/", SIZE, 30, overwrite=True) as video:
            video.write(FRAMES)
            (folder / "notes.txt").write_text("mine")
    assert png_names(folder) == [f"{i:05d}.png" for i in range(5)] + ["notes.txt"]
    assert decode_frames(folder / "%05d.png", SIZE).min() == 200
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert len(list(tmp_path.iterdir())) == 2  # frames/ and the new frames kept aside


def test_ctrl_c_while_frames_are_published_leaves_all_or_nothing(tmp_path, capsys):
    audio = write_wav(tmp_path / "in.wav", tone(800, 10.0), RATE)  # 300 frames
    folder = tmp_path / "frames"
    main_thread = threading.main_thread().ident
    sent = threading.Event()

    def interrupt_at_the_first_frame():
        deadline = time.monotonic() + 60
        while not sent.is_set() and time.monotonic() < deadline:
            if (folder / "00000.png").exists():
                signal.pthread_kill(main_thread, signal.SIGINT)
                sent.set()
            time.sleep(0.0002)

    watcher = threading.Thread(target=interrupt_at_the_first_frame)
    # a SIGINT that comes once the command is over must not stop pytest
    previous = signal.signal(signal.SIGINT, lambda *args: None)
    watcher.start()
    try:
        code, err = cli(capsys, "render", audio, "-o", f"{folder}/", *FAST)
    finally:
        sent.set()
        watcher.join()
        signal.signal(signal.SIGINT, previous)
    names = png_names(folder) if folder.exists() else []
    assert len(names) in (0, 300), f"{len(names)} of 300 frames"
    assert code in (0, 130), err
    if code == 130:
        line = error_line(err)
        assert ("no output" in line) == (not names), line
    assert not hidden(tmp_path)


# ----------------------------------------------------------- media that never ends

def test_playlists_and_concat_scripts_are_refused_and_the_batch_goes_on(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "concat.wav").write_text("ffconcat version 1.0\nfile 'fifo'\n")
    write_wav(tmp_path / "segment.wav", tone(500, 1.0), RATE)
    (tmp_path / "live.m3u8").write_text(  # live: no #EXT-X-ENDLIST, reloaded forever
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXTINF:1.0,\nsegment.wav\n")
    good = write_wav(tmp_path / "good.wav", tone(800, 1.0), RATE)
    out = tmp_path / "out"
    code, err = run_child(["render", tmp_path / "concat.wav", tmp_path / "live.m3u8", good,
                           "--outdir", out, *FAST], tmp_path, timeout=60)
    assert code == 1 and "Traceback" not in err, err
    for name in ("concat.wav", "live.m3u8"):
        line = next(x for x in err.splitlines() if x.startswith(f"error: {tmp_path / name}"))
        assert "not a plain media file" in line, line
    assert png_names(out) == ["good.mp4"] and probe(out / "good.mp4")[0] == 30
    assert not ffmpeg_pids(tmp_path, word="")


def test_a_decoder_that_stalls_is_stopped_with_an_error_naming_the_file(tmp_path,
                                                                        monkeypatch):
    from fastviz import _ffmpeg
    from fastviz._audio import AudioStream

    monkeypatch.setattr(_ffmpeg, "STALL_SECONDS", 1, raising=False)
    audio = write_wav(tmp_path / "long.wav", tone(800, 20.0), RATE)
    outcome = []

    def decode():
        try:
            with AudioStream(audio) as stream:
                os.kill(stream._proc.pid, signal.SIGSTOP)  # a hung disk, a looping decoder
                outcome.append(sum(len(b) for b in stream.blocks()))
        except InputError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=decode, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():
        kill_ffmpeg_in(tmp_path)
        thread.join(timeout=10)
        pytest.fail("the stalled decode was never stopped")
    assert isinstance(outcome[0], InputError), outcome
    assert "long.wav" in str(outcome[0]) and "no progress" in str(outcome[0])
    assert not ffmpeg_pids(tmp_path, word="")


def test_a_pipe_at_a_batch_output_is_refused_without_reading_it(tmp_path):
    audio = write_wav(tmp_path / "a.wav", tone(800, 1.0), RATE)
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "a.mp4")
    code, err = run_child(["render", audio, "--outdir", out, *FAST], tmp_path, timeout=60)
    assert code == 1 and "a.mp4" in err and "pipe (FIFO)" in err, err
    assert (out / "a.mp4").is_fifo() and not ffmpeg_pids(tmp_path, word="")


# ----------------------------------------------------------- stops however they land

class SignalInDel:
    """An object whose ``__del__`` receives ``signum``: Python prints the exception
    raised there ("Exception ignored in") and drops it."""

    def __init__(self, signum):
        self.signum = signum

    def __del__(self):
        os.kill(os.getpid(), self.signum)
        for _ in range(1000):  # the handler runs, and raises, in here
            pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_stop_swallowed_by_a_del_still_stops_the_render(tmp_path, capsys, monkeypatch):
    audio = write_wav(tmp_path / "in.wav", tone(800, 20.0), RATE)
    out = tmp_path / "o.mp4"
    write = VideoWriter.write
    calls = []

    def write_then_drop_a_signalled_object(self, frames):
        calls.append(1)
        if len(calls) == 2:
            dropped = SignalInDel(signal.SIGTERM)
            del dropped
        return write(self, frames)

    monkeypatch.setattr(VideoWriter, "write", write_then_drop_a_signalled_object)
    code, err = cli(capsys, "render", audio, "-o", out, "-q", "--preset", "ultrafast",
                    "--size", "160x120")
    assert code == 128 + signal.SIGTERM, err
    assert "SIGTERM" in err and "no output was written" in err, err
    assert not out.exists() and not hidden(tmp_path)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_during_the_imports_is_one_error_line(tmp_path, wav, signum):
    """Sent once numpy has loaded: before the fix, still inside ``import fastviz``."""
    proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "fastviz", "render",
                             str(wav), "-o", str(tmp_path / "o.mp4"), "-q"],
                            stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if re.search(r"\|\s+numpy$", line.rstrip()):
            proc.send_signal(signum)
            break
    lines += proc.stderr.readlines()
    proc.wait(timeout=60)
    err = "".join(x for x in lines if not x.startswith("import time:"))
    assert proc.returncode == 128 + signum, err
    assert len(err.strip().splitlines()) == 1 and error_line(err), err
    assert not (tmp_path / "o.mp4").exists() and not hidden(tmp_path)


def test_a_stop_just_after_the_final_move_says_the_video_is_written(tmp_path, capsys, wav,
                                                                    monkeypatch):
    from fastviz import _encode

    publish = _encode.publish

    def publish_then_get_stopped(*args, **kwargs):
        publish(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass

    monkeypatch.setattr(_encode, "publish", publish_then_get_stopped)
    out = tmp_path / "o.mp4"
    code, err = cli(capsys, "render", wav, "-o", out, *FAST)
    assert code == 128 + signal.SIGTERM, err
    line = error_line(err)
    assert "no output" not in line and "written" in line and "o.mp4" in line, line
    assert probe(out)[:3] == (30, SIZE, ["aac"]) and not hidden(tmp_path)


def test_a_writer_left_open_in_a_daemon_thread_leaves_nothing_at_exit(tmp_path):
    script = f"""
import threading, time
from pathlib import Path
import numpy as np
from fastviz import VideoWriter

def forever():
    with VideoWriter({str(tmp_path / 'o.mp4')!r}, (64, 48), 30, preset="ultrafast") as v:
        while True:
            v.write(np.zeros((1, 48, 64, 3), np.uint8))
            time.sleep(0.01)

threading.Thread(target=forever, daemon=True).start()
while not list(Path({str(tmp_path)!r}).glob(".*.part")):
    time.sleep(0.01)
time.sleep(0.2)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    time.sleep(0.5)  # an orphaned ffmpeg would still be finishing the file
    assert not hidden(tmp_path) and not (tmp_path / "o.mp4").exists()
    assert not ffmpeg_pids(tmp_path, word="")


# ------------------------------------------------------------- what a batch keeps

def test_a_batch_keeps_its_errors_without_their_tracebacks(tmp_path):
    from fastviz._batch import render_batch

    for name in ("a.wav", "b.wav"):
        (tmp_path / name).write_bytes(b"")
    outcomes = render_batch([tmp_path / "a.wav", tmp_path / "b.wav"], tmp_path / "out",
                            size=SIZE, progress=False)
    for outcome in outcomes:
        assert isinstance(outcome.error, FastvizError)
        assert outcome.input.name in str(outcome.error)
        error = outcome.error  # what would keep the failed render's frames alive
        assert error.__traceback__ is None and error.__context__ is None
        assert error.__cause__ is None


def test_a_batch_file_out_of_memory_says_so(tmp_path, capsys, monkeypatch):
    from fastviz import _batch

    render = _batch.render_file

    def out_of_memory_for_big(audio, output, *args, **kwargs):
        if Path(audio).name == "big.wav":
            raise MemoryError  # as numpy raises it: no message
        return render(audio, output, *args, **kwargs)

    monkeypatch.setattr(_batch, "render_file", out_of_memory_for_big)
    for name in ("big.wav", "small.wav"):
        write_wav(tmp_path / name, tone(800, 0.5), RATE)
    code, err = cli(capsys, "render", tmp_path / "big.wav", tmp_path / "small.wav",
                    "--outdir", tmp_path / "out", *FAST)
    assert code == 1, err
    line = next(x for x in err.splitlines() if "big.wav" in x and x.startswith("error:"))
    assert "out of memory" in line, line
    assert png_names(tmp_path / "out") == ["small.mp4"]


# ----------------------------------------------------------------------- messages

def test_a_huge_band_number_is_named_in_its_table(tmp_path, capsys, wav):
    background, table = scene(tmp_path)
    table.write_text("x_2d,y_2d,band\n5,5,1e20\n20,10,2\n")
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", *FAST, "--background",
                    background, "--electrodes", table)
    line = error_line(err)
    assert code == 1 and "e.csv" in line and "row 2" in line and "band" in line, line
    assert "unexpected" not in line


@pytest.mark.parametrize("name", ["x%c.png", "x%s.png", "x%d%d.png"])
def test_a_bad_frame_pattern_is_refused_before_any_work(tmp_path, capsys, wav, monkeypatch,
                                                        name):
    from fastviz import _audio

    decoded = []
    monkeypatch.setattr(_audio.AudioStream, "blocks", lambda self, *a: decoded.append(1))
    out = tmp_path / "seq" / name
    code, err = cli(capsys, "render", wav, "-o", out, *FAST)
    line = error_line(err)
    # exit 2: a value that cannot work is a usage error (OptionError, issue 17)
    assert code == 2 and name in line and "%0Nd" in line, line
    assert not decoded and not (tmp_path / "seq").exists()


def test_a_full_disk_names_the_file(tmp_path, capsys, wav):
    def small_files(n_bytes):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, as ENOSPC, without a file
        resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, hard))

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.getsignal(signal.SIGXFSZ)
    try:
        small_files(2000)
        results = [cli(capsys, "frame", wav, "--at", "0", "-o", tmp_path / "f.png", "-q"),
                   cli(capsys, "layout", "-o", tmp_path / "l.png")]
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    for (code, err), name in zip(results, ["f.png", "l.png"]):
        line = error_line(err)
        assert code == 1 and name in line and "Errno" not in line, line
    assert_nothing_left(tmp_path)


@pytest.mark.parametrize("flag", ["--background", "--electrodes", "--look"])
def test_a_pipe_as_picture_table_or_look_is_named(tmp_path, capsys, wav, flag):
    background, table = scene(tmp_path)
    fifo = tmp_path / ("f.toml" if flag == "--look" else "f")
    os.mkfifo(fifo)
    other = {"--background": ["--electrodes", table], "--electrodes": ["--background",
                                                                        background]}
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", *FAST, flag, fifo,
                    *other.get(flag, []))
    line = error_line(err)
    assert code == 1 and fifo.name in line and "pipe (FIFO)" in line, line
    assert fifo.is_fifo()


def test_a_huge_cmap_is_named_not_echoed(tmp_path, capsys, wav):
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", *FAST, "--cmap",
                    "x" * 10_000_000)
    # exit 2: a value that cannot work is a usage error (OptionError, issue 17)
    assert code == 2 and len(err) < 1000, len(err)
    assert "10,000,000 characters" in error_line(err)


def test_a_1_hz_wav_is_named(tmp_path, capsys):
    audio = tmp_path / "slow.wav"
    wavfile.write(audio, 1, np.zeros(60, np.float32))
    code, err = cli(capsys, "render", audio, "-o", tmp_path / "o.mp4", *FAST)
    line = error_line(err)
    assert code == 1 and "slow.wav" in line and "1 Hz" in line, line


def test_an_audio_array_at_an_impossible_rate_is_refused(tmp_path):
    with pytest.raises(InputError, match="rate"):
        VideoWriter(tmp_path / "o.mp4", SIZE, 30, audio=(np.zeros(100), 10 ** 12))
    with pytest.raises(InputError, match="rate"):
        fastviz.render_signal(np.zeros((2, 10)), tmp_path / "o.mp4", rate=10,
                              electrodes=[[1, 1], [2, 2]], audio=(np.zeros(100), 0.5))
    assert not list(tmp_path.iterdir())


def test_x264s_side_limit_is_checked_up_front(tmp_path, capsys, wav, monkeypatch):
    from fastviz import _audio

    decoded = []
    monkeypatch.setattr(_audio.AudioStream, "blocks", lambda self, *a: decoded.append(1))
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", "-q", "--size",
                    "16880x2")
    line = error_line(err)
    # exit 2: a value that cannot work is a usage error (OptionError, issue 17)
    assert code == 2 and "16880x2" in line and "16384" in line, line
    assert not decoded


def test_more_channels_than_ffmpeg_mixes_are_refused_by_name(tmp_path, capsys):
    audio = tmp_path / "many.wav"
    wavfile.write(audio, 8000, np.zeros((800, 65), np.float32))
    code, err = cli(capsys, "render", audio, "-o", tmp_path / "o.mp4", *FAST)
    line = error_line(err)
    assert code == 1 and "many.wav" in line and "65 audio channels" in line, line
    assert "at most 64" in line, line


# ----------------------------------------------------- many renders in one process

def test_cancelling_one_render_leaves_another_alone(tmp_path):
    """Two renders in threads: the one cancelled kills its own ffmpeg, not the other's,
    even when the other started its processes while the first was running."""
    audio = write_wav(tmp_path / "in.wav", tone(800, 3.0), RATE)
    other_out = tmp_path / "other"
    other_out.mkdir()
    results = {}

    def cancel_once_the_other_encodes():
        if not any(p.name.startswith(".cancelled") for p in tmp_path.iterdir()):
            return False  # asked while its audio is analysed: its own encoder first
        deadline = time.monotonic() + 60
        while not ffmpeg_pids(other_out) and time.monotonic() < deadline:
            time.sleep(0.01)
        return True

    def cancelled():
        try:
            fastviz.render(audio, tmp_path / "cancelled.mp4", size=SIZE, preset="ultrafast",
                           progress=False, cancel=cancel_once_the_other_encodes)
        except BaseException as exc:
            results["cancelled"] = exc

    def other():
        while not any(p.name.startswith(".cancelled") for p in tmp_path.iterdir()):
            time.sleep(0.005)  # starts while the first one's encoder runs
        try:
            results["other"] = fastviz.render(audio, other_out / "o.mp4", size=SIZE,
                                              preset="ultrafast", progress=False)
        except BaseException as exc:
            results["other"] = exc

    threads = [threading.Thread(target=cancelled), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert isinstance(results["cancelled"], fastviz.Cancelled), results
    assert results["other"] == other_out / "o.mp4", results
    assert probe(other_out / "o.mp4")[:3] == (90, SIZE, ["aac"])
    assert not (tmp_path / "cancelled.mp4").exists() and not hidden(tmp_path)
    assert not ffmpeg_pids(tmp_path, word="")


def test_renders_in_threads_each_write_their_own_video(tmp_path):
    audio = write_wav(tmp_path / "in.wav", tone(800, 1.0), RATE)
    results = [None] * 3

    def one(i):
        results[i] = fastviz.render(audio, tmp_path / f"{i}.mp4", size=SIZE,
                                    preset="ultrafast", progress=False)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for i in range(3):
        assert_rendered(0, "", tmp_path / f"{i}.mp4")


# -------------------------------------------- the second attacker's trial (13 failures)

def test_a_link_through_proc_at_the_output_is_never_replaced(tmp_path, capsys, wav):
    """``-o /dev/stdout -y`` replaced the machine's /dev/stdout (a link to
    /proc/self/fd/1, which resolves to whatever stdout is): a link into /proc, or one
    that sits in /dev, is never replaced."""
    link = tmp_path / "out.mp4"
    link.symlink_to("/proc/self/fd/1")
    code, err = cli(capsys, "render", wav, "-o", link, "--format", "mp4", "-y", *FAST)
    assert code == 1 and "a symlink into /proc" in error_line(err)
    assert os.readlink(link) == "/proc/self/fd/1"
    code, err = cli(capsys, "render", wav, "-o", "/dev/stdout", "--format", "mp4", "-y",
                    *FAST)
    assert code == 1 and "a symlink into /dev" in error_line(err)
    assert os.path.islink("/dev/stdout")


def test_a_synthesis_script_is_not_read_as_audio(tmp_path, capsys):
    """A 47-byte SBaGen script named .wav decoded as 23 hours of sound."""
    bomb = tmp_path / "bomb.wav"
    bomb.write_text("-SE\nalpha: 440+10/50\nNOW alpha\n+23:00:00 alpha\n")
    start = time.monotonic()
    code, err = cli(capsys, "render", bomb, "-o", tmp_path / "o.mp4", *FAST)
    assert code == 1 and "bomb.wav" in error_line(err) and time.monotonic() - start < 20
    assert not list(tmp_path.glob("o*"))


def test_local_workers_are_capped(tmp_path, capsys, wav):
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", "--scheduler",
                    "local:99999", *FAST)
    assert code == 2 and "at most" in error_line(err) and "local:99999" in err


def test_a_scheduler_that_never_answers_is_an_error(tmp_path, wav, monkeypatch):
    pytest.importorskip("distributed")
    from fastviz import _distributed

    monkeypatch.setattr(_distributed, "WORKER_TIMEOUT", 2)
    with socket.socket() as listener:  # accepts, and never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(FastvizError, match="no answer in 2 s"):
            fastviz.render(wav, tmp_path / "o.mp4", scheduler=address, progress=False)
    assert time.monotonic() - start < 30 and not list(tmp_path.glob("o*"))


def test_a_name_too_long_is_refused_before_the_render(tmp_path, capsys, wav):
    name = "\N{LATIN SMALL LETTER E WITH ACUTE}" * 126 + ".mp4"  # 256 bytes
    decoded = []
    code, err = cli(capsys, "render", wav, "-o", tmp_path / name, *FAST)
    assert code == 1 and "its name is 256 bytes" in error_line(err) and not decoded
    assert_nothing_left(tmp_path)


def test_an_infinite_dot_size_is_a_usage_error(tmp_path, capsys, wav):
    code, err = cli(capsys, "frame", wav, "--at", "0", "-o", tmp_path / "f.png",
                    "--dot-size", "inf")
    assert code == 2 and "--dot-size must be a finite number" in error_line(err)
    look = tmp_path / "big.toml"
    look.write_text("[big]\ndot_size = inf\n")
    code, err = cli(capsys, "frame", wav, "--at", "0", "-o", tmp_path / "f.png",
                    "--look", f"{look}:big")
    assert code == 1 and "a finite number above 0" in error_line(err)


def test_a_picture_larger_than_a_frame_is_refused_from_its_header(tmp_path, capsys, wav):
    from PIL import Image

    Image.new("L", (9000, 9000)).save(tmp_path / "big.png")  # small file, 81 MP
    (tmp_path / "e.csv").write_text("x_2d,y_2d\n10,10\n100,100\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", "-q", "--background",
                    tmp_path / "big.png", "--electrodes", tmp_path / "e.csv")
    assert code == 1 and "big.png" in error_line(err) and "too large" in err
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200  # not decoded: 81 MP of RGBA is 324 MB


def test_a_full_disk_while_encoding_is_one_line(tmp_path, capsys, wav):
    assert cli(capsys, "render", wav, "-o", tmp_path / "warm.mp4", *FAST)[0] == 0
    (tmp_path / "warm.mp4").unlink()  # the kernels' cache is written: only ffmpeg writes
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, hard))  # ffmpeg inherits it
    try:
        code, err = cli(capsys, "render", wav, "-o", tmp_path / "o.mp4", "--crf", "0",
                        *FAST)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert code == 1 and "the disk is full" in error_line(err) and "o.mp4" in err
    assert err.count("\n") == 1, err
    assert_nothing_left(tmp_path)


def test_a_stopped_encoder_is_killed_and_named(tmp_path, monkeypatch):
    from fastviz import _ffmpeg

    monkeypatch.setattr(_ffmpeg, "ENCODER_STALL_SECONDS", 2)
    frames = np.zeros((30, 480, 640, 3), np.uint8)
    with pytest.raises(fastviz.EncodeError, match="took no frame for 2 s"):
        with VideoWriter(tmp_path / "o.mp4", (640, 480), 30, preset="ultrafast") as video:
            os.kill(video._proc.pid, signal.SIGSTOP)  # as a hung disk stops its writes
            for _ in range(100):
                video.write(frames)
    assert not list(tmp_path.iterdir())
