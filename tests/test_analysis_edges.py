"""The analysis at the edges: audio lengths, odd sample rates, bands above the Nyquist."""
import math

import numpy as np
import pytest
from helpers import tone, write_wav

from fastviz import Envelopes, audio_envelopes, scale_minmax
from fastviz._analysis import DECIM, FREQS


def instants_inside(n, rate, env_rate):
    """How many k have k / env_rate < n / rate (1e-9: the float rate can land just past
    an instant that falls exactly on the end)."""
    return math.ceil(n * env_rate / rate - 1e-9)


def band_tones(n, rate):
    """A tone at each band centre the rate holds, swelling and fading once a second for
    2 s and steady after, so each band's min and max lie well before the end."""
    t = np.arange(n) / rate
    swell = 0.6 + 0.4 * np.sin(2 * np.pi * t) * (t < 2)
    held = FREQS[FREQS < 0.85 * rate / 2]
    return (swell * sum(np.sin(2 * np.pi * f * t + f) for f in held) / len(held)).astype(
        np.float32)


@pytest.mark.parametrize("rate", [8000, 16000, 32000, 44100, 48000, 96000, 44056, 44099.87])
def test_one_sample_more_does_not_move_the_scaling(rate):
    env_rate = audio_envelopes(np.zeros(int(rate)), rate).rate
    # n + 1 samples take in instant 110 (about 4 s), n do not; n2 + 1 take in none.
    n = math.floor(110 * rate / env_rate + 1e-9)
    n2 = n + int(rate / env_rate / 2)
    for m in (n, n2):
        x = band_tones(m + 1, rate)
        a, b = audio_envelopes(x[:m], rate), audio_envelopes(x, rate)
        assert a.values.shape[1] == instants_inside(m, rate, a.rate)
        assert b.values.shape[1] == instants_inside(m + 1, rate, b.rate)
        # The last second legitimately changes (the last wavelets reach past the end and
        # the low-pass spreads that); a moved scaling would shift every column before it.
        common = a.values.shape[1] - 28
        np.testing.assert_allclose(scale_minmax(a.values)[:, :common],
                                   scale_minmax(b.values)[:, :common], rtol=0, atol=0.02)
    assert instants_inside(n + 1, rate, env_rate) == instants_inside(n, rate, env_rate) + 1


def test_padding_never_adds_a_column():
    # At 16 kHz the resampler pads to 320 samples: 168 321 samples used to give 291 columns.
    x = band_tones(168_321, 16000)
    for n in (168_320, 168_321):
        assert audio_envelopes(x[:n], 16000).values.shape == (10, 290)


@pytest.mark.parametrize("rate", [44099.87, 1017.25, 44056, 8000, 192000])
def test_any_rate_keeps_length_timing_and_bands(rate):
    n = int(10 * rate) + 3
    band = np.flatnonzero(FREQS < 0.8 * rate / 2)[-1]  # the highest band the rate holds
    env = audio_envelopes(tone(FREQS[band], n / rate, rate), rate, lowpass=None)
    assert env.rate == pytest.approx(27.5625, rel=1e-3)
    assert env.values.shape == (10, instants_inside(n, rate, env.rate))
    assert env.duration == pytest.approx(n / rate, rel=1e-12)
    level = env.values[:, 10:-10].mean(axis=1)
    assert level.argmax() == band
    # The same tone analysed at 22050 Hz gives the same amplitude in its band.
    ref = audio_envelopes(tone(FREQS[band], 10, 22050), 22050, lowpass=None)
    assert level[band] == pytest.approx(ref.values[band, 10:-10].mean(), rel=0.01)


@pytest.mark.parametrize("rate", [44099.87, 44056])
def test_blocks_equal_whole_file_at_odd_rates(rate):
    samples = np.random.default_rng(5).standard_normal(int(40 * rate)).astype(np.float32)
    whole = audio_envelopes(samples, rate, block_seconds=1e6)
    blocks = audio_envelopes(samples, rate, block_seconds=5.4)
    np.testing.assert_allclose(blocks.values, whole.values, rtol=0,
                               atol=1e-9 * np.abs(whole.values).max())


@pytest.mark.parametrize("rate, dark", [(8000, [8, 9]), (11025, [9]), (16000, []),
                                        (44100, [])])
@pytest.mark.parametrize("from_file", [False, True])
def test_bands_above_the_nyquist_stay_dark(tmp_path, rate, dark, from_file):
    noise = np.random.default_rng(6).standard_normal(3 * rate).astype(np.float32) * 0.2
    audio = write_wav(tmp_path / "noise.wav", noise, rate) if from_file else noise
    env = audio_envelopes(audio, None if from_file else rate)
    assert np.flatnonzero(env.dark).tolist() == dark
    assert env.dark.dtype == bool and env.dark.shape == (10,)
    assert (env.values[env.dark] == 0).all()
    assert (env.values[~env.dark] > 0).all()  # the bands just below the Nyquist are kept
    assert (scale_minmax(env.values)[env.dark] == 0).all()


def test_envelopes_made_without_dark_have_no_dark_band():
    env = Envelopes(np.zeros((3, 5)), 27.5625, np.array([400.0, 800.0, 1600.0]), 0.2)
    assert env.dark.tolist() == [False, False, False]


def click_envelopes(offset, sampling=None, rate=22050):
    """Envelopes of one full-scale click in 4 s of silence, ``offset`` analysis samples
    after instant 40 (the instants are DECIM = 800 samples apart at 22050 Hz), at the
    default sampling unless one is named."""
    samples = np.zeros(4 * rate, np.float32)
    samples[DECIM * 40 + offset] = 1.0
    named = {} if sampling is None else {"sampling": sampling}
    return audio_envelopes(samples, rate, **named).values


def test_a_click_lights_its_bands_whatever_its_phase():
    """Midway between two instants, the post's sampling sees nothing of a click in any
    band (its wavelets are 2-28 ms long, the instants 36 ms apart); the interval means
    see it wherever it falls. Within one interval the means are equal (the click's
    whole response is inside); a click on the boundary is split between two samples,
    and the 5 Hz low-pass of two half samples peaks at (h0 + h1) / (2 h0) = 0.86 of one
    whole sample: the bound, 0.8, leaves room for nothing else."""
    on_instant = click_envelopes(0).max(axis=1)
    assert (on_instant > 0).all()
    for offset in (100, 200, 300, 400):
        ratio = click_envelopes(offset).max(axis=1) / on_instant
        assert (ratio > 0.8).all() and (ratio < 1.0 + 1e-6).all(), (offset, ratio)
    post = click_envelopes(400, "instant").max(axis=1) / click_envelopes(0, "instant").max(
        axis=1)
    assert (post < 0.01).all()  # the post's sampling, kept by name, misses it


def test_a_dc_offset_changes_nothing():
    """A 0.05 offset used to flash 7 of 10 bands to full at t = 0 (the wavelets saw a
    step from the zeros before the file); it is removed first."""
    rate = 22050
    t = np.arange(3 * rate) / rate
    quiet = (0.05 * np.sin(2 * np.pi * 1000 * t) * (1 + np.sin(2 * np.pi * t))).astype(
        np.float32)
    plain, shifted = audio_envelopes(quiet, rate), audio_envelopes(quiet + 0.05, rate)
    np.testing.assert_allclose(shifted.values, plain.values, rtol=0,
                               atol=1e-6 * plain.values.max())
    heard = plain.values.max(axis=1) > 0.01 * plain.values.max()  # the tone's bands
    np.testing.assert_allclose(shifted.scaled()[heard], plain.scaled()[heard], rtol=0,
                               atol=1e-4)


@pytest.mark.filterwarnings("ignore:the 6000 Hz band")  # 11025 Hz holds no 6 kHz
@pytest.mark.parametrize("shape", ["steady", "swelling"])
def test_one_sample_more_does_not_rescale_the_video(tmp_path, shape):
    """At 11025 Hz a 7 s tone one sample longer (which adds an instant) used to move the
    scaled envelopes by 0.017-0.037 everywhere, through the last column, whose wavelet
    hangs off the end. The scaling is now fitted on the columns the audio fully covers:
    every column before the last wavelet's, interval's and low-pass's reach (the last
    0.9 s, which hold new audio) is the same to within 1e-4 (measured: 2e-6)."""
    from fastviz._options import Options
    from fastviz._plan import plan_render

    rate = 11025
    n = math.floor(math.floor(7 * 27.5625) * rate / 27.5625 + 1e-9)
    t = np.arange(n + 1) / rate
    level = 0.5 if shape == "steady" else 0.6 + 0.4 * np.sin(2 * np.pi * t / 7)
    x = (level * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    a, b = (plan_render(write_wav(tmp_path / f"{m}.wav", x[:m], rate), Options()).amplitudes
            for m in (n, n + 1))
    assert b.shape[1] == a.shape[1] + 1
    inside = a.shape[1] - 25  # the columns a covers (24 at each end are not)
    np.testing.assert_allclose(a[:, :inside], b[:, :inside], rtol=0, atol=1e-4)
