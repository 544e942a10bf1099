"""A resolved output, and the ffmpeg arguments that write it; no I/O.

``OutputSpec`` is everything about the file a render writes, decided once by
``_output.output_spec`` (every check of the user's choices happens there): the writer
(``_encode.VideoWriter``), the trial encode and the Dask join only turn it into
arguments, here, and run them.
"""
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from . import _ffmpeg
from ._audio import input_arguments
from ._formats import FORMATS, MAX_AAC_CHANNELS, UNLABELLED_LAYOUTS, Codec


@dataclass(frozen=True)
class AudioSpec:
    """The sound of an output: a file, read from ``start`` for ``duration`` seconds (None:
    to its end; already cut at the last frame when the frame count is known), or
    ``samples`` (float32, (n_channels, n)) at ``rate``, which the writer puts in a
    scratch WAV; its ``channels`` and ``channel_mask`` (probed once), and ``codec``,
    the format's audio encoder."""

    source: Path = None
    samples: object = field(default=None, compare=False, repr=False)
    rate: int = None
    channels: int = 1
    channel_mask: int = 0
    start: float = None
    duration: float = None
    codec: str = "aac"


@dataclass(frozen=True)
class OutputSpec:
    """One output, decided: where (``path``, for frames their ``%05d.png`` pattern), in
    what (``format``, a key of ``FORMATS``, and ``codec``, a ``Codec`` of its row or of
    a chosen encoder), from what frames (``pixel_format``: ``"nv12"``, ``"rgb24"`` or
    ``"rgba"``, at ``width`` x ``height``, ``fps``), with which encoder settings
    (``preset``, ``crf``), ``transparent``, the sound (``AudioSpec`` or None), at most
    ``n_frames`` (None: unknown), tags (``metadata``, (key, value) pairs), whether an
    existing output may be replaced (``overwrite``), the files it may never replace
    (``inputs``), where its temporary file goes (``scratch_dir``, None: beside it),
    and the output as the user named it (``named``, None: ``path``).
    """

    path: Path
    format: str
    codec: Codec
    pixel_format: str
    width: int
    height: int
    fps: Fraction
    preset: str = "veryfast"
    crf: int = 20
    transparent: bool = False
    audio: AudioSpec = None
    n_frames: int = None
    metadata: tuple = ()
    overwrite: bool = False
    inputs: tuple = ()
    scratch_dir: Path = None
    named: Path = None

    @property
    def output(self):
        """The output as the user named it (``frames/`` for ``frames/%05d.png``)."""
        return self.path if self.named is None else self.named

    @property
    def row(self):
        """The format's row of ``FORMATS``."""
        return FORMATS[self.format]

    @property
    def frame_shape(self):
        """The shape of one frame the writer takes."""
        if self.pixel_format == "nv12":
            return (self.height * 3 // 2, self.width)
        return (self.height, self.width, 4 if self.pixel_format == "rgba" else 3)

    def video_only(self, path, n_frames):
        """The same video without sound or tags, as a segment of ``n_frames`` at
        ``path`` (fastviz's own scratch file, replaced)."""
        return replace(self, path=Path(path), audio=None, n_frames=n_frames, metadata=(),
                       overwrite=True, inputs=(), scratch_dir=None, named=None)


def video_input(spec):
    """ffmpeg's input arguments for raw frames of ``spec`` on stdin."""
    return ["-f", "rawvideo", "-pix_fmt", spec.pixel_format,
            "-s", f"{spec.width}x{spec.height}",
            "-framerate", f"{spec.fps.numerator}/{spec.fps.denominator}", "-i", "-"]


def video_arguments(spec):
    """ffmpeg's video output arguments for ``spec``: filter, encoder and its settings."""
    # Tagged: untagged video is read as BT.601 or BT.709 depending on the player and
    # the size, which shifts the colours. NV12 is x264's own layout (4:2:0 like
    # yuv420p, chroma interleaved), so it goes in unconverted; RGB is converted to
    # the matrix and range the codec's decoders read (``Codec.matrix``).
    codec = spec.codec
    out = codec.alpha_pix_fmt if spec.transparent else codec.pix_fmt
    settings = [a.format(preset=spec.preset, crf=spec.crf) for a in codec.settings]
    if codec.matrix is None:  # RGB or a palette: no Y'CbCr to tag
        return [*(["-vf", codec.filter] if codec.filter else []), "-c:v",
                codec.encoder, *settings, *(["-pix_fmt", out] if out else [])]
    matrix, tag = {"bt709": ("bt709", "bt709"), "bt601": ("bt601", "smpte170m")}[
        codec.matrix]
    levels = "pc" if codec.full_range else "tv"
    video = (f"setparams=range={levels}:colorspace={tag}:color_primaries=bt709:"
             "color_trc=bt709")
    if spec.pixel_format == "nv12":  # chroma is each 2 x 2 block's: centred
        pix_fmt = ["-pix_fmt", "nv12" if codec.nv12 else out,
                   "-chroma_sample_location", "center"]
    else:
        video = f"scale=out_color_matrix={matrix}:out_range={levels}," + video
        if codec.even and (spec.width % 2 or spec.height % 2):
            clear = ":color=black@0" if spec.transparent else ""
            video = f"pad=ceil(iw/2)*2:ceil(ih/2)*2{clear}," + video
        pix_fmt = ["-pix_fmt", out]
    return ["-vf", video, "-c:v", codec.encoder, *settings, *pix_fmt]


def audio_arguments(audio, source, input_index=1, duration=None):
    """ffmpeg (inputs, output arguments) that mux ``audio`` (an ``AudioSpec``) from the
    file ``source`` as input ``input_index``, cut at ``duration`` (default its own).

    ``start`` and ``duration`` pick the part the analysis read
    (``_audio.input_arguments``, so both hear the same samples).
    """
    duration = audio.duration if duration is None else duration
    inputs, chain = input_arguments(source, audio.start, duration)
    channels, extra = audio.channels, []
    if channels > MAX_AAC_CHANNELS:  # AAC stops at 8 channels: average them
        mean = "+".join(f"{1 / channels:.6f}*c{i}" for i in range(channels))
        chain += f",pan=stereo|c0={mean}|c1={mean}"
        channels = 2
    elif audio.codec == "libopus" and channels > 2:
        # Opus's surround mappings take only Vorbis layouts, and code an LFE channel
        # narrow: any 3 to 8 channels go as discrete channels (mapping family 255),
        # each kept whole and in its place. Browsers may downmix them; ffmpeg keeps them.
        extra = ["-mapping_family", "255"]
    elif not audio.channel_mask and channels in UNLABELLED_LAYOUTS:
        chain += f",channelmap=channel_layout={UNLABELLED_LAYOUTS[channels]}"
    bitrate = 192 if channels <= 2 else 96 * channels
    outputs = ["-map", f"{input_index}:a:0", "-af", chain, "-c:a", audio.codec, *extra,
               "-b:a", f"{bitrate}k"]
    return inputs, outputs


def tags(metadata):
    return [arg for key, value in metadata for arg in ("-metadata", f"{key}={value}")]


def encode_command(spec, target, audio_file=None):
    """The arguments that encode frames on stdin to ``target`` as ``spec`` says, with the
    sound read from ``audio_file`` (the spec's file, or the writer's scratch WAV)."""
    audio_in, audio_out = [], []
    if spec.audio is not None:
        audio_in, audio_out = audio_arguments(spec.audio, audio_file)
    return [*video_input(spec), *audio_in, "-map", "0:v:0", *video_arguments(spec),
            *audio_out, *tags(spec.metadata), *spec.row.muxer_settings, "-loglevel",
            "error", "-f", spec.row.muxer, "-y", target]


def copy_command(source, target, spec, seconds):
    """The arguments that copy ``source``'s streams to ``target`` cut at ``seconds``."""
    return ["-i", _ffmpeg.file_arg(source), "-map", "0", "-c", "copy", "-t",
            f"{float(seconds):.6f}", *spec.row.muxer_settings, "-loglevel", "error",
            "-f", spec.row.muxer, "-y", _ffmpeg.file_arg(target)]
