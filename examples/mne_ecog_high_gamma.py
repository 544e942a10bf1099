"""MNE front end: a movie of high-gamma activity from an ECoG recording, with its sound.

A synthetic 16-contact ECoG Raw stands in for a real recording: replace ``make_raw``
with ``mne.io.read_raw_...`` and set the montage of your grid.

    python examples/mne_ecog_high_gamma.py out.mp4
"""
import sys

import mne
import numpy as np

import fastviz


def make_raw(seconds=4.0, sfreq=1000.0, seed=0):
    """4 x 4 ECoG grid; a burst of 100 Hz activity sweeps across it."""
    rng = np.random.default_rng(seed)
    names = [f"G{i + 1}" for i in range(16)]
    pos = {n: (0.0, -0.04 + 0.01 * (i % 4), 0.02 + 0.01 * (i // 4)) for i, n in enumerate(names)}
    info = mne.create_info(names, sfreq, "ecog")
    t = np.arange(int(seconds * sfreq)) / sfreq
    data = rng.standard_normal((16, len(t))) * 1e-6
    for i in range(16):  # each contact bursts in turn
        burst = np.exp(-((t - 0.5 - 0.2 * i) ** 2) / 0.02)
        data[i] += 5e-6 * burst * np.sin(2 * np.pi * 100 * t)
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_montage(mne.channels.make_dig_montage(ch_pos=pos, coord_frame="head"))
    return raw


if __name__ == "__main__":
    output = sys.argv[1] if len(sys.argv) > 1 else "ecog_high_gamma.mp4"
    raw = make_raw()
    gamma = raw.copy().filter(70, 150, verbose="error").apply_hilbert(envelope=True,
                                                                      verbose="error")
    # a sonification of the mean envelope, so the movie has sound as well
    tone = np.sin(2 * np.pi * 440 * np.arange(int(4 * 44100)) / 44100)
    level = np.interp(np.arange(len(tone)) / 44100, gamma.times, gamma.get_data().mean(0))
    sound = (tone * level / level.max() * 0.5).astype(np.float32)
    fastviz.render_signal(gamma, output, smoothing=10.0, audio=(sound, 44100),
                          size=(480, 360), fps=25, overwrite=True, progress=False)
    print(f"wrote {output}")
