"""One ffmpeg process: raw frames on stdin, optional audio muxed in, H.264 + AAC MP4.

The file is written under a hidden temporary name beside the target and renamed onto it
only after ffmpeg exits cleanly, so a failure or Ctrl-C never leaves a half-written video
where the output should be.
"""
import os
import shlex
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import _ffmpeg
from ._audio import AudioStream, as_channels_first
from ._errors import EncodeError, InputError, OutputError

_UMASK = os.umask(0o022)  # read once, at import: os.umask can only be read by setting it
os.umask(_UMASK)
MAX_AAC_CHANNELS = 8


def as_fraction(fps):
    """Frame rate as an exact fraction: 30, 29.97, "30000/1001" or a Fraction."""
    try:
        rate = Fraction(str(fps)) if not isinstance(fps, Fraction) else fps
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"frame rate must be a positive number or a/b, got {fps!r}") from None
    if rate <= 0:
        raise ValueError(f"frame rate must be positive, got {fps!r}")
    return rate


def check_output(path, overwrite=False):
    """Refuse an existing output unless ``overwrite``; return the path."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"output {path} is a directory")
    if path.exists() and not overwrite:
        raise OutputError(f"output {path} exists; pass overwrite=True (-y) to replace it")
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: folder {folder} is missing or not writable")
    return path


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

    Examples
    --------
    ::

        frames = np.zeros((30, 64, 64, 3), np.uint8)
        with VideoWriter("out.mp4", (64, 64), 30, audio="song.wav") as video:
            video.write(frames)
    """

    def __init__(self, path, size, fps, *, audio=None, audio_start=None,
                 audio_duration=None, preset="veryfast", crf=20, pixel_format="rgb24",
                 overwrite=False):
        self.path = check_output(path, overwrite)
        self.width, self.height = (int(s) for s in size)
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"frame size must be positive, got {size}")
        if pixel_format == "rgb24":
            self.frame_shape = (self.height, self.width, 3)
        elif pixel_format == "nv12" and not (self.width % 2 or self.height % 2):
            self.frame_shape = (self.height * 3 // 2, self.width)
        else:
            raise ValueError(f"pixel_format must be 'rgb24', or 'nv12' with an even size; "
                             f"got {pixel_format!r} at {self.width}x{self.height}")
        self.pixel_format = pixel_format
        self.fps = as_fraction(fps)
        self.audio_channels = None
        if isinstance(audio, tuple):
            samples, rate = audio
            if not rate or rate <= 0:
                raise InputError(f"audio rate must be positive, got {rate}")
            samples = as_channels_first(samples)
            audio, self.audio_channels = (samples, int(rate)), len(samples)
        elif audio is not None:
            with AudioStream(audio) as stream:  # fails now, not after the render
                self.audio_channels = stream.channels
        self.audio, self.audio_start, self.audio_duration = audio, audio_start, audio_duration
        self.preset, self.crf = str(preset), str(crf)
        self.frames_written = 0
        self._proc = None
        self._tmp = None
        self._wav = None

    def _arguments(self, audio):
        video_in = ["-f", "rawvideo", "-pix_fmt", self.pixel_format,
                    "-s", f"{self.width}x{self.height}",
                    "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-"]
        audio_in, maps = [], ["-map", "0:v:0"]
        if audio is not None:
            if self.audio_start:
                audio_in += ["-ss", f"{float(self.audio_start):.6f}"]
            if self.audio_duration is not None:
                audio_in += ["-t", f"{float(self.audio_duration):.6f}"]
            audio_in += ["-i", str(audio)]
            maps += ["-map", "1:a:0", "-c:a", "aac", "-b:a", "192k"]
            if self.audio_channels > MAX_AAC_CHANNELS:  # AAC stops at 7.1: average them
                n = self.audio_channels
                mean = "+".join(f"{1 / n:.6f}*c{i}" for i in range(n))
                maps += ["-af", f"pan=stereo|c0={mean}|c1={mean}"]
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
        return [*video_in, *audio_in, *maps, "-vf", video, "-c:v", "libx264",
                "-preset", self.preset, "-crf", self.crf, *pix_fmt,
                "-movflags", "+faststart", "-loglevel", "error", "-f", "mp4", "-y",
                str(self._tmp)]

    def open(self):
        """Create the temporary file and start ffmpeg."""
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part",
                                       dir=self.path.parent)
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror}") from None
        os.close(fd)
        self._tmp = Path(tmp)
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
        frames = np.asarray(frames)
        if frames.ndim == len(self.frame_shape):
            frames = frames[None]
        if frames.shape[1:] != self.frame_shape or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 of shape (n, "
                             f"{', '.join(map(str, self.frame_shape))}), "
                             f"got {frames.dtype} {frames.shape}")
        try:
            self._proc.stdin.write(memoryview(np.ascontiguousarray(frames)).cast("B"))
        except (BrokenPipeError, OSError, ValueError):
            self._proc.wait()
            raise self._error("ffmpeg stopped reading frames") from None
        self.frames_written += len(frames)

    def _error(self, what):
        return EncodeError(f"{what} (exit code {self._proc.returncode}) while writing "
                           f"{self.path}\ncommand: {self.command}\n"
                           f"ffmpeg said:\n{self._log.tail()}")

    def close(self):
        """Finish the video, check ffmpeg's exit code and move the file into place."""
        try:
            if self.frames_written == 0:
                raise EncodeError(f"no frames were written to {self.path}")
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass
            if self._proc.wait() != 0:
                raise self._error("ffmpeg failed")
            os.chmod(self._tmp, 0o666 & ~_UMASK)  # mkstemp made it private
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._remove_wav()

    def abort(self):
        """Kill ffmpeg and remove the temporary file."""
        if self._proc is not None:
            _ffmpeg.kill(self._proc)
        if self._tmp is not None and self._tmp.exists():
            self._tmp.unlink()
        self._remove_wav()

    def _remove_wav(self):
        if self._wav is not None and self._wav.exists():
            self._wav.unlink()

    def __enter__(self):
        return self.open()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
