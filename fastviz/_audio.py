"""Decode any audio file the bundled ffmpeg reads into mono float32 blocks.

ffmpeg is asked for 32-bit float WAV on a pipe: the RIFF header tells the sample rate
and channel count exactly, so no human-readable ffmpeg output is parsed, and the
samples stream in blocks, so memory stays flat however long the file is.
"""
import struct
import subprocess
from pathlib import Path

import numpy as np

from . import _ffmpeg
from ._errors import InputError

BLOCK_FRAMES = 1 << 17  # about 3 s at 44.1 kHz per read


class AudioStream:
    """Decoded audio of one file, read block by block; use as a context manager.

    Parameters
    ----------
    path : str or Path
        Any file with an audio stream that ffmpeg decodes (WAV, FLAC, OGG, MP3, ...).
    channel : int, optional
        Keep only this channel (0-based). By default all channels are averaged to mono.
    start, duration : float, optional
        Seconds to skip at the start, and seconds to keep.

    Attributes
    ----------
    rate : int
        Sample rate of the decoded audio in Hz.
    channels : int
        Number of channels in the file.
    channel_mask : int
        The file's speaker layout as a WAVE channel mask; 0 when the file does not
        say (a WAV without a mask), since ffmpeg is told not to guess one.
    """

    def __init__(self, path, channel=None, start=None, duration=None):
        self.path = Path(path)
        if not self.path.is_file():
            if self.path.is_dir():
                raise InputError(f"audio file is a folder: {self.path}")
            if self.path.exists():  # a pipe, /dev/stdin, <(...): readable only once
                raise InputError(f"audio {self.path} is a pipe, not a file: fastviz "
                                 "reads the audio twice (analysis, then the video's "
                                 "sound), so save it to a file first")
            raise InputError(f"audio file not found: {self.path}")
        inputs, chain = input_arguments(self.path, start, duration)
        args = [*inputs, "-map", "0:a:0", "-af", chain,
                "-map_metadata", "-1", "-flags", "+bitexact", "-fflags", "+bitexact",
                "-c:a", "pcm_f32le", "-f", "wav", "-loglevel", "error", "-"]
        self._proc, self._log, _ = _ffmpeg.start(args, stdout=subprocess.PIPE)
        try:
            self.channels, self.rate, self.channel_mask = self._read_header()
            check_channel(channel, self.channels, self.path)
        except BaseException:
            self.close()
            raise
        self.channel = channel

    def _read_header(self):
        riff = self._proc.stdout.read(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:] != b"WAVE":
            self._fail()
        fmt = None
        while True:
            head = self._proc.stdout.read(8)
            if len(head) < 8:
                self._fail()
            chunk, size = struct.unpack("<4sI", head)
            if chunk == b"data":
                break
            body = self._proc.stdout.read(size + (size & 1))
            if chunk == b"fmt ":
                fmt = body
        if fmt is None:
            self._fail()
        tag, channels, rate = struct.unpack("<HHI", fmt[:8])
        mask = struct.unpack("<I", fmt[20:24])[0] if tag == 0xFFFE and len(fmt) >= 24 else 0
        return channels, rate, mask

    def _fail(self):
        self._proc.wait()
        raise InputError(f"cannot decode audio from {self.path}:\n{self._log.tail()}")

    def blocks(self, n_frames=BLOCK_FRAMES):
        """Yield mono float32 blocks of at most ``n_frames`` samples until the end."""
        frame_bytes = 4 * self.channels
        total = 0
        while True:
            data = self._proc.stdout.read(n_frames * frame_bytes)
            usable = len(data) - len(data) % frame_bytes
            if usable:
                block = np.frombuffer(data[:usable], "<f4").reshape(-1, self.channels)
                if self.channel is not None:
                    block = block[:, self.channel].copy()
                elif self.channels == 1:
                    block = block[:, 0].copy()
                else:
                    block = block.mean(axis=1, dtype=np.float32)
                if not np.isfinite(block).all():
                    raise InputError(f"{self.path} has NaN or infinite samples")
                total += len(block)
                yield block
            if len(data) < n_frames * frame_bytes:
                break
        if self._proc.wait() != 0:
            self._fail()
        if total == 0:
            raise InputError(f"no audio samples in {self.path} (is --start past its end?)")

    def close(self):
        _ffmpeg.kill(self._proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def input_arguments(path, start=None, duration=None):
    """ffmpeg input arguments and audio filter chain: ``path``'s audio from ``start`` s.

    Shared by the analysis and the muxer, so both hear the same samples. Time 0 is the
    file's start, not its audio stream's: a camera file whose audio begins 0.5 s after
    its picture gets 0.5 s of silence first (``aresample`` pads up to the first
    timestamp), so the dots and the sound stay together. The input seek is fast; the
    ``atrim`` after it makes it exact and yields nothing when ``start`` is past the end
    (Ogg's seek would otherwise land on the last page). No layout is guessed for
    channels a file does not label (see ``AudioStream.channel_mask``).

    Examples
    --------
    >>> input_arguments("a.wav", start=2)[1]
    'atrim=start=2.000000,asetpts=PTS-2.000000/TB,aresample=async=1:first_pts=0'
    """
    start = float(start or 0)
    chain = f"atrim=start={start:.6f},asetpts=PTS-{start:.6f}/TB,aresample=async=1:first_pts=0"
    if duration is not None:
        chain += f",atrim=end={float(duration):.6f}"
    seek = ["-ss", f"{start:.6f}"] if start else []
    return [*seek, "-copyts", "-start_at_zero", "-guess_layout_max", "0",
            "-i", _ffmpeg.file_arg(path)], chain


def check_channel(channel, n_channels, source):
    """Refuse a channel index that ``source`` (a file, or "the audio") does not have."""
    if channel is not None and not 0 <= channel < n_channels:
        raise InputError(f"{source} has {n_channels} channel(s); channel {channel} "
                         "does not exist (channels count from 0)")


def as_channels_first(samples):
    """Audio samples as float32 (n_channels, n) in -1..1, checked.

    Accepts (n,), (n_channels, n) or (n, n_channels), the layout scipy and soundfile
    return (the longer axis is taken as time). Integers are scaled from full scale;
    unsigned ones (8-bit WAV) are centred on their middle, 128 for uint8.

    Examples
    --------
    >>> as_channels_first(np.array([[0, 16384], [-32768, 0], [0, 0]], np.int16)).shape
    (2, 3)
    >>> as_channels_first(np.array([128, 255, 0], np.uint8))
    array([[ 0.       ,  0.9921875, -1.       ]], dtype=float32)
    """
    samples = np.asarray(samples)
    if np.issubdtype(samples.dtype, np.integer):  # full scale is 2 ** (bits - 1)
        info = np.iinfo(samples.dtype)
        half = (int(info.max) + 1) // 2 if info.min == 0 else -int(info.min)
        middle = half if info.min == 0 else 0  # unsigned (8-bit WAV) is centred on 128
        samples = (samples.astype(np.float64) - middle) / half
    samples = np.atleast_2d(np.asarray(samples, np.float32))
    if samples.ndim != 2 or not samples.size:
        raise InputError(f"audio samples must be (n,), (n_channels, n) or (n, n_channels), "
                         f"got shape {samples.shape}")
    if samples.shape[0] > samples.shape[1]:
        samples = samples.T
    if not np.isfinite(samples).all():
        raise InputError("audio samples contain NaN or infinity")
    return np.ascontiguousarray(samples)


def load_audio(path, channel=None, start=None, duration=None):
    """Decode a whole audio file to mono float32.

    Parameters
    ----------
    path : str or Path
        Any audio file ffmpeg decodes.
    channel : int, optional
        Keep only this channel (0-based); by default the channels are averaged.
    start, duration : float, optional
        Seconds to skip, and seconds to keep.

    Returns
    -------
    samples : ndarray of float32, shape (n_samples,)
    rate : int
        Sample rate in Hz.

    Examples
    --------
    ::

        samples, rate = load_audio("song.flac", channel=0)
    """
    with AudioStream(path, channel, start, duration) as stream:
        return np.concatenate(list(stream.blocks())), stream.rate
