"""Issue 10: the loaders given random bytes or damaged files load them or raise FastvizError.

Never another exception, a crash or a hang: each call runs under a SIGALRM guard.
"""
import io
import signal
import struct
import zlib
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy.io import wavfile

import fastviz
from fastviz import FastvizError

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
SECONDS = 20  # far more than any load of these small files takes


class Hang(BaseException):
    """Raised by the guard; a BaseException so no ``except Exception`` can swallow it."""


@contextmanager
def time_limit(seconds=SECONDS):
    def expired(signum, frame):
        raise Hang(f"no answer in {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def outcome(load, path):
    """``load(path)``'s result, or None when it raised FastvizError; anything else fails."""
    with time_limit():
        try:
            return load(path)
        except FastvizError as exc:
            assert str(exc), "an error without a message"
            return None


# --------------------------------------------------------------------- valid seed files

def _wav(samples, rate):
    buffer = io.BytesIO()
    wavfile.write(buffer, rate, samples)
    return buffer.getvalue()


_T = np.arange(800) / 8000
WAV_INT16 = _wav((np.sin(2 * np.pi * 440 * _T) * 20000).astype(np.int16), 8000)
WAV_FLOAT_STEREO = _wav(np.stack([np.sin(2 * np.pi * 440 * _T),
                                  np.cos(2 * np.pi * 900 * _T)], axis=1).astype(np.float32),
                        8000)
CSV = (b"name,x_2d,y_2d\nA1,10.5,20\nA2,30,40.25\nB1, 55 ,12\nB2,7,33\n")


def _png(mode):
    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8))
    if mode == "P":
        picture = picture.quantize(8)
    elif mode != "RGB":
        picture = picture.convert(mode)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


PNGS = [_png("RGB"), _png("P"), _png("RGBA"), _png("L")]


# ------------------------------------------------------------------------------ mutations

@st.composite
def mutated(draw, seeds, header=64):
    """One of ``seeds`` with 1-4 bytes flipped, runs cut, bytes inserted, or its tail cut.

    Positions favour the first ``header`` bytes, where the formats keep their sizes."""
    data = bytearray(draw(st.sampled_from(seeds)))
    position = st.one_of(st.integers(0, header - 1), st.integers(0, 1 << 20))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(position) % max(len(data), 1)
        kind = draw(st.sampled_from(["flip", "set", "delete", "insert", "truncate"]))
        if kind == "flip" and data:
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[where] = draw(st.sampled_from([0, 0x7F, 0x80, 0xFF]))
        elif kind == "delete":
            del data[where:where + draw(st.integers(1, 16))]
        elif kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "truncate":
            del data[where:]
    return bytes(data)


def size_field_changed(seeds, offsets):
    """A seed with one of its little-endian 32-bit size fields set to an extreme."""
    return st.builds(lambda seed, at, value: seed[:at] + struct.pack("<I", value)
                     + seed[at + 4:],
                     st.sampled_from(seeds), st.sampled_from(offsets),
                     st.sampled_from([0, 1, 3, 0x7FFFFFFF, 0xFFFFFFFF, 0xFFFFFFF0]))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def as_file(folder, data, name):
    path = folder / name
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------- checks

def check_audio(folder, data):
    result = outcome(fastviz.load_audio, as_file(folder, data, "sound.wav"))
    if result is not None:
        samples, rate = result
        assert isinstance(samples, np.ndarray) and samples.ndim == 1
        assert samples.dtype == np.float32 and np.isfinite(samples).all()
        assert int(rate) == rate and rate > 0


def check_table(folder, data):
    result = outcome(fastviz.load_electrodes, as_file(folder, data, "grid.csv"))
    if result is not None:
        xs, ys = result
        assert len(xs) == len(ys) >= 1
        assert np.isfinite(xs).all() and np.isfinite(ys).all()


def check_picture(folder, data):
    result = outcome(fastviz.load_background, as_file(folder, data, "brain.png"))
    if result is not None:
        assert result.dtype == np.uint8 and result.ndim == 3 and result.shape[2] == 3
        assert result.size


def test_seeds_load(folder):
    for seed in (WAV_INT16, WAV_FLOAT_STEREO):
        samples, rate = fastviz.load_audio(as_file(folder, seed, "seed.wav"))
        assert rate == 8000 and len(samples) == 800
    xs, ys = fastviz.load_electrodes(as_file(folder, CSV, "seed.csv"))
    assert len(xs) == 4
    for seed in PNGS:
        assert fastviz.load_background(as_file(folder, seed, "seed.png")).shape == (12, 16, 3)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_audio_random_bytes(folder, data):
    check_audio(folder, data)


@FUZZ
@given(data=st.one_of(mutated([WAV_INT16, WAV_FLOAT_STEREO]),
                      size_field_changed([WAV_INT16, WAV_FLOAT_STEREO], [4, 16, 24, 28, 40])))
def test_audio_damaged_wav(folder, data):
    check_audio(folder, data)


@FUZZ
@given(data=st.one_of(st.binary(max_size=2048),
                      st.text(max_size=300).map(lambda text: text.encode("utf-8")),
                      st.text(max_size=300).map(lambda text: ("x_2d,y_2d\n" + text)
                                                .encode("utf-8", "surrogatepass"))))
def test_table_random_bytes(folder, data):
    check_table(folder, data)


@FUZZ
@given(data=mutated([CSV], header=16))
def test_table_damaged_csv(folder, data):
    check_table(folder, data)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_picture_random_bytes(folder, data):
    check_picture(folder, data)


def png_chunks(data):
    """[(kind, body)] of a PNG's chunks after the signature."""
    chunks, at = [], 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        chunks.append((kind, data[at + 8:at + 8 + length]))
        at += 12 + length
    return chunks


def png_file(chunks):
    """A PNG of ``chunks`` with correct lengths and checksums."""
    return PNG_SIGNATURE + b"".join(struct.pack(">I", len(body)) + kind + body
                                    + struct.pack(">I", zlib.crc32(kind + body))
                                    for kind, body in chunks)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@st.composite
def png_with_valid_checksums(draw):
    """A seed PNG whose chunks are changed inside, then given correct checksums, so
    the decoder gets past the CRC check: IHDR fields (size, depth, colour type...),
    damaged or cut image data, chunks dropped, repeated or reordered."""
    chunks = png_chunks(draw(st.sampled_from(PNGS)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(chunks) - 1))
        kind, body = chunks[i]
        action = draw(st.sampled_from(["body", "body", "size", "drop", "repeat", "swap"]))
        if action == "body":
            body = draw(mutated([body], header=16)) if body else draw(st.binary(max_size=8))
            chunks[i] = (kind, body)
        elif action == "size" and kind == b"IHDR":
            side = draw(st.sampled_from([0, 1, 3, 40000, 1 << 20, 0x7FFFFFFF, 0xFFFFFFFF]))
            at = draw(st.sampled_from([0, 4]))
            chunks[i] = (kind, body[:at] + struct.pack(">I", side) + body[at + 4:])
        elif action == "drop" and len(chunks) > 1:
            del chunks[i]
        elif action == "repeat":
            chunks.insert(i, chunks[i])
        elif action == "swap":
            j = draw(st.integers(0, len(chunks) - 1))
            chunks[i], chunks[j] = chunks[j], chunks[i]
    return png_file(chunks)


# PNG's IHDR: width at 16, height at 20 (big-endian), then depth, colour type...
@FUZZ
@given(data=st.one_of(mutated(PNGS, header=40), png_with_valid_checksums()))
def test_picture_damaged_png(folder, data):
    check_picture(folder, data)


def test_png_helpers_round_trip():
    for seed in PNGS:
        assert png_file(png_chunks(seed)) == seed
