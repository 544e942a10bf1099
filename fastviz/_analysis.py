"""Audio to per-band amplitude envelopes, as in the post, in blocks of flat memory.

The chain is the post's: resample, Morlet amplitude at 10 log-spaced frequencies from
400 to 6000 Hz, decimate, low-pass at 5 Hz, min-max scale each series to (0, 1.6) and
clip at 1. Two things differ, on purpose:

- The post analysed at 11025 Hz, whose Nyquist (5512.5 Hz) is below its top band;
  current MNE refuses that. We analyse at 22050 Hz and decimate by 800, which gives the
  post's envelope rate exactly (11025 / 400 = 22050 / 800 = 27.5625 Hz). Rates whose
  exact ratio to 22050 Hz needs factors above 2560 (most non-integer rates, 44056 Hz,
  192001 Hz) are resampled by the nearest ratio within that bound instead: the analysis
  rate is then off 22050 Hz by at most 1 / 2560 (0.04 %), and the wavelets and
  ``Envelopes.rate`` use the rate really obtained, so bands and timing stay exact.
- Resampling is MNE's polyphase method (0.05 s for 180 s of audio, against 2.6 s for
  its default FFT method), and the Morlet amplitude is computed only at the decimated
  instants, as a strided dot product with MNE's own wavelets. That is the same number
  ``mne.time_frequency.tfr_array_morlet(..., decim=800)`` returns (tested), without
  transforming the 21 999 samples in every 22 000 that decimation throws away.

The envelopes hold exactly the instants inside the audio (sample k at ``k / rate`` for
every ``k / rate < duration``), never the zeros the resampler pads with: those would
add near-zero columns to the whole-file min-max scaling. Bands the source cannot hold
(near or above its Nyquist) are set to zero, so they stay dark rather than scaling
leakage up to full size.

Long files are analysed in blocks that overlap by more than the resampling filter and
the longest wavelet reach, so the result equals the whole-file analysis (tested).
"""
import math
from dataclasses import dataclass
from fractions import Fraction

import mne
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._audio import AudioStream, as_channels_first, check_channel
from ._errors import InputError

ANALYSIS_RATE = 22050
DECIM = 800
FREQS = np.logspace(np.log10(400), np.log10(6000), 10)
N_CYCLES = 7.0
LOWPASS_HZ = 5.0
SCALE_RANGE = (0.0, 1.6)
MAX_FACTOR = 2560  # bound on the resampling factors; 384 kHz (147 / 2560) stays exact


@dataclass(frozen=True)
class Envelopes:
    """Low-passed Morlet amplitude of an audio signal, one row per frequency band.

    Attributes
    ----------
    values : ndarray, shape (n_freqs, n_times)
        Amplitude envelopes; row i is the band centred on ``freqs[i]``.
    rate : float
        Sampling rate of the envelopes in Hz; sample k is at time ``k / rate``.
    freqs : ndarray, shape (n_freqs,)
        Band centre frequencies in Hz, low to high.
    duration : float
        Length of the analysed audio in seconds.
    dark : ndarray of bool, shape (n_freqs,)
        True for the bands the source cannot hold: those whose centre plus one Morlet
        spread, ``f * (1 + 1 / n_cycles)``, lies above its Nyquist frequency. Their
        rows are zero. By default no band is dark.

    Examples
    --------
    >>> env = audio_envelopes(np.zeros(44100), 44100)
    >>> env.values.shape, env.rate, env.duration
    ((10, 28), 27.5625, 1.0)
    >>> audio_envelopes(np.zeros(8000), 8000).dark.nonzero()[0]
    array([8, 9])
    """

    values: np.ndarray
    rate: float
    freqs: np.ndarray
    duration: float
    dark: np.ndarray = None

    def __post_init__(self):
        if self.dark is None:
            object.__setattr__(self, "dark", np.zeros(len(self.freqs), bool))


def audio_envelopes(audio, rate=None, *, channel=None, start=None, duration=None,
                    freqs=FREQS, n_cycles=N_CYCLES, lowpass=LOWPASS_HZ,
                    block_seconds=60.0):
    """Amplitude envelopes of an audio file or array in ``len(freqs)`` bands.

    Parameters
    ----------
    audio : str, Path or array_like
        An audio file (anything ffmpeg decodes), or samples of shape (n,),
        (n_channels, n) or (n, n_channels); integers are read as full scale.
    rate : float, optional
        Sample rate in Hz; required when ``audio`` is an array.
    channel : int, optional
        Analyse only this channel; by default channels are averaged to mono.
    start, duration : float, optional
        Seconds to skip, and seconds to keep (files only).
    freqs : array_like
        Morlet centre frequencies in Hz, each below 11025 Hz.
    n_cycles : float
        Cycles per Morlet wavelet, as in MNE.
    lowpass : float or None
        Low-pass cut-off in Hz applied to the envelopes; None skips it.
    block_seconds : float
        Audio analysed per block; memory grows with this, not with the file length.

    Returns
    -------
    Envelopes
        One column per envelope instant inside the audio. Bands whose centre plus one
        frequency spread (``f * (1 + 1 / n_cycles)``) lies above the Nyquist frequency
        of the source (or of the analysis) are zero and marked in ``dark``.

    Examples
    --------
    >>> t = np.arange(22050) / 22050
    >>> env = audio_envelopes(np.sin(2 * np.pi * 1000 * t), 22050)
    >>> env.values.shape
    (10, 28)
    """
    freqs = np.asarray(freqs, dtype=float)
    if freqs.ndim != 1 or not len(freqs) or freqs.min() <= 0 or freqs.max() >= ANALYSIS_RATE / 2:
        raise ValueError(f"freqs must lie in (0, {ANALYSIS_RATE / 2}) Hz, got {freqs}")
    if isinstance(audio, (str, bytes)) or hasattr(audio, "__fspath__"):
        with AudioStream(audio, channel, start, duration) as stream:
            _check_some_band_held(stream.rate, freqs, n_cycles, stream.path)
            values, n, env_rate = _envelopes(stream.blocks(), stream.rate, freqs, n_cycles,
                                             block_seconds)
        rate = stream.rate
    else:
        samples = as_channels_first(audio)
        check_channel(channel, len(samples), "the audio")
        samples = samples[channel] if channel is not None else samples.mean(axis=0)
        if not rate or rate <= 0:
            raise InputError("rate (Hz) is required with an audio array")
        _check_some_band_held(rate, freqs, n_cycles, "the audio")
        values, n, env_rate = _envelopes([samples], rate, freqs, n_cycles, block_seconds)
    if lowpass is not None:
        values = mne.filter.filter_data(values, env_rate, None, lowpass, verbose="error")
    # A Morlet band at f spreads over sigma_f = f / n_cycles. Once f + sigma_f passes the
    # Nyquist frequency, much of the band's own range is missing and what it measures is
    # the skirt of lower bands and the resampler's transition band at the Nyquist; the
    # whole-file min-max scaling would blow that leakage up to full size.
    nyquist = min(rate, env_rate * DECIM) / 2
    dark = freqs * (1 + 1 / np.asarray(n_cycles)) > nyquist
    values[dark] = 0
    return Envelopes(values, env_rate, freqs, n / rate, dark)


def _check_some_band_held(rate, freqs, n_cycles, source):
    """Refuse a source sampled too slowly for any band: every dot would stay dark (and
    below about 3 Hz the 5 Hz low-pass itself cannot run)."""
    need = 2 * freqs.min() * (1 + 1 / np.asarray(n_cycles).min())
    if rate < need:
        raise InputError(f"{source} is sampled at {rate:g} Hz, too slowly for any band: "
                         f"the lowest, {freqs.min():.0f} Hz, needs at least {need:.0f} Hz, "
                         "so every dot would stay dark")


def _resampling_factors(rate):
    """(up, down), each at most MAX_FACTOR, with rate * up / down nearest ANALYSIS_RATE.

    Bounding the factors bounds the polyphase filter (20 * max(up, down) taps) and the
    block quantum; a float rate's exact ratio would need factors in the millions. The
    best approximation with both terms at most MAX_FACTOR is off by at most
    1 / MAX_FACTOR relative to ANALYSIS_RATE.
    """
    ratio = Fraction(ANALYSIS_RATE) / Fraction(float(rate))
    ratio = min(max(ratio, Fraction(1, MAX_FACTOR)), Fraction(MAX_FACTOR))
    if ratio < 1:
        ratio = ratio.limit_denominator(MAX_FACTOR)
    else:  # bound the numerator: approximate the inverse
        ratio = 1 / (1 / ratio).limit_denominator(MAX_FACTOR)
    return ratio.numerator, ratio.denominator


def _ceil_to(n, step):
    return -(-n // step) * step


def _envelopes(blocks, rate, freqs, n_cycles, block_seconds):
    """Morlet amplitude at every DECIM-th analysis sample inside the audio.

    Returns (values, n_input, envelope rate in Hz).
    """
    up, down = _resampling_factors(rate)
    analysis_rate = rate * up / down
    wavelets = mne.time_frequency.morlet(analysis_rate, freqs, n_cycles, zero_mean=True)
    longest = max(len(w) for w in wavelets)
    # Blocks start on input samples that land on the envelope grid after resampling;
    # the context covers the wavelet reach plus the polyphase filter (10 * max taps).
    quantum = down * DECIM // math.gcd(up, DECIM)
    context = _ceil_to(-(-longest * down // up) + 10 * max(up, down) // up + 64, down)
    block = max(quantum, _ceil_to(int(block_seconds * rate), quantum))

    it = iter(blocks)
    buf, buf_start, ended = np.empty(0, np.float32), 0, False
    start, parts = 0, []
    while True:
        pieces, have = [buf], buf_start + len(buf)
        while not ended and have < start + block + context:
            try:
                piece = next(it)
            except StopIteration:
                ended = True
            else:
                pieces.append(np.asarray(piece, np.float32))
                have += len(piece)
        buf = np.concatenate(pieces)
        end = buf_start + len(buf)
        stop = min(start + block, end) if ended else start + block
        seg_start = max(0, start - context)
        seg = buf[seg_start - buf_start:min(end, stop + context) - buf_start]
        parts.append(_block(seg, seg_start, start, stop, up, down, wavelets, longest))
        start = stop
        if ended and stop == end:
            return np.concatenate(parts, axis=1), end, analysis_rate / DECIM
        drop = start - context - buf_start
        if drop > 0:
            buf, buf_start = buf[drop:], buf_start + drop


def _block(seg, seg_start, start, stop, up, down, wavelets, longest):
    """Envelope samples whose instants fall in input samples [start, stop)."""
    seg = np.concatenate([seg, np.zeros(-len(seg) % down, seg.dtype)])  # only at the end
    y = seg.astype(np.float64)
    if up != down:  # MNE's polyphase filter design fails on a 1:1 ratio
        y = mne.filter.resample(y, up, down, method="polyphase", verbose="error")
    y_start = seg_start * up // down
    # Instant k is at input sample k * DECIM * down / up; keep those before stop, not the
    # ones in the padding (start is on the grid, so its ceiling is exact).
    k0, k1 = (-(-i * up // (down * DECIM)) for i in (start, stop))
    padded = np.zeros(len(y) + 2 * longest)
    padded[longest:longest + len(y)] = y  # MNE's convolution is zero outside the signal
    out = np.empty((len(wavelets), k1 - k0))
    for i, w in enumerate(wavelets):
        # MNE convolves in 'same' mode: out[g] = sum_j y[g + (L-1)//2 - j] * w[j]
        first = k0 * DECIM + (len(w) - 1) // 2 - (len(w) - 1) - y_start + longest
        windows = sliding_window_view(padded, len(w))[first::DECIM][:k1 - k0]
        re_im = windows @ np.stack([w.real[::-1], w.imag[::-1]], axis=1)
        out[i] = np.hypot(re_im[:, 0], re_im[:, 1])
    return out


def scale_minmax(values, feature_range=SCALE_RANGE, clip=1.0):
    """Scale each row to ``feature_range`` over its whole length, then clip, as the post.

    Parameters
    ----------
    values : array_like, shape (n_series, n_times)
    feature_range : (float, float)
        Passed to scikit-learn's ``MinMaxScaler``.
    clip : float or None
        Upper clip applied after scaling.

    Returns
    -------
    ndarray, shape (n_series, n_times)

    Examples
    --------
    >>> scale_minmax([[0.0, 1.0, 2.0]])
    array([[0. , 0.8, 1. ]])
    """
    from sklearn.preprocessing import MinMaxScaler

    scaled = MinMaxScaler(feature_range=feature_range).fit_transform(np.asarray(values, float).T).T
    return scaled if clip is None else np.minimum(scaled, clip)


def electrode_bands(ys, n_bands):
    """Band of each electrode from its y position: low bands at the bottom of the picture.

    The electrodes' y range is cut into ``n_bands`` equal bins (y grows downward, as in
    the CSV), the lowest electrode getting band 0; the topmost gets the last band, so
    every band is reachable (the post's ``np.digitize`` left the last band near empty).

    Parameters
    ----------
    ys : array_like, shape (n_electrodes,)
        Vertical pixel positions, downward.
    n_bands : int

    Returns
    -------
    ndarray of int, shape (n_electrodes,)

    Examples
    --------
    >>> electrode_bands([0, 50, 100], 2)
    array([1, 1, 0])
    """
    ys = np.asarray(ys, dtype=float)
    span = ys.max() - ys.min()
    if span == 0:
        return np.zeros(len(ys), int)
    return np.minimum(((ys.max() - ys) / span * n_bands).astype(int), n_bands - 1)
