"""Real files in, real files decoded back out."""
import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from scipy.io import wavfile


def write_wav(path, samples, rate):
    wavfile.write(path, rate, np.asarray(samples, np.float32).T)
    return path


def tone(freq, seconds, rate=44100, level=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def probe(path):
    """(video frame count, video size, list of audio codecs, audio seconds) of a file."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    info = subprocess.run([ffmpeg, "-hide_banner", "-i", str(path)], capture_output=True,
                          text=True).stderr
    size = tuple(int(v) for v in re.search(r"Video: .*?(\d{2,5})x(\d{2,5})", info).groups())
    audio = re.findall(r"Audio: (\w+)", info)
    n_frames = len(decode_frames(path, size))
    from fastviz import load_audio

    seconds = 0.0
    if audio:
        samples, rate = load_audio(path)
        seconds = len(samples) / rate
    return n_frames, size, audio, seconds


def decode_frames(path, size):
    """All frames of a video as (n, H, W, 3) uint8."""
    width, height = size
    return _decode(path, "rgb24").reshape(-1, height, width, 3)


def decode_nv12(path, size):
    """All frames of a video as NV12 planes, (n, 3H/2, W) uint8."""
    width, height = size
    return _decode(path, "nv12").reshape(-1, height * 3 // 2, width)


def decode_rgba(path, size, decoder=None):
    """All frames of a video, or of numbered PNGs, as (n, H, W, 4) uint8. ffmpeg reads
    VP9's alpha only with ``decoder="libvpx-vp9"``."""
    width, height = size
    return _decode(path, "rgba", decoder).reshape(-1, height, width, 4)


def _decode(path, pix_fmt, decoder=None):
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    codec = ["-c:v", decoder] if decoder else []
    raw = subprocess.run([ffmpeg, "-v", "error", *codec, "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", pix_fmt, "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8)


def streams(path):
    """ffmpeg's description of a file's streams: ``Video: vp9 (Profile 0), yuv420p(tv,
    bt709...``, one line each."""
    info = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True).stderr
    return [line.strip() for line in info.splitlines() if "Stream #" in line]


def hidden(folder):
    """Names of the hidden files in ``folder`` (where a ``.part`` file would be)."""
    return [p.name for p in Path(folder).iterdir() if p.name.startswith(".")]


def ffmpeg_processes_in(folder):
    """ffmpeg processes whose command line names something inside ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "ffmpeg" in cmdline and str(folder) in cmdline:
            found.append(cmdline)
    return found
