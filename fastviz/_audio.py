"""Decode any audio file the bundled ffmpeg reads into mono float32 blocks.

ffmpeg is asked for 32-bit float WAV on a pipe: the RIFF header tells the sample rate
and channel count exactly, so no human-readable ffmpeg output is parsed, and the
samples stream in blocks, so memory stays flat however long the file is.
"""
import re
import struct
import subprocess

import numpy as np

from . import _ffmpeg
from ._errors import InputError, shown
from ._files import check_input

BLOCK_FRAMES = 1 << 17  # about 3 s at 44.1 kHz per read
# ffmpeg's resampler, which every decode goes through, takes at most this many channels
MAX_CHANNELS = 64
# A WAV header holds the rate in 32 bits; past a few MHz no recorder or player goes
MAX_RATE = 10_000_000


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
        # a pipe, /dev/stdin, <(...) is readable once, a device may never end
        self.path = check_input(path, "audio file", "; it reads the audio twice (the "
                                "analysis, then the video's sound), so save it to a "
                                "file first")
        inputs, chain = input_arguments(self.path, start, duration)
        self._proc, self._watchdog = self._decode(inputs, ["-af", chain])
        try:
            self.channels, self.rate, self.channel_mask = self._read_header()
            check_channel(channel, self.channels, self.path)
        except BaseException:
            self.close()
            raise
        self.channel, self.start = channel, start

    def _decode(self, inputs, filters):
        """Start ffmpeg decoding to 32-bit float WAV on a pipe, watched for stalls."""
        args = [*inputs, "-map", "0:a:0", *filters,
                "-map_metadata", "-1", "-flags", "+bitexact", "-fflags", "+bitexact",
                "-c:a", "pcm_f32le", "-f", "wav", "-loglevel", "error", "-"]
        proc, self._log, _ = _ffmpeg.start(args, stdout=subprocess.PIPE)
        return proc, _ffmpeg.Watchdog(proc)

    def _read(self, n_bytes):
        return self._watchdog.read(n_bytes)

    def _read_header(self, fail=True):
        riff = self._read(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:] != b"WAVE":
            return self._fail() if fail else None
        fmt = None
        while True:
            head = self._read(8)
            if len(head) < 8:
                return self._fail() if fail else None
            chunk, size = struct.unpack("<4sI", head)
            if chunk == b"data":
                break
            body = self._read(size + (size & 1))
            if chunk == b"fmt ":
                fmt = body
        if fmt is None:
            return self._fail() if fail else None
        tag, channels, rate = struct.unpack("<HHI", fmt[:8])
        mask = struct.unpack("<I", fmt[20:24])[0] if tag == 0xFFFE and len(fmt) >= 24 else 0
        return channels, rate, mask

    def _fail(self):
        self._proc.wait()
        self._watchdog.stop()
        said = self._log.tail()
        if self._watchdog.fired:
            raise InputError(f"decoding {self.path} made no progress for "
                             f"{self._watchdog.seconds} s, so it was stopped; is the "
                             "file on a disk that stopped answering?")
        if "not on whitelist" in said:
            raise InputError(f"{self.path} is not a plain media file: ffmpeg reads it as "
                             "a playlist, a concat script or an image sequence, which "
                             "open other files; fastviz decodes only plain files")
        if "matches no streams" in said:  # -map 0:a:0 found nothing
            raise InputError(f"{self.path} has no audio stream: fastviz needs a sound to "
                             "draw (a video without sound, a picture?)")
        channels = self._channels_undecoded()
        if channels is not None and channels > MAX_CHANNELS:
            raise InputError(f"{self.path} has {channels} audio channels; fastviz takes "
                             f"at most {MAX_CHANNELS} (ffmpeg's resampler's limit): mix "
                             "it down to fewer first")
        raise InputError(f"cannot decode audio from {self.path}: "
                         f"{_ffmpeg.first_words(self._log)}")

    def _channels_undecoded(self):
        """The file's channel count as ffmpeg describes its audio stream, or None (after a
        failure only: the chain's resampler is what refuses more than 64, before any WAV
        header is written, so the count is read from the stream's description, the one
        place fastviz reads ffmpeg's words for a number)."""
        proc, log, _ = _ffmpeg.start([*_ffmpeg.plain_input(self.path), "-loglevel", "info"])
        try:
            proc.wait(timeout=_ffmpeg.STALL_SECONDS)
        except subprocess.TimeoutExpired:
            return None
        finally:
            _ffmpeg.kill(proc)
        found = re.search(r"Stream #\S+.*?Audio: .*?(\d+) channels", log.tail())
        return None if found is None else int(found.group(1))

    def blocks(self, n_frames=BLOCK_FRAMES):
        """Yield mono float32 blocks of at most ``n_frames`` samples until the end."""
        frame_bytes = 4 * self.channels
        total = 0
        while True:
            data = self._read(n_frames * frame_bytes)
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
            if self.start:
                raise InputError(f"start {self.start} s is past the end of {self.path}")
            raise InputError(f"no audio samples in {self.path}")

    def close(self):
        self._watchdog.stop()
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
            *_ffmpeg.plain_input(path)], chain


def check_rate(rate):
    """Refuse a sample rate of audio samples that is not a whole number of Hz from 1 to
    ``MAX_RATE``; return it as an int."""
    if not (isinstance(rate, (int, float, np.number)) and 1 <= rate <= MAX_RATE
            and rate == int(rate)):
        raise InputError(f"audio rate must be a whole number of Hz from 1 to "
                         f"{MAX_RATE:,}, got {shown(rate)}")
    return int(rate)


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
