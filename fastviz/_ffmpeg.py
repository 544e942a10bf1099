"""The bundled ffmpeg binary, started safely, with the tail of its stderr kept."""
import collections
import contextlib
import os
import signal
import subprocess
import threading

import imageio_ffmpeg

from ._errors import FastvizError, OptionError

STOP_SIGNALS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name)}
_reapers = []  # the process lists of the open ``reaper`` blocks


def ffmpeg_exe():
    """Path of the ffmpeg binary that imageio-ffmpeg ships (or ``IMAGEIO_FFMPEG_EXE``)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


class LogCatcher(threading.Thread):
    """Drain a pipe on a daemon thread so ffmpeg never blocks on it; keep the last lines."""

    def __init__(self, stream, n_lines=20):
        super().__init__(daemon=True)
        self._stream = stream
        self._lines = collections.deque(maxlen=n_lines)
        self.start()

    def run(self):
        for line in iter(self._stream.readline, b""):
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                self._lines.append(text)
        self._stream.close()

    def tail(self):
        """The last lines ffmpeg printed, waiting briefly for it to finish printing."""
        self.join(timeout=2)
        return "\n".join(self._lines) or "(ffmpeg printed nothing)"


def file_arg(path):
    """``path`` as ffmpeg must read it: absolute, behind ``file:``, so a name with a ``:``
    (``12:30-meeting.wav``) is not taken for a protocol, nor one starting with ``-``
    for an option."""
    return "file:" + os.path.abspath(path)


def start(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL):
    """Start ffmpeg with an argument list (never a shell); return ``(process, log, cmd)``."""
    try:
        cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", *args]
    except RuntimeError as exc:  # imageio-ffmpeg found no binary
        raise FastvizError(f"cannot find ffmpeg: {exc}") from None
    # Its own session: a terminal's Ctrl-C reaches only Python, which then kills ffmpeg
    # and removes the partial file, instead of ffmpeg finishing it on its own.
    with signals_held():  # so none can run unaccounted for
        try:
            proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                                    start_new_session=os.name == "posix")
        except OSError as exc:
            raise FastvizError(f"cannot run ffmpeg {cmd[0]}: {exc.strerror}") from None
        for started in _reapers:
            started.append(proc)
        return proc, LogCatcher(proc.stderr), cmd


@contextlib.contextmanager
def signals_held():
    """Hold off Ctrl-C, SIGTERM and SIGHUP in the block (main thread only).

    They raise in the main thread wherever it is; a block that starts something and
    records it (a process, a Dask task) must not be cut between the two.
    """
    held = threading.current_thread() is threading.main_thread() and hasattr(
        signal, "pthread_sigmask")
    if held:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


@contextlib.contextmanager
def reaper():
    """Kill and reap every ffmpeg started in the block that still runs if it fails.

    The safety net under the owners' own cleanup: an interruption that lands between
    a process's start and its owner's hold on it cannot leave it running.
    """
    started = []
    _reapers.append(started)
    try:
        yield
    except BaseException:
        for proc in started:
            kill(proc)
        raise
    finally:
        _reapers.remove(started)


def kill(proc):
    """Kill and reap ``proc`` if it is still running."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                pipe.close()
            except OSError:
                pass


# H.264 level 6.2, the highest, caps a frame at 139,264 macroblocks of 16 x 16 pixels
# (8192 x 4352) and a side at sqrt(8 x 139,264) macroblocks; x264 refuses more, so
# larger frames are refused before any of their memory is allocated. At the cap, one
# render thread holds about 0.45 GB of frames.
MAX_FRAME_PIXELS = 139_264 * 256
MAX_FRAME_SIDE = 16_880


def check_frame_size(width, height):
    """Refuse a (width, height) the H.264 encoder will not take, before allocating it."""
    if width * height > MAX_FRAME_PIXELS or max(width, height) > MAX_FRAME_SIDE:
        raise OptionError(f"frame size {width}x{height} is too large: H.264 (level 6.2) "
                           f"takes at most {MAX_FRAME_PIXELS:,} pixels (8192x4352) and "
                           f"{MAX_FRAME_SIDE} on a side")
