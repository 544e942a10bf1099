"""The writer: raw frames on stdin of one ffmpeg, optional audio muxed in, one file out.

It only writes: an ``OutputSpec`` (``_command``), resolved and checked before, becomes
an argument list and a process. The file (or the folder of frames) is written under a
hidden temporary name beside the target and moved onto it only after ffmpeg exits
cleanly (``_files.publish``), so a failure or Ctrl-C never leaves a half-written video
where the output should be.
"""
import atexit
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path

import numpy as np

from . import _ffmpeg
from ._command import copy_command, encode_command, video_arguments
from ._errors import EncodeError, OutputError
from ._files import kind, publish, publish_frames, temporary_file, temporary_folder
from ._output import output_spec


def source_tag(audio):
    """The comment fastviz writes into a video made from the file ``audio``.

    A hash of the file's resolved path, not the path: a batch that resumes knows an
    existing video is this input's (and not another input's of the same name) without
    a video telling where its maker keeps files.

    Examples
    --------
    >>> source_tag("a.wav") == source_tag("./a.wav")
    True
    """
    digest = hashlib.sha1(os.fsencode(os.path.realpath(audio))).hexdigest()[:16]
    return f"fastviz source {digest}"


def read_source_tag(video):
    """The ``source_tag`` written in ``video``, or None (not fastviz's, or unreadable).

    Read as any user's file is: a plain file only, watched for stalls.
    """
    if kind(video) not in ("a file", "a symlink to a file"):
        return None
    proc, log, _ = _ffmpeg.start([*_ffmpeg.plain_input(video), "-f", "ffmetadata", "-"],
                                 stdout=subprocess.PIPE)
    watchdog = _ffmpeg.Watchdog(proc)
    try:
        text = watchdog.read(1 << 20).decode("utf-8", "replace")  # a tag is near the top
    finally:
        watchdog.stop()
        _ffmpeg.kill(proc)
    for line in text.splitlines():  # WebM (Matroska) spells the key COMMENT
        key, _, value = line.partition("=")
        if key.lower() == "comment" and value.startswith("fastviz source "):
            return value
    return None




class VideoWriter:
    """Write frames and an optional audio track to a video (or frames) through ffmpeg.

    Use as a context manager: on a clean exit the video is finalised and moved into
    place; on any exception ffmpeg is killed and nothing is left at ``path``.

    Parameters
    ----------
    path : str or Path
        Output file; its extension picks the format (``FORMATS``): ``.mp4``/``.m4v``
        (H.264, HEVC or AV1 with AAC), ``.webm`` (VP9 or AV1 with Opus), ``.mov``
        (ProRes 4444 with AAC), ``.gif`` (no sound), or a folder or ``%05d.png``
        pattern for numbered PNG frames (no sound).
    size : (int, int)
        Frame (width, height). Odd RGB sizes are padded by one black row or column,
        since 4:2:0 video needs even sizes; frames are never rescaled.
    fps : int, float, str or Fraction
        Frame rate, passed to ffmpeg exactly (``"30000/1001"`` is kept as is).
    audio : str, Path or (samples, rate), optional
        Audio file to mux in, or samples with their rate in Hz: shape (n,),
        (n_channels, n) or (n, n_channels), floats in -1..1 or integers (full scale).
        Encoded to AAC; more than 8 channels are averaged into both stereo channels.
    audio_start, audio_duration : float, optional
        Seconds of the audio file to skip, and to keep.
    preset, crf : str, int
        libx264 speed preset and quality (lower is better; 23 is x264's default).
    pixel_format : ``"rgb24"`` (default), ``"nv12"`` or ``"rgba"``
        What ``write`` takes: RGB frames, converted by ffmpeg to BT.709 Y'CbCr, or
        NV12 frames already in it (``FrameRenderer.frames_nv12``, even sizes only),
        which H.264 takes as they are, or, with ``transparent``, RGBA frames with
        straight alpha (``FrameRenderer.frames_rgba``).
    format : str, optional
        A key of ``FORMATS`` (``"mp4"``, ``"webm"``, ``"mov"``, ``"gif"``, ``"png"``),
        instead of the extension's.
    codec : str, optional
        A codec of the format (``"hevc"``, ``"av1"``...); default its first.
    transparent : bool
        Keep the frames' alpha: ``.mov``, ``.webm`` (VP9) or PNG frames.
    encoder : str, optional
        Any video encoder of the bundled ffmpeg (``"h264_nvenc"``...) instead of the
        codec's; a one-frame trial encode checks here and now that it works.
    overwrite : bool
        Replace an existing ``path``.
    n_frames : int, optional
        How many frames will be written, at most. With audio, the sound is cut at the
        last frame either way (a longer sound would freeze the picture); knowing the
        count up front cuts it as it is encoded instead of by a stream copy at
        ``close``. Writing more than ``n_frames`` is refused.
    metadata : dict, optional
        Tags for the file (``{"title": ...}``), as ffmpeg's ``-metadata``.
    inputs : sequence of paths, optional
        Files the video was made from (besides ``audio``): ``path`` may never be one.
    scratch_dir : str or Path, optional
        Folder for the temporary file, on ``path``'s filesystem (a batch's own folder,
        removed as a whole); default beside ``path``.

    A writer still open when the interpreter exits (in a daemon thread, say) is
    aborted then, so it leaves nothing behind either.

    Examples
    --------
    ::

        frames = np.zeros((30, 64, 64, 3), np.uint8)
        with VideoWriter("out.mp4", (64, 64), 30, audio="song.wav") as video:
            video.write(frames)
    """

    def __init__(self, path, size, fps, *, audio=None, audio_start=None,
                 audio_duration=None, preset="veryfast", crf=20, pixel_format="rgb24",
                 overwrite=False, n_frames=None, metadata=None, format=None, codec=None,
                 transparent=False, encoder=None, inputs=(), scratch_dir=None):
        self._start(output_spec(
            path, size, fps, audio=audio, audio_start=audio_start,
            audio_duration=audio_duration, preset=preset, crf=crf,
            pixel_format=pixel_format, overwrite=overwrite, n_frames=n_frames,
            metadata=metadata, format=format, codec=codec, transparent=transparent,
            encoder=encoder, inputs=inputs, scratch_dir=scratch_dir))

    @classmethod
    def from_spec(cls, spec):
        """A writer of ``spec``, trusted as it is (``_output`` checked it)."""
        writer = cls.__new__(cls)
        writer._start(spec)
        return writer

    # What the writer was made with, as it was before the spec held it: read only.
    width = property(lambda self: self.spec.width)
    height = property(lambda self: self.spec.height)
    fps = property(lambda self: self.spec.fps)
    pixel_format = property(lambda self: self.spec.pixel_format)
    format_name = property(lambda self: self.spec.format)
    format = property(lambda self: self.spec.row)
    codec = property(lambda self: self.spec.codec)
    transparent = property(lambda self: self.spec.transparent)
    preset = property(lambda self: self.spec.preset)
    crf = property(lambda self: self.spec.crf)
    overwrite = property(lambda self: self.spec.overwrite)
    inputs = property(lambda self: self.spec.inputs)
    scratch_dir = property(lambda self: self.spec.scratch_dir)
    metadata = property(lambda self: dict(self.spec.metadata))

    def video_arguments(self):
        """ffmpeg's video output arguments: filter, encoder and its settings."""
        return video_arguments(self.spec)

    def _start(self, spec):
        self.spec, self.path = spec, spec.path
        self.frame_shape, self.n_frames = spec.frame_shape, spec.n_frames
        self.frames_written = 0
        self.command = None
        self._state = "new"
        self._proc = self._tmp = self._wav = self._watchdog = None

    def open(self):
        """Create the temporary file and start ffmpeg; returns the writer."""
        if self._state != "new":
            raise ValueError(f"VideoWriter for {self.path} was opened already; "
                             "make a new one for another video")
        self._state = "open"
        _open_writers.add(self)
        spec, sequence = self.spec, self.spec.row.sequence is not None
        if sequence:
            self._tmp = temporary_folder(self.path)
        else:
            self._tmp = temporary_file(self.path, folder=spec.scratch_dir)
        try:
            audio = spec.audio
            source = None if audio is None else audio.source
            if audio is not None and source is None:  # samples: from a scratch WAV
                from scipy.io import wavfile

                fd, wav = tempfile.mkstemp(prefix="fastviz-", suffix=".wav")
                os.close(fd)
                self._wav = source = Path(wav)
                try:
                    wavfile.write(self._wav, audio.rate, audio.samples.T.copy())
                except OSError as exc:
                    raise OutputError(f"cannot write the sound of {self.path} to the "
                                      f"scratch file {wav}: {exc.strerror}") from None
            # numbered frames: written in the temporary folder, ffmpeg's working folder,
            # so no % or newline in the folders above can reach its image2 muxer
            target = "file:" + self.path.name if sequence else _ffmpeg.file_arg(self._tmp)
            self._proc, self._log, self._command = _ffmpeg.start(
                encode_command(spec, target, source), stdin=subprocess.PIPE,
                cwd=self._tmp if sequence else None)
            self.command = shlex.join(self._command)
            self._watchdog = _ffmpeg.Watchdog(self._proc, _ffmpeg.ENCODER_STALL_SECONDS)
        except BaseException:
            self.abort()
            raise
        return self

    def write(self, frames):
        """Append one uint8 frame, (H, W, 3|4) or NV12's (3H/2, W), or a block of them."""
        if self._state != "open":
            raise ValueError(f"VideoWriter for {self.path} is {self._state_words()}: "
                             "write inside its with block, or after open()")
        frames = np.asarray(frames)
        if frames.ndim == len(self.frame_shape):
            frames = frames[None]
        if frames.shape[1:] != self.frame_shape or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 of shape (n, "
                             f"{', '.join(map(str, self.frame_shape))}), "
                             f"got {frames.dtype} {frames.shape}")
        if not len(frames):
            return
        if self.n_frames is not None and self.frames_written + len(frames) > self.n_frames:
            raise ValueError(f"VideoWriter for {self.path} was told n_frames="
                             f"{self.n_frames}, and its sound cut there; writing "
                             f"{self.frames_written + len(frames)} frames would outrun it")
        try:
            for frame in frames:  # watched one at a time: a stuck encoder is killed
                self._watchdog.watched(self._proc.stdin.write,
                                       memoryview(np.ascontiguousarray(frame)).cast("B"))
        except (BrokenPipeError, OSError, ValueError):
            self._proc.wait()
            if self._watchdog.fired:
                raise EncodeError(f"ffmpeg took no frame for {self._watchdog.seconds} s "
                                  f"while writing {self.path}, so it was stopped; is the "
                                  "disk answering, or was ffmpeg stopped?") from None
            raise self._error("ffmpeg stopped reading frames") from None
        self.frames_written += len(frames)

    def _cut_audio_at_last_frame(self):
        """Copy the streams to a new file that ends with the last frame, so the picture
        never freezes under sound that has no frames. Needed when fewer frames came
        than ``n_frames`` announced, or none was announced: then ffmpeg did not know
        where to cut. A stream copy, no re-encoding: about the cost of copying the file."""
        cut = temporary_file(self.path, folder=self.spec.scratch_dir)
        try:
            _ffmpeg.run(copy_command(self._tmp, cut, self.spec,
                                     self.frames_written / self.spec.fps),
                        f"cutting the audio at the last frame of {self.path}")
            os.replace(cut, self._tmp)
        finally:
            if cut.exists():
                cut.unlink()

    def _state_words(self):
        return {"new": "not open yet", "closed": "closed"}.get(self._state, self._state)

    def _error(self, what):
        return _ffmpeg.failure(what, self._proc, self._log, self._command,
                               f" while writing {self.path}")

    def close(self):
        """Finish the video, check ffmpeg's exit code and move the file into place.

        Closing a closed writer does nothing, as for a file.
        """
        if self._state == "closed":
            return
        if self._state == "new":
            raise ValueError(f"VideoWriter for {self.path} was never opened")
        try:
            if self.frames_written == 0:
                raise EncodeError(f"no frames were written to {self.path}")
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
            if self._watchdog.watched(self._proc.wait) != 0:
                if self._watchdog.fired:
                    raise EncodeError(f"ffmpeg did not finish {self.path} for "
                                      f"{self._watchdog.seconds} s after its last frame, "
                                      "so it was stopped; is the disk answering?")
                raise self._error("ffmpeg failed")
            spec = self.spec
            if spec.audio is not None and self.frames_written != self.n_frames:
                self._cut_audio_at_last_frame()
            if spec.row.sequence is not None:
                publish_frames(self._tmp, self.path, spec.overwrite, spec.inputs)
            else:
                publish(self._tmp, self.path, spec.overwrite, spec.inputs)
        except BaseException:
            self.abort()
            raise
        self._state = "closed"
        _open_writers.discard(self)
        self._watchdog.stop()
        self._remove_wav()

    def abort(self):
        """Kill ffmpeg and remove the temporary file; nothing is left at ``path``.

        Not cut by a stop signal (one that comes meanwhile is raised after).
        """
        with _ffmpeg.signals_held():
            self._state = "closed"
            _open_writers.discard(self)
            if self._watchdog is not None:
                self._watchdog.stop()
            if self._proc is not None:
                _ffmpeg.kill(self._proc)
            for scratch in (self._tmp, self._wav):
                if scratch is not None and scratch.is_dir():
                    shutil.rmtree(scratch, ignore_errors=True)
                elif scratch is not None:
                    scratch.unlink(missing_ok=True)

    def _remove_wav(self):
        if self._wav is not None:
            self._wav.unlink(missing_ok=True)

    def __del__(self):  # dropped while open: no ffmpeg or temporary file may outlive it
        if getattr(self, "_state", None) == "open":
            self.abort()

    def __enter__(self):
        return self.open() if self._state == "new" else self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


_open_writers = weakref.WeakSet()  # VideoWriters opened and not yet closed or aborted


@atexit.register
def _abort_open_writers():
    """At exit, abort the writers still open: a daemon thread's is never closed."""
    for writer in list(_open_writers):
        writer.abort()
