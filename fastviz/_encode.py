"""One ffmpeg process: raw frames on stdin, optional audio muxed in, H.264 + AAC MP4.

The file is written under a hidden temporary name beside the target and renamed onto it
only after ffmpeg exits cleanly, so a failure or Ctrl-C never leaves a half-written video
where the output should be.
"""
import hashlib
import os
import shlex
import signal
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import _ffmpeg
from ._audio import AudioStream, as_channels_first, input_arguments
from ._errors import EncodeError, InputError, OutputError
from ._ffmpeg import check_frame_size

_UMASK = os.umask(0o022)  # read once, at import: os.umask can only be read by setting it
os.umask(_UMASK)
MAX_AAC_CHANNELS = 8
MP4_SUFFIXES = (".mp4", ".m4v")


def as_fraction(fps):
    """Frame rate as an exact fraction: 30, 29.97, "30000/1001" or a Fraction."""
    try:
        rate = Fraction(str(fps)) if not isinstance(fps, Fraction) else fps
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"fps must be a positive number or a/b (a frame rate), "
                         f"got {fps!r}") from None
    if rate <= 0:
        raise ValueError(f"fps must be a positive frame rate, got {fps!r}")
    return rate


# libx264's presets, checked before any work so a typo costs nothing
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow", "placebo")
# Layouts given to audio whose file names no speaker layout (a WAV without a channel
# mask, an array): none has an LFE channel, which AAC would low-pass, and for each the
# AAC channel order is the input's, so every channel comes out as it went in.
UNLABELLED_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "4.0", 5: "5.0", 6: "hexagonal",
                      7: "7.0", 8: "octagonal"}


def check_preset(preset):
    """Refuse a libx264 preset name that x264 does not have."""
    if preset not in X264_PRESETS:
        raise ValueError(f"unknown preset {preset!r}; x264's presets are "
                         f"{', '.join(X264_PRESETS)}")
    return preset


def check_output(path, overwrite=False, inputs=(), suffixes=MP4_SUFFIXES):
    """Refuse an output that exists (unless ``overwrite``) or is one of ``inputs``.

    ``suffixes`` are the names it may end with (a preview passes ``(".png",)``).

    An input is compared by resolved path and, when both exist, as the same file on
    disk, so a symlink or a hard link to it is refused too, even with ``overwrite``.
    Returns the path.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"output {path} is a directory")
    if suffixes != MP4_SUFFIXES and path.suffix.lower() not in suffixes:
        raise OutputError(f"output {path}: this writes a PNG picture, so name it .png")
    if path.suffix.lower() not in suffixes:
        raise OutputError(f"output {path}: fastviz writes MP4 (H.264 and AAC) video, so "
                          f"name it .mp4 or .m4v; {path.suffix or 'no extension'} would "
                          "promise a format it is not")
    for source in inputs:
        if isinstance(source, (str, os.PathLike)) and same_file(path, Path(source)):
            raise OutputError(f"output {path} is the input {source}; writing it would "
                              "destroy the input, so choose another name")
    if os.path.lexists(path) and not overwrite:  # a dangling symlink counts too
        raise OutputError(f"output {path} exists; pass overwrite=True to replace it")
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: folder {folder} is missing or not writable")
    return path


def same_file(a, b):
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def temporary_file(path, suffix=".part"):
    """Create a hidden temporary file beside ``path``; return its Path.

    The name holds at most 100 bytes of the output's name, so it fits wherever the
    output's name does (255 bytes on common filesystems).
    """
    path = Path(path)
    short = os.fsencode(path.name)[:100].decode(errors="ignore")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{short}.", suffix=suffix, dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    os.close(fd)
    return Path(tmp)


def publish(tmp, path, overwrite=False):
    """Move the finished ``tmp`` onto ``path``, never over a file that appeared meanwhile.

    Without ``overwrite`` the move is a hard link then an unlink, which fails instead of
    replacing (on filesystems without hard links, a check then a rename). When a file
    appeared at ``path`` during the render it is kept; the finished video is kept too,
    under a visible name beside it, and the error says where.
    """
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp made it private
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:  # no hard links here (FAT, some network filesystems)
        if not os.path.lexists(path):
            os.replace(tmp, path)
            return
    else:
        os.unlink(tmp)
        return
    fd, kept = tempfile.mkstemp(prefix=f"{path.stem[:100]}-", suffix=path.suffix,
                                dir=path.parent)
    os.close(fd)
    os.replace(tmp, kept)
    raise OutputError(f"{path} appeared while rendering and was not replaced (pass "
                      f"overwrite=True to replace it); the video is at {kept}")


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
    """The ``source_tag`` written in ``video``, or None (not fastviz's, or unreadable)."""
    proc, log, _ = _ffmpeg.start(["-i", _ffmpeg.file_arg(video), "-f", "ffmetadata", "-"],
                                 stdout=subprocess.PIPE)
    text = proc.stdout.read().decode("utf-8", "replace")
    _ffmpeg.kill(proc)
    for line in text.splitlines():
        if line.startswith("comment=fastviz source "):
            return line.split("=", 1)[1]
    return None


def audio_arguments(audio, channels, channel_mask=0, start=None, duration=None,
                    input_index=1):
    """ffmpeg (inputs, output arguments) that mux ``audio`` as input ``input_index``.

    ``audio`` is a file; ``start`` and ``duration`` pick the part the analysis read
    (``_audio.input_arguments``, so both hear the same samples).
    """
    inputs, chain = input_arguments(audio, start, duration)
    if channels > MAX_AAC_CHANNELS:  # AAC stops at 8 channels: average them
        mean = "+".join(f"{1 / channels:.6f}*c{i}" for i in range(channels))
        chain += f",pan=stereo|c0={mean}|c1={mean}"
    elif not channel_mask and channels in UNLABELLED_LAYOUTS:
        chain += f",channelmap=channel_layout={UNLABELLED_LAYOUTS[channels]}"
    bitrate = 192 if channels <= 2 else 96 * min(channels, MAX_AAC_CHANNELS)
    outputs = ["-map", f"{input_index}:a:0", "-af", chain, "-c:a", "aac",
               "-b:a", f"{bitrate}k"]
    return inputs, outputs


class VideoWriter:
    """Write frames and an optional audio track to an H.264/AAC MP4 through ffmpeg.

    Use as a context manager: on a clean exit the video is finalised and moved into
    place; on any exception ffmpeg is killed and nothing is left at ``path``.

    Parameters
    ----------
    path : str or Path
        Output file (MP4).
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
    pixel_format : ``"rgb24"`` (default) or ``"nv12"``
        What ``write`` takes: RGB frames, converted by ffmpeg to BT.709 Y'CbCr, or
        NV12 frames already in it (``FrameRenderer.frames_nv12``, even sizes only),
        which the encoder takes as they are.
    overwrite : bool
        Replace an existing ``path``.
    n_frames : int, optional
        How many frames will be written, at most. With audio, the sound is cut at the
        last frame either way (a longer sound would freeze the picture); knowing the
        count up front cuts it as it is encoded instead of by a stream copy at
        ``close``. Writing more than ``n_frames`` is refused.
    metadata : dict, optional
        Tags for the file (``{"title": ...}``), as ffmpeg's ``-metadata``.

    Examples
    --------
    ::

        frames = np.zeros((30, 64, 64, 3), np.uint8)
        with VideoWriter("out.mp4", (64, 64), 30, audio="song.wav") as video:
            video.write(frames)
    """

    def __init__(self, path, size, fps, *, audio=None, audio_start=None,
                 audio_duration=None, preset="veryfast", crf=20, pixel_format="rgb24",
                 overwrite=False, n_frames=None, metadata=None):
        self.overwrite = bool(overwrite)
        self.metadata = dict(metadata or {})
        self.n_frames = None if n_frames is None else int(n_frames)
        self.path = check_output(path, overwrite, [audio])
        self.width, self.height = (int(s) for s in size)
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"frame size must be positive, got {size}")
        check_frame_size(self.width, self.height)
        if pixel_format == "rgb24":
            self.frame_shape = (self.height, self.width, 3)
        elif pixel_format == "nv12" and not (self.width % 2 or self.height % 2):
            self.frame_shape = (self.height * 3 // 2, self.width)
        else:
            raise ValueError(f"pixel_format must be 'rgb24', or 'nv12' with an even size; "
                             f"got {pixel_format!r} at {self.width}x{self.height}")
        self.pixel_format = pixel_format
        self.fps = as_fraction(fps)
        self.preset, self.crf = check_preset(str(preset)), str(int(crf))
        self.audio_channels, self.channel_mask = None, 0
        if isinstance(audio, tuple):
            samples, rate = audio
            if not rate or rate <= 0 or rate != int(rate):
                raise InputError(f"audio rate must be a positive whole number of Hz, "
                                 f"got {rate}")
            samples = as_channels_first(samples)
            audio, self.audio_channels = (samples, int(rate)), len(samples)
        elif audio is not None:
            with AudioStream(audio) as stream:  # fails now, not after the render
                self.audio_channels, self.channel_mask = stream.channels, stream.channel_mask
        self.audio, self.audio_start, self.audio_duration = audio, audio_start, audio_duration
        self.frames_written = 0
        self.command = None
        self._state = "new"
        self._proc = self._tmp = self._wav = None

    def _arguments(self, audio):
        video_in = ["-f", "rawvideo", "-pix_fmt", self.pixel_format,
                    "-s", f"{self.width}x{self.height}",
                    "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-"]
        audio_in, audio_out = [], []
        if audio is not None:
            duration = self.audio_duration
            if self.n_frames is not None:  # the sound stops with the last frame
                end = float(self.n_frames / self.fps)
                duration = end if duration is None else min(float(duration), end)
            audio_in, audio_out = audio_arguments(audio, self.audio_channels,
                                                  self.channel_mask, self.audio_start,
                                                  duration)
        tags = [arg for key, value in self.metadata.items()
                for arg in ("-metadata", f"{key}={value}")]
        return [*video_in, *audio_in, "-map", "0:v:0", *self.video_arguments(), *audio_out,
                *tags, "-movflags", "+faststart", "-loglevel", "error", "-f", "mp4", "-y",
                _ffmpeg.file_arg(self._tmp)]

    def video_arguments(self):
        """ffmpeg's video output arguments: filter, encoder and its settings."""
        # BT.709, tagged: untagged video is read as BT.601 or BT.709 depending on the
        # player and the size, which shifts the colours. NV12 is x264's own layout
        # (4:2:0 like yuv420p, chroma interleaved), so it goes in unconverted.
        video = "setparams=range=tv:colorspace=bt709:color_primaries=bt709:color_trc=bt709"
        if self.pixel_format == "nv12":  # chroma is each 2 x 2 block's: centred
            pix_fmt = ["-pix_fmt", "nv12", "-chroma_sample_location", "center"]
        else:
            video = "scale=out_color_matrix=bt709:out_range=tv," + video
            if self.width % 2 or self.height % 2:
                video = "pad=ceil(iw/2)*2:ceil(ih/2)*2," + video
            pix_fmt = ["-pix_fmt", "yuv420p"]
        return ["-vf", video, "-c:v", "libx264", "-preset", self.preset, "-crf", self.crf,
                *pix_fmt]

    def open(self):
        """Create the temporary file and start ffmpeg; returns the writer."""
        if self._state != "new":
            raise ValueError(f"VideoWriter for {self.path} was opened already; "
                             "make a new one for another video")
        self._state = "open"
        self._tmp = temporary_file(self.path)
        try:
            audio = self.audio
            if isinstance(audio, tuple):  # an array: ffmpeg reads it from a scratch WAV
                from scipy.io import wavfile

                fd, wav = tempfile.mkstemp(prefix="fastviz-", suffix=".wav")
                os.close(fd)
                self._wav = Path(wav)
                wavfile.write(self._wav, audio[1], audio[0].T.copy())
                audio = self._wav
            self._proc, self._log, command = _ffmpeg.start(self._arguments(audio),
                                                           stdin=subprocess.PIPE)
            self.command = shlex.join(command)
        except BaseException:
            self.abort()
            raise
        return self

    def write(self, frames):
        """Append one uint8 frame, (H, W, 3) or NV12's (3H/2, W), or a block of them."""
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
            self._proc.stdin.write(memoryview(np.ascontiguousarray(frames)).cast("B"))
        except (BrokenPipeError, OSError, ValueError):
            self._proc.wait()
            raise self._error("ffmpeg stopped reading frames") from None
        self.frames_written += len(frames)

    def _cut_audio_at_last_frame(self):
        """Copy the streams to a new file that ends with the last frame, so the picture
        never freezes under sound that has no frames. Needed when fewer frames came
        than ``n_frames`` announced, or none was announced: then ffmpeg did not know
        where to cut. A stream copy, no re-encoding: about the cost of copying the file."""
        cut = temporary_file(self.path)
        try:
            end = self.frames_written / self.fps
            proc, log, command = _ffmpeg.start(
                ["-i", _ffmpeg.file_arg(self._tmp), "-map", "0", "-c", "copy", "-t",
                 f"{float(end):.6f}", "-movflags", "+faststart",
                 "-loglevel", "error", "-f", "mp4", "-y", _ffmpeg.file_arg(cut)])
            if proc.wait() != 0:
                raise EncodeError(f"cutting the audio at the last frame of {self.path} "
                                  f"failed\ncommand: {shlex.join(command)}\n"
                                  f"ffmpeg said:\n{log.tail()}")
            os.replace(cut, self._tmp)
        finally:
            if cut.exists():
                cut.unlink()

    def _state_words(self):
        return {"new": "not open yet", "closed": "closed"}.get(self._state, self._state)

    def _error(self, what):
        code = self._proc.returncode
        if code is not None and code < 0:  # killed: ffmpeg could say nothing
            how = f"killed by {signal.Signals(-code).name}"
        else:
            how = f"exit code {code}"
        return EncodeError(f"{what} ({how}) while writing "
                           f"{self.path}\ncommand: {self.command}\n"
                           f"ffmpeg said:\n{self._log.tail()}")

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
            if self._proc.wait() != 0:
                raise self._error("ffmpeg failed")
            if self.audio is not None and self.frames_written != self.n_frames:
                self._cut_audio_at_last_frame()
            publish(self._tmp, self.path, self.overwrite)
        except BaseException:
            self.abort()
            raise
        self._state = "closed"
        self._remove_wav()

    def abort(self):
        """Kill ffmpeg and remove the temporary file; nothing is left at ``path``."""
        self._state = "closed"
        if self._proc is not None:
            _ffmpeg.kill(self._proc)
        for scratch in (self._tmp, self._wav):
            if scratch is not None and scratch.exists():
                scratch.unlink()

    def _remove_wav(self):
        if self._wav is not None and self._wav.exists():
            self._wav.unlink()

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
