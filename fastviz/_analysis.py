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

Each envelope sample stands for the interval around its instant (36 ms): by default
(``sampling="interval"``) it is the band's Morlet amplitude averaged over that whole
interval, so a click or a drum hit lights its bands whatever its phase against the
instants; the post's ``sampling="instant"`` takes the amplitude at the instant alone,
and the high bands' wavelets, a few ms long, see nothing that falls between two. The
interval mean is the anti-aliasing the post's decimation lacked: for a sound that
changes slowly against 36 ms it equals the instant's amplitude, and it feeds the 5 Hz
low-pass the amplitude itself, not its samples. It is computed from one FFT of each
block: each band's spectrum (MNE's Gaussian wavelet, cut where its gain falls below
``e ** -(WIDTH_SIGMAS ** 2 / 2)``) is moved to zero frequency and inverted on as few
points as hold it, which gives the complex amplitude at a stride of about half the
wavelet's time spread (2 samples at 6000 Hz, 25 at 400 Hz), averaged over the interval
by the trapezoid rule.

The audio's offset (its mean over the first ``OFFSET_SECONDS``) is removed first: the
wavelets are zero-mean, so a constant offset means nothing inside the file, but the
step from the zeros before the file to the offset would flash every band at t = 0.

The envelopes hold exactly the instants inside the audio (sample k at ``k / rate`` for
every ``k / rate < duration``), never the zeros the resampler pads with: those would
add near-zero columns to the whole-file min-max scaling. Bands the source cannot hold
(near or above its Nyquist) are set to zero, so they stay dark rather than scaling
leakage up to full size.

Long files are analysed in blocks that overlap by more than the resampling filter and
the longest wavelet reach, so the result equals the whole-file analysis (tested). The
blocks are 10 s of audio: no slower than a minute's (a minute's FFTs fall out of the
caches), and short enough that a render checks its cancel and reports its progress
between two of them (``on_block``) at least every quarter of a second or so.

The min-max scaling is fitted on the columns the audio fully covers (``Envelopes.covered``:
their wavelets, intervals and low-pass taps all lie inside the audio) and applied to
all, so one sample more or less does not rescale the whole video.
"""
import math
from dataclasses import dataclass
from fractions import Fraction

import mne
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._audio import BLOCK_FRAMES, AudioStream, as_channels_first, check_channel
from ._errors import InputError, OptionError, shown
from ._options import SAMPLINGS

ANALYSIS_RATE = 22050
DECIM = 800
FREQS = np.logspace(np.log10(400), np.log10(6000), 10)
N_CYCLES = 7.0
LOWPASS_HZ = 5.0
SCALE_RANGE = (0.0, 1.6)
MAX_FACTOR = 2560  # bound on the resampling factors; 384 kHz (147 / 2560) stays exact
WIDTH_SIGMAS = 6.0  # a band's spectrum is kept to +- 6 of its sigmas: gain 1.5e-8 at the cut
OFFSET_SECONDS = 10.0  # the offset removed is the mean of this much audio from the start
# A band whose fitted range is under this fraction of its peak is steady (a test tone, a
# hum): its range counts as this much, so its rounding noise, a millionth of its level,
# stays near 0 instead of being blown up into full-size flicker. Music moves far more.
STEADY = 0.05
BLOCK_SECONDS = 10.0  # audio analysed per block


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
    covered : slice
        The columns the audio fully covers: their wavelets, intervals and low-pass
        taps lie inside the audio, so their values do not depend on where it ends.
        ``scaled`` fits the scaling on them. By default every column.
    channels, channel_mask : int
        The source file's channel count and speaker layout (``AudioStream``'s), read
        from the decode itself so a render probes its audio once; None and 0 for arrays.

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
    covered: slice = None
    channels: int = None
    channel_mask: int = 0

    def __post_init__(self):
        if self.dark is None:
            object.__setattr__(self, "dark", np.zeros(len(self.freqs), bool))
        if self.covered is None:
            object.__setattr__(self, "covered", slice(0, self.values.shape[1]))

    def scaled(self):
        """The values as the video shows them: each band min-max scaled to (0, 1.6)
        and clipped to 0..1, the scaling fitted on the ``covered`` columns; a steady
        band (its range under ``STEADY`` of its peak) stays near 0.

        Examples
        --------
        >>> env = Envelopes(np.array([[0.0, 1.0, 2.0]]), 1.0, np.array([400.0]), 3.0)
        >>> env.scaled()
        array([[0. , 0.8, 1. ]])
        """
        return scale_minmax(self.values, fit=self.covered, min_range=STEADY)


def audio_envelopes(audio, rate=None, *, channel=None, start=None, duration=None,
                    freqs=FREQS, n_cycles=N_CYCLES, lowpass=LOWPASS_HZ,
                    sampling="interval", block_seconds=BLOCK_SECONDS):
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
    sampling : ``"interval"`` or ``"instant"``
        What an envelope sample is: the band's amplitude averaged over the interval
        its instant stands for (default), or, as the post, the amplitude at the
        instant, which misses sounds shorter than the interval between instants.
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
    if sampling not in SAMPLINGS:
        raise OptionError(f"sampling must be one of {', '.join(SAMPLINGS)}, got "
                          f"{shown(sampling)}")
    freqs = np.asarray(freqs, dtype=float)
    if freqs.ndim != 1 or not len(freqs) or freqs.min() <= 0 or freqs.max() >= ANALYSIS_RATE / 2:
        raise OptionError(f"freqs must lie in (0, {ANALYSIS_RATE / 2}) Hz, got {freqs}")
    return envelopes_of(audio, rate, channel=channel, start=start, duration=duration,
                        freqs=freqs, n_cycles=n_cycles, lowpass=lowpass, sampling=sampling,
                        block_seconds=block_seconds)


def envelopes_of(audio, rate=None, *, channel=None, start=None, duration=None, freqs=FREQS,
                 n_cycles=N_CYCLES, lowpass=LOWPASS_HZ, sampling="interval",
                 block_seconds=BLOCK_SECONDS, on_block=None):
    """``audio_envelopes`` of arguments checked before (a render's ``Options``).

    ``on_block(seconds)``, if given, is called with the seconds of audio read so far
    as each block is read; it may raise (a cancel) to stop the analysis.
    """
    freqs = np.asarray(freqs, dtype=float)
    if isinstance(audio, (str, bytes)) or hasattr(audio, "__fspath__"):
        with AudioStream(audio, channel, start, duration) as stream:
            _check_some_band_held(stream.rate, freqs, n_cycles, stream.path)
            values, n, env_rate, reach = _envelopes(
                _watched(stream.blocks(), stream.rate, on_block), stream.rate, freqs,
                n_cycles, sampling, block_seconds)
        rate, source = stream.rate, (stream.channels, stream.channel_mask)
    else:
        samples = as_channels_first(audio)
        check_channel(channel, len(samples), "the audio")
        samples = samples[channel] if channel is not None else samples.mean(axis=0)
        if not rate or rate <= 0:
            raise InputError("rate (Hz) is required with an audio array")
        _check_some_band_held(rate, freqs, n_cycles, "the audio")
        # in the decoder's blocks, which give the same numbers as the whole (the
        # analysis cuts its own blocks), so on_block is called as for a file
        pieces = (samples[i:i + BLOCK_FRAMES] for i in range(0, len(samples), BLOCK_FRAMES))
        values, n, env_rate, reach = _envelopes(_watched(pieces, rate, on_block), rate,
                                                freqs, n_cycles, sampling, block_seconds)
        source = (None, 0)
    taps = 0
    if lowpass is not None:
        values = mne.filter.filter_data(values, env_rate, None, lowpass, verbose="error")
        taps = len(mne.filter.create_filter(values, env_rate, None, lowpass,
                                            verbose="error")) // 2
    # A Morlet band at f spreads over sigma_f = f / n_cycles. Once f + sigma_f passes the
    # Nyquist frequency, much of the band's own range is missing and what it measures is
    # the skirt of lower bands and the resampler's transition band at the Nyquist; the
    # whole-file min-max scaling would blow that leakage up to full size.
    nyquist = min(rate, env_rate * DECIM) / 2
    dark = freqs * (1 + 1 / np.asarray(n_cycles)) > nyquist
    values[dark] = 0
    # column k reads analysis samples k * DECIM +- reach, and columns k +- taps
    n_analysis = n / rate * env_rate * DECIM
    first = math.ceil(reach / DECIM) + taps
    stop = math.floor((n_analysis - 1 - reach) / DECIM) - taps + 1
    covered = slice(first, stop) if stop > first else None
    return Envelopes(values, env_rate, freqs, n / rate, dark, covered, *source)


def _watched(blocks, rate, on_block):
    """``blocks``, calling ``on_block(seconds read so far)`` after each."""
    if on_block is None:
        yield from blocks
        return
    n = 0
    for block in blocks:
        n += len(block)
        on_block(n / rate)
        yield block


def _check_some_band_held(rate, freqs, n_cycles, source):
    """Refuse a source sampled too slowly for any band: every dot would stay dark (and
    below about 3 Hz the 5 Hz low-pass itself cannot run)."""
    need = 2 * freqs.min() * (1 + 1 / np.asarray(n_cycles).min())
    if rate < need:
        raise InputError(f"{source} is sampled at {rate:g} Hz, too slowly for any band: "
                         f"the lowest, {freqs.min():.0f} Hz, needs at least {math.ceil(need)} Hz, "
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


def _envelopes(blocks, rate, freqs, n_cycles, sampling, block_seconds):
    """Each band's Morlet amplitude at (or around) every DECIM-th analysis sample inside
    the audio, its offset removed first.

    Returns (values, n_input, envelope rate in Hz, reach): reach is how many analysis
    samples around its instant a column reads (wavelet, interval and resampling filter).
    """
    up, down = _resampling_factors(rate)
    analysis_rate = rate * up / down
    wavelets = mne.time_frequency.morlet(analysis_rate, freqs, n_cycles, zero_mean=True)
    longest = max(len(w) for w in wavelets)
    half = DECIM // 2 if sampling == "interval" else 0
    reach = (longest - 1) // 2 + half + -(-10 * max(up, down) // down)
    bands = _bands(wavelets, freqs, n_cycles, analysis_rate) if half else None
    # Blocks start on input samples that land on the envelope grid after resampling;
    # the context covers the wavelet reach, the interval and the polyphase filter.
    quantum = down * DECIM // math.gcd(up, DECIM)
    context = _ceil_to(-(-(longest + half) * down // up) + 10 * max(up, down) // up + 64,
                       down)
    block = max(quantum, _ceil_to(int(block_seconds * rate), quantum))
    offset_span = int(OFFSET_SECONDS * rate)

    it = iter(blocks)
    buf, buf_start, ended = np.empty(0, np.float32), 0, False
    start, parts, offset = 0, [], None
    while True:
        pieces, have = [buf], buf_start + len(buf)
        while not ended and (have < start + block + context
                             or offset is None and have < offset_span):
            try:
                piece = next(it)
            except StopIteration:
                ended = True
            else:
                pieces.append(np.asarray(piece, np.float32))
                have += len(piece)
        buf = np.concatenate(pieces)
        if offset is None:  # the first block: buf starts at the file's start
            offset = float(np.mean(buf[:offset_span], dtype=np.float64)) if len(buf) else 0.0
        end = buf_start + len(buf)
        stop = min(start + block, end) if ended else start + block
        seg_start = max(0, start - context)
        seg = buf[seg_start - buf_start:min(end, stop + context) - buf_start]
        parts.append(_block(seg, offset, seg_start, start, stop, up, down, wavelets,
                            longest, bands))
        start = stop
        if ended and stop == end:
            return np.concatenate(parts, axis=1), end, analysis_rate / DECIM, reach
        drop = start - context - buf_start
        if drop > 0:
            buf, buf_start = buf[drop:], buf_start + drop


def _block(seg, offset, seg_start, start, stop, up, down, wavelets, longest, bands=None):
    """Envelope samples whose instants fall in input samples [start, stop), ``offset``
    taken off the samples: at the instants, or (``bands`` given) averaged over their
    intervals."""
    y = np.concatenate([seg.astype(np.float64) - offset,
                        np.zeros(-len(seg) % down)])  # padded only at the end
    if up != down:  # MNE's polyphase filter design fails on a 1:1 ratio
        y = mne.filter.resample(y, up, down, method="polyphase", verbose="error")
    y_start = seg_start * up // down
    # Instant k is at input sample k * DECIM * down / up; keep those before stop, not the
    # ones in the padding (start is on the grid, so its ceiling is exact).
    k0, k1 = (-(-i * up // (down * DECIM)) for i in (start, stop))
    if bands is not None:
        return _interval_means(y, y_start, k0, k1, bands, longest)
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


def _bands(wavelets, freqs, n_cycles, analysis_rate):
    """Per band (centre, time spread, peak gain, stride), in analysis samples.

    MNE's wavelet is a Gaussian of time spread sigma_t = n_cycles / (2 pi f) times
    exp(2 pi i f t); its spectrum is the Gaussian gain * exp(-2 pi^2 sigma_t^2 (nu - f)^2),
    gain the wavelet's absolute sum. The stride is the largest divisor of DECIM / 2 at
    which +- WIDTH_SIGMAS spectral sigmas (f / n_cycles each) fit below the stride's
    Nyquist frequency, so inverting the kept band on that grid aliases nothing.
    """
    half = DECIM // 2
    strides = [d for d in range(1, half + 1) if half % d == 0]
    out = []
    for f, w, cycles in zip(freqs, wavelets, np.broadcast_to(n_cycles, len(freqs))):
        widest = analysis_rate * cycles / (2 * WIDTH_SIGMAS * f)
        stride = max(d for d in strides if d <= max(1, widest))
        # in analysis samples: cycles a sample, spread in samples
        out.append((f / analysis_rate, cycles * analysis_rate / (2 * np.pi * f),
                    np.abs(w).sum(), stride))
    return out


def _interval_means(y, y_start, k0, k1, bands, longest):
    """Each band's amplitude averaged over analysis samples k * DECIM +- DECIM / 2,
    for k in [k0, k1): one FFT of the block, each band inverted on its own stride.

    ``y`` holds analysis samples from ``y_start`` on, zero outside (as MNE's convolution).
    """
    from scipy.fft import ifft, next_fast_len, rfft  # 0.4 s to import: when needed

    half = DECIM // 2
    out = np.empty((len(bands), k1 - k0))
    if k1 == k0:
        return out
    origin = min(y_start - y_start % half, k0 * DECIM - half)  # the buffer's sample 0
    first = k0 * DECIM - half - origin  # where the first interval starts in the buffer
    used = max(y_start - origin + len(y), first + (k1 - k0) * DECIM + 1)
    n = half * next_fast_len(-(-(used + longest) // half))  # the wrap meets only zeros
    buf = np.zeros(n)
    buf[y_start - origin:y_start - origin + len(y)] = y
    spectrum = rfft(buf)
    for i, (f, sigma, gain, stride) in enumerate(bands):
        per = DECIM // stride  # grid points an interval
        reach = WIDTH_SIGMAS / (2 * np.pi * sigma)  # in cycles a sample
        lo, hi = max(0, math.ceil((f - reach) * n)), min(len(spectrum), int((f + reach) * n) + 1)
        nu = np.arange(lo, hi) / n - f
        # Only the amplitude is wanted, so the kept bins may sit anywhere on the inverse's
        # n / stride points: a shift in frequency is a phase ramp in time.
        kept = np.zeros(n // stride, complex)
        kept[:hi - lo] = spectrum[lo:hi] * (gain * np.exp(-2 * (np.pi * sigma * nu) ** 2))
        # the amplitude at buffer samples first + j * stride (ifft divides by n / stride)
        grid = np.abs(ifft(kept)[first // stride:][:(k1 - k0) * per + 1]) / stride
        out[i] = (grid[:-1].reshape(-1, per).sum(1) + grid[1:].reshape(-1, per).sum(1)) / (2 * per)
    return out


def scale_minmax(values, feature_range=SCALE_RANGE, clip=1.0, *, fit=None, min_range=0.0):
    """Scale each row to ``feature_range`` over its whole length, then clip, as the post.

    The post's ``MinMaxScaler(feature_range=(0, 1.6))`` of scikit-learn, clipped at 1,
    written out so that NaN (a hidden dot) needs no warning: NaN is left out of each
    row's minimum and maximum and stays NaN; a row of NaN only stays NaN.

    Parameters
    ----------
    values : array_like, shape (n_series, n_times)
    feature_range : (float, float)
        Where each row's minimum and maximum go.
    clip : float or None
        Upper clip applied after scaling.
    fit : slice or array of bool, optional
        The columns whose minimum and maximum are used (all by default); the others
        are scaled alike and clipped below at ``feature_range[0]``.
    min_range : float
        A row's range counts as at least this fraction of its largest absolute value,
        so a nearly constant row is not blown up to the full range.

    Returns
    -------
    ndarray, shape (n_series, n_times)

    Examples
    --------
    >>> scale_minmax([[0.0, 1.0, 2.0]])
    array([[0. , 0.8, 1. ]])
    >>> scale_minmax([[5.0, 0.0, 1.0, 2.0]], fit=slice(1, None))
    array([[1. , 0. , 0.8, 1. ]])
    """
    values = np.asarray(values, float)
    fitted = values if fit is None else values[:, fit]
    if not fitted.shape[1]:
        fitted = values
    low, high = np.fmin.reduce(fitted, axis=1), np.fmax.reduce(fitted, axis=1)  # NaN-blind
    span = np.fmax(high - low, min_range * np.fmax(np.abs(low), np.abs(high)))
    span = np.where(span > 10 * np.finfo(float).eps, span, 1.0)  # constant: as scikit-learn
    bottom, top = feature_range
    scaled = (values - low[:, None]) * ((top - bottom) / span)[:, None] + bottom
    return np.clip(scaled, bottom, clip)


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
