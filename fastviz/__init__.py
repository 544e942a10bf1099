"""fastviz: audio (or any per-electrode signal) to a video of electrodes pulsing on a brain."""
__version__ = "0.1.0"

from ._analysis import Envelopes, audio_envelopes, electrode_bands, scale_minmax
from ._audio import load_audio
from ._demo import demo_audio, demo_scene
from ._encode import VideoWriter
from ._errors import (
    Cancelled,
    EncodeError,
    FastvizError,
    FastvizWarning,
    InputError,
    OptionError,
    OutputError,
)
from ._raster import FrameRenderer, colormap_lut, values_at
from ._render import Options, demo, frame, layout, render, render_signal
from ._scene import load_background, load_electrodes

__all__ = [
    "Cancelled",
    "EncodeError",
    "Envelopes",
    "FastvizError",
    "FastvizWarning",
    "FrameRenderer",
    "InputError",
    "OptionError",
    "Options",
    "OutputError",
    "VideoWriter",
    "audio_envelopes",
    "colormap_lut",
    "demo",
    "demo_audio",
    "demo_scene",
    "electrode_bands",
    "frame",
    "layout",
    "load_audio",
    "load_background",
    "load_electrodes",
    "render",
    "render_signal",
    "scale_minmax",
    "values_at",
]
