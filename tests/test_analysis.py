"""The analysis against a direct MNE computation, in blocks and whole."""
import mne
import numpy as np
import pytest
from helpers import write_wav
from sklearn.preprocessing import MinMaxScaler

from fastviz import audio_envelopes, electrode_bands, scale_minmax
from fastviz._analysis import ANALYSIS_RATE, DECIM, FREQS, N_CYCLES


def resampled(samples, rate):
    """The samples, their mean taken off, at the analysis rate; and the count of
    instants k * DECIM / 22050 inside the audio."""
    from math import gcd

    g = gcd(ANALYSIS_RATE, rate)
    up, down = ANALYSIS_RATE // g, rate // g
    samples = samples.astype(float) - samples.mean(dtype=float)
    padded = np.concatenate([samples, np.zeros(-len(samples) % down)])
    y = padded if up == down else mne.filter.resample(padded, up, down, method="polyphase",
                                                      verbose="error")
    return y, -(-len(samples) * up // (down * DECIM))


def low_passed(env, rate):
    """The post's 5 Hz low-pass; bands whose f + f / N_CYCLES passes the source's
    Nyquist are zero."""
    env = mne.filter.filter_data(env, ANALYSIS_RATE / DECIM, None, 5.0, verbose="error")
    env[FREQS * (1 + 1 / N_CYCLES) > rate / 2] = 0
    return env


def direct_mne(samples, rate):
    """The post's chain written straight with MNE, at the analysis rate, on the instants
    inside the audio (``sampling="instant"``)."""
    y, inside = resampled(samples, rate)
    tfr = mne.time_frequency.tfr_array_morlet(y[None, None], ANALYSIS_RATE, FREQS, N_CYCLES,
                                              decim=DECIM, verbose="error")
    return low_passed(np.abs(tfr[0, 0, :, :inside]), rate)


def direct_interval(samples, rate):
    """``sampling="interval"`` the slow, obvious way: MNE's Morlet amplitude at every
    analysis sample (zero outside the audio), averaged over each instant's interval,
    k * DECIM +- DECIM / 2, by the trapezoid rule."""
    y, inside = resampled(samples, rate)
    half = DECIM // 2
    padded = np.concatenate([np.zeros(half), y, np.zeros(DECIM * inside + half - len(y))])
    env = np.empty((len(FREQS), inside))
    for i, w in enumerate(mne.time_frequency.morlet(ANALYSIS_RATE, FREQS, N_CYCLES,
                                                    zero_mean=True)):
        c = (len(w) - 1) // 2
        amplitude = np.abs(np.convolve(padded, w)[c:c + len(padded)])
        for k in range(inside):
            interval = amplitude[k * DECIM:k * DECIM + DECIM + 1]
            env[i, k] = (interval[:-1].mean() + interval[1:].mean()) / 2
    return low_passed(env, rate)


@pytest.mark.parametrize("extra", [0, 7])  # 7: a length the resampler pads
@pytest.mark.parametrize("rate", [44100, 48000, 22050, 16000, 8000])
def test_matches_direct_mne(tmp_path, rate, extra):
    rng = np.random.default_rng(rate)
    samples = rng.standard_normal((2, int(4.3 * rate) + extra)).astype(np.float32) * 0.2
    path = write_wav(tmp_path / "noise.wav", samples, rate)
    env = audio_envelopes(path, sampling="instant")
    ref = direct_mne(samples.mean(axis=0), rate)
    assert env.values.shape == ref.shape
    np.testing.assert_allclose(env.values, ref, rtol=0, atol=1e-9 * np.abs(ref).max())
    assert env.rate == pytest.approx(11025 / 400)
    assert env.duration == pytest.approx(samples.shape[1] / rate)


@pytest.mark.parametrize("rate", [44100, 22050, 8000])
def test_interval_means_match_the_direct_computation(rate):
    """The default sampling against the full-rate convolution: within 1% of each band's
    peak. The FFT route samples the amplitude at a stride of about half the wavelet's
    time spread; noise's amplitude has cusps (where its complex value passes near 0)
    that such a grid averages to within a few tenths of a percent (0.4% measured)."""
    rng = np.random.default_rng(rate)
    samples = (rng.standard_normal(int(2.3 * rate)) * 0.2 + 0.05).astype(np.float32)
    env = audio_envelopes(samples, rate)
    ref = direct_interval(samples, rate)
    assert env.values.shape == ref.shape
    peak = np.abs(ref).max(axis=1, keepdims=True)
    assert (np.abs(env.values - ref) <= 0.01 * np.maximum(peak, 1e-12)).all()


@pytest.mark.parametrize("sampling", ["interval", "instant"])
def test_blocks_equal_whole_file(sampling):
    rng = np.random.default_rng(1)
    samples = (rng.standard_normal(48000 * 150) + 0.05).astype(np.float32)
    whole = audio_envelopes(samples, 48000, block_seconds=1e6, sampling=sampling)
    for block in (5.4, 60):
        blocks = audio_envelopes(samples, 48000, block_seconds=block, sampling=sampling)
        np.testing.assert_allclose(blocks.values, whole.values, rtol=0,
                                   atol=1e-9 * np.abs(whole.values).max())


def test_channel_choice(tmp_path):
    left, right = np.zeros(44100, np.float32), np.random.default_rng(2).standard_normal(44100)
    path = write_wav(tmp_path / "stereo.wav", np.stack([left, right]), 44100)
    assert np.abs(audio_envelopes(path, channel=0).values).max() == 0
    assert np.abs(audio_envelopes(path, channel=1).values).max() > 0


def test_scale_is_the_posts_minmax_clipped():
    values = np.random.default_rng(3).uniform(0, 5, (10, 200))
    expected = np.minimum(MinMaxScaler((0, 1.6)).fit_transform(values.T).T, 1)
    np.testing.assert_allclose(scale_minmax(values), expected)


def test_every_band_reachable_low_at_bottom():
    ys = np.random.default_rng(4).uniform(100, 500, 200)
    bands = electrode_bands(ys, 10)
    assert set(bands) == set(range(10))
    assert bands[np.argmax(ys)] == 0 and bands[np.argmin(ys)] == 9
    assert electrode_bands([3.0, 3.0], 10).tolist() == [0, 0]
