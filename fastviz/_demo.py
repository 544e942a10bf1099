"""The built-in demo: Jingle Bells synthesised with bell tones, on the bundled brain."""
from importlib import resources

import numpy as np

DEMO_RATE = 44100
BEAT = 0.5  # seconds: 120 beats a minute, 64 beats, 32 s

# The chorus (public domain, J. L. Pierpont, 1857) in C major: (note, beats).
_VERSE = [("E5", 1), ("E5", 1), ("E5", 2), ("E5", 1), ("E5", 1), ("E5", 2),
          ("E5", 1), ("G5", 1), ("C5", 1.5), ("D5", .5), ("E5", 4),
          ("F5", 1), ("F5", 1), ("F5", 1.5), ("F5", .5), ("F5", 1), ("E5", 1), ("E5", 1),
          ("E5", .5), ("E5", .5)]
_MELODY = (_VERSE + [("E5", 1), ("D5", 1), ("D5", 1), ("E5", 1), ("D5", 2), ("G5", 2)]
           + _VERSE + [("G5", 1), ("G5", 1), ("F5", 1), ("D5", 1), ("C5", 4)])
# One bass note a bar (4 beats): C, C, C, C, F, C, D, G, then C, C, C, C, F, C, G, C.
_BASS = ["C4", "C4", "C4", "C4", "F4", "C4", "D4", "G4",
         "C4", "C4", "C4", "C4", "F4", "C4", "G4", "C4"]
_SEMITONES = {"C": -9, "D": -7, "E": -5, "F": -4, "G": -2, "A": 0, "B": 2}
# Partials of a struck bell (ratios to the strike note) and their levels: hum, prime,
# minor third, fifth, octave and upper partials, reaching past 6 kHz from C5.
_BELL = [(0.5, .35), (1, 1), (1.19, .45), (1.5, .3), (2, .5), (2.52, .25), (3, .2),
         (4.2, .15), (5.4, .12), (6.8, .1), (8.2, .09), (10.1, .08), (12.3, .07)]


def note_hz(name):
    """Frequency of a note name such as ``"A4"`` (440 Hz) or ``"C5"``."""
    return 440.0 * 2 ** ((_SEMITONES[name[0]] + 12 * (int(name[1:]) - 4)) / 12)


def _bell(f0, seconds, rate, level):
    t = np.arange(int(seconds * rate)) / rate
    tone = np.zeros_like(t)
    for ratio, amp in _BELL:
        f = f0 * ratio
        if f < rate / 2:  # higher partials ring shorter, as in a real bell
            tone += amp * np.exp(-t * (1.5 + f / 700)) * np.sin(2 * np.pi * f * t)
    return level * tone * np.minimum(1, t * 2000)  # 0.5 ms attack, no click


def jingle_bells(rate=DEMO_RATE, seed=0):
    """Jingle Bells, about 32 s, as float32 samples in -1..1.

    Bell-like melody and bass, plus a sleigh-bell shake (noise band-passed around
    5-8 kHz) on every beat, so all ten analysis bands from 400 to 6000 Hz move.

    Returns
    -------
    samples : ndarray of float32
    rate : int

    Examples
    --------
    >>> samples, rate = jingle_bells()
    >>> round(len(samples) / rate)
    33
    """
    from scipy import signal

    n_beats = sum(beats for _, beats in _MELODY)
    out = np.zeros(int((n_beats * BEAT + 1.0) * rate))
    at = 0.0
    for name, beats in _MELODY:
        tone = _bell(note_hz(name), beats * BEAT + 0.8, rate, 0.5)
        i = int(at * rate)
        out[i:i + len(tone)] += tone[:len(out) - i]
        at += beats * BEAT
    for bar, name in enumerate(_BASS):
        tone = _bell(note_hz(name), 4 * BEAT, rate, 0.35)
        i = int(bar * 4 * BEAT * rate)
        out[i:i + len(tone)] += tone[:len(out) - i]
    rng = np.random.default_rng(seed)
    sos = signal.butter(4, [5000, 8000], btype="bandpass", fs=rate, output="sos")
    shake_len = int(0.12 * rate)
    envelope = np.exp(-np.arange(shake_len) / (0.03 * rate))
    for beat in range(int(n_beats)):
        i = int(beat * BEAT * rate)
        noise = signal.sosfilt(sos, rng.standard_normal(shake_len)) * envelope
        out[i:i + shake_len] += (0.6 if beat % 2 == 0 else 0.35) * noise[:len(out) - i]
    out *= 0.9 / np.abs(out).max()
    return out.astype(np.float32), rate


def demo_scene():
    """Paths of the bundled brain picture and electrode table.

    Examples
    --------
    >>> picture, table = demo_scene()
    >>> picture.endswith("brain.png"), table.endswith("electrodes.csv")
    (True, True)

    The picture is a lateral view of the fsaverage5 left pial surface (FreeSurfer, via
    nilearn), made by ``tools/make_brain.py``; the table holds an 8 x 8 grid and two
    8-contact strips in its pixel coordinates, with a ``band`` column along the grid's
    rows: the inferior temporal strip band 0, the grid's rows 1 (bottom) to 8 (top), the
    superior strip 9.
    """
    data = resources.files("fastviz") / "data"
    return str(data / "brain.png"), str(data / "electrodes.csv")


def demo_audio(path="jinglebells.wav"):
    """Write the demo's song (``jingle_bells()``, 33 s) to a WAV file; return its path.

    A file already at ``path`` is kept: returned as it is when it holds the song, an
    ``OutputError`` otherwise (it is someone's file).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     os.path.getsize(demo_audio(os.path.join(tmp, "song.wav"))) > 1_000_000
    True
    """
    import io
    from pathlib import Path

    from scipy.io import wavfile

    from ._errors import OutputError

    samples, rate = jingle_bells()
    song = io.BytesIO()
    wavfile.write(song, rate, samples)
    path = Path(path)
    if path.exists():
        if path.read_bytes() != song.getvalue():
            raise OutputError(f"{path} exists and is not the demo song; give demo_audio "
                              "another path")
        return path
    with open(path, "xb") as out:  # never over a file that appeared meanwhile
        out.write(song.getvalue())
    return path
