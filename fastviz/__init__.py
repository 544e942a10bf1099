"""fastviz: audio (or any per-electrode signal) to a video of electrodes pulsing on a brain."""
__version__ = "0.1.0"

from ._analysis import Envelopes, audio_envelopes, electrode_bands, scale_minmax
from ._audio import load_audio
from ._encode import VideoWriter
from ._errors import (
    Cancelled,
    EncodeError,
    FastvizError,
    FastvizWarning,
    InputError,
    OutputError,
)
from ._raster import FrameRenderer, colormap_lut, load_background, load_electrodes, values_at
from ._render import Options, demo, render, render_signal

__all__ = [
    "Cancelled",
    "EncodeError",
    "Envelopes",
    "FastvizError",
    "FastvizWarning",
    "FrameRenderer",
    "InputError",
    "Options",
    "OutputError",
    "VideoWriter",
    "audio_envelopes",
    "colormap_lut",
    "demo",
    "electrode_bands",
    "load_audio",
    "load_background",
    "load_electrodes",
    "render",
    "render_signal",
    "scale_minmax",
    "values_at",
]
