"""The bundled ffmpeg binary, started safely, owned by the render that started it.

Every ffmpeg belongs to the ``reaper`` block (one per render) that was open in its
thread's context when it started: a render that fails kills its own processes and no
other render's, so renders in threads of one process (a web service) never touch each
other. User files are read only as plain files: no protocol but ``file``, no demuxer
that opens other files or URLs by itself, and a read that makes no progress for
``STALL_SECONDS`` kills the decoder.
"""
import collections
import contextlib
import contextvars
import functools
import os
import re
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

import imageio_ffmpeg

from ._errors import EncodeError, FastvizError, OptionError, OutputError

STOP_SIGNALS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name)}
# A decoder that hands over no sound for this long is stuck (a hung disk, a damaged
# file that makes it loop), not slow: decoding runs at hundreds of times real time.
STALL_SECONDS = 30
# An encoder that takes no frame for this long is stuck (a stopped process, a disk that
# stopped answering), not slow: x264's slowest preset takes a few seconds for an 8K frame.
ENCODER_STALL_SECONDS = 120
# What ffmpeg says when the disk (or a file size limit) stops its writes
DISK_FULL = ("No space left on device", "File too large", "Disk quota exceeded")
# Demuxers that open other files or URLs on their own (playlists, concat scripts, image
# sequences, disc folders, subtitle pairs, network sessions) or run scripts. A user's
# file is never read with them: a playlist can point at /dev/urandom or stay live
# forever; SBaGen (sbg) scripts synthesise sound for as long as they say (47 bytes can
# ask for a day of it). Devices are left out as well.
UNSAFE_DEMUXERS = frozenset({"avisynth", "concat", "dash", "dvdvideo", "hls", "image2",
                             "imf", "msnwctcp", "rtp", "rtsp", "sap", "sbg", "sdp",
                             "vapoursynth", "vobsub", "webm_dash_manifest"})


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


class Watchdog(threading.Thread):
    """Reads from ``proc``'s stdout (or any call, ``watched``) that kill it when one
    makes no progress for ``seconds`` (``STALL_SECONDS``); ``fired`` tells whether that
    happened. ``stop()`` ends it."""

    def __init__(self, proc, seconds=None):
        super().__init__(daemon=True)
        self.seconds = STALL_SECONDS if seconds is None else seconds  # read now: settable
        self.fired = False
        self._proc, self._since, self._over = proc, None, threading.Event()
        self.start()

    def read(self, n_bytes):
        """Up to ``n_bytes`` from the process (fewer at its end, or once killed)."""
        return self.watched(self._proc.stdout.read, n_bytes)

    def watched(self, call, *args):
        """``call(*args)``, the process killed if it takes longer than ``seconds``."""
        self._since = time.monotonic()
        try:
            return call(*args)
        finally:
            self._since = None

    def run(self):
        while not self._over.wait(min(1.0, self.seconds / 4)):
            since = self._since
            if since is not None and time.monotonic() - since > self.seconds:
                self.fired = True
                self._proc.kill()  # the read ends; the owner reaps it
                return

    def stop(self):
        self._over.set()


def file_arg(path):
    """``path`` as ffmpeg must read it: absolute, behind ``file:``, so a name with a ``:``
    (``12:30-meeting.wav``) is not taken for a protocol, nor one starting with ``-``
    for an option."""
    return "file:" + os.path.abspath(path)


def plain_input(path):
    """ffmpeg's input arguments for a user's file read as a plain file: the ``file``
    protocol only, and any demuxer but ``UNSAFE_DEMUXERS`` (and devices)."""
    return ["-protocol_whitelist", "file", "-format_whitelist", ",".join(safe_demuxers()),
            "-i", file_arg(path)]


@functools.cache
def safe_demuxers():
    """The bundled ffmpeg's demuxers (``ffmpeg -demuxers``) but devices and
    ``UNSAFE_DEMUXERS``."""
    names = []
    for row in listing(["-demuxers"]).split(" ---", 1)[-1].splitlines():  # " D d name  description"
        flags, words = row[1:4], row[4:].split()
        if words and flags[0] == "D" and flags[2] != "d" and not (
                set(words[0].split(",")) & UNSAFE_DEMUXERS):
            names.append(words[0])
    return tuple(names)


class Owned:
    """What one render (one ``reaper`` block) started and finished: its ffmpeg
    processes still running, and the outputs it moved into place."""

    def __init__(self, parent=None):
        self.processes, self.published, self.parent = [], [], parent


_owner = contextvars.ContextVar("fastviz_owner", default=None)


def _owners():
    """The open ``reaper`` blocks of this context, innermost first."""
    owned = _owner.get()
    while owned is not None:
        yield owned
        owned = owned.parent


def start(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=None):
    """Start ffmpeg with an argument list (never a shell); return ``(process, log, cmd)``.

    The process belongs to the open ``reaper`` blocks of this thread's context.
    """
    try:
        cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", *args]
    except RuntimeError as exc:  # imageio-ffmpeg found no binary
        raise FastvizError(f"cannot find ffmpeg: {exc}") from None
    # Its own session: a terminal's Ctrl-C reaches only Python, which then kills ffmpeg
    # and removes the partial file, instead of ffmpeg finishing it on its own.
    with signals_held():  # so none can run unaccounted for
        try:
            proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                                    start_new_session=os.name == "posix", cwd=cwd)
        except OSError as exc:
            raise FastvizError(f"cannot run ffmpeg {cmd[0]}: {exc.strerror}") from None
        for owned in _owners():  # ended ones go: a batch's list stays short
            owned.processes[:] = [p for p in owned.processes if p.returncode is None]
            owned.processes.append(proc)
        return proc, LogCatcher(proc.stderr), cmd


def failure(what, proc, log, command, where=""):
    """The ``EncodeError`` of an ffmpeg that failed: ``what`` failed, how it ended,
    ``where``, the command and the last lines it said. The one way every run of ffmpeg
    reports."""
    code = proc.returncode
    how = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0
           else f"exit code {code}")  # killed: ffmpeg could say nothing
    said = log.tail()
    full = next((words for words in DISK_FULL if words in said), None)
    if code is not None and code == -getattr(signal, "SIGXFSZ", 0):  # ulimit -f
        full = "over the file size limit"
    if full is not None:  # the one thing to say, in one line
        return OutputError(f"{what} ({how}){where}: the disk is full ({full})")
    return EncodeError(f"{what} ({how}){where}\ncommand: {shlex.join(command)}\n"
                       f"ffmpeg said:\n{log.tail()}")


def first_words(log):
    """ffmpeg's first line of complaint (``log``, a ``LogCatcher``), without its
    ``[muxer @ 0x...]`` prefix and cut short: the cause comes first, the consequences
    after it, each one line."""
    line = log.tail().splitlines()[0]
    line = re.sub(r"^(\[[^]]*\]\s*)+", "", line).strip()
    return line if len(line) <= 160 else line[:157] + "..."


def finish(proc, log, command, what):
    """Wait for ``proc``; a ``failure`` saying ``what`` failed unless it exits cleanly."""
    if proc.wait() != 0:
        raise failure(what, proc, log, command)


def run(args, what, cwd=None):
    """Run ffmpeg with ``args`` to its end (``start``, then ``finish``)."""
    finish(*start(args, cwd=cwd), what)


def listing(args):
    """What ffmpeg prints on stdout for ``args`` (``-encoders``, ``-h encoder=X``)."""
    proc, _, _ = start(args, stdout=subprocess.PIPE)
    text = proc.stdout.read().decode(errors="replace")
    proc.wait()
    return text


_holds = 0  # open signals_held blocks in the main thread
_deferred = []  # stops that came while held: raised when the last block ends


@contextlib.contextmanager
def signals_held():
    """Hold off Ctrl-C, SIGTERM and SIGHUP in the block (main thread only).

    They raise in the main thread wherever it is; a block that starts something and
    records it (a process, a Dask task), moves a finished file into place or cleans up
    must not be cut in the middle. The signals are blocked, and a handler that finds
    them held (``holding``) hands its stop to ``defer``: it is raised when the last
    block ends. Child processes started in the block inherit the blocked signals.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    global _holds
    masked = hasattr(signal, "pthread_sigmask")
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS) if masked else None
    _holds += 1
    try:
        yield
    finally:
        _holds -= 1
        if masked:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        if not _holds and _deferred:
            stop = _deferred.pop()
            _deferred.clear()
            stop()


def holding():
    """Whether the main thread is inside ``signals_held`` (for a signal handler)."""
    return _holds > 0


def defer(stop):
    """Call ``stop`` (which raises) when the last ``signals_held`` block ends."""
    _deferred.append(stop)


@contextlib.contextmanager
def reaper():
    """A render's own processes: every ffmpeg started in the block (in this context)
    that still runs is killed and reaped if the block fails. Yields the ``Owned``
    record, which also lists the outputs published in the block (``published``).

    The safety net under the owners' own cleanup: an interruption that lands between
    a process's start and its owner's hold on it cannot leave it running. Blocks nest;
    another thread (another render) has a context, and processes, of its own.
    """
    owned = Owned(_owner.get())
    token = _owner.set(owned)
    try:
        yield owned
    except BaseException:
        with signals_held():
            for proc in owned.processes:
                kill(proc)
        raise
    finally:
        _owner.reset(token)


def record_published(path):
    """Note that ``path`` was moved into place, in every open ``reaper`` block."""
    for owned in _owners():
        owned.published.append(Path(path))


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
# (8192 x 4352): x264 encodes larger frames, but they fit no level, so players may
# refuse them. x264 itself takes at most 16384 pixels on a side (its MAX_RESOLUTION:
# 16880 x 2, inside the level's side limit, fails with "invalid width x height").
# Larger frames are refused before any of their memory is allocated. At the cap, one
# render thread holds about 0.45 GB of frames.
MAX_FRAME_PIXELS = 139_264 * 256
MAX_FRAME_SIDE = 16_384


def check_frame_size(width, height):
    """Refuse a (width, height) the H.264 encoder will not take, before allocating it."""
    if width * height > MAX_FRAME_PIXELS or max(width, height) > MAX_FRAME_SIDE:
        raise OptionError(f"frame size {width}x{height} is too large: H.264 (level 6.2) "
                           f"takes at most {MAX_FRAME_PIXELS:,} pixels (8192x4352) and "
                           f"x264 {MAX_FRAME_SIDE} on a side")
