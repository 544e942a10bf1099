"""fastviz: audio (or any per-electrode signal) to a video of electrodes pulsing on a brain.

The public names are imported when first used (PEP 562), not with the package: the
command line (``fastviz.cli``, ``python -m fastviz``) sets its signal handlers before
numpy, numba and MNE load, so a Ctrl-C in those first seconds is one
``error:`` line too, not a traceback.
"""
import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_PUBLIC = {
    "Envelopes": "_analysis", "audio_envelopes": "_analysis",
    "electrode_bands": "_analysis", "scale_minmax": "_analysis",
    "load_audio": "_audio",
    "demo_audio": "_demo", "demo_scene": "_demo",
    "VideoWriter": "_encode", "render_batch": "_batch", "Outcome": "_batch",
    "Cancelled": "_errors", "EncodeError": "_errors", "FastvizError": "_errors",
    "FastvizWarning": "_errors", "InputError": "_errors", "OptionError": "_errors",
    "OutputError": "_errors",
    "FrameRenderer": "_raster", "colormap_lut": "_raster", "values_at": "_raster",
    "Options": "_options", "demo": "_render", "frame": "_render", "layout": "_render",
    "render": "_render", "render_signal": "_render",
    "load_background": "_scene", "load_electrodes": "_scene",
    "Prepared": "_prepared", "prepare": "_prepared", "prepare_signal": "_prepared",
    "Picture": "_display", "Video": "_display",
}

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
    "Outcome",
    "OutputError",
    "Picture",
    "Prepared",
    "Video",
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
    "prepare",
    "prepare_signal",
    "render",
    "render_batch",
    "render_signal",
    "scale_minmax",
    "values_at",
]


def __getattr__(name):
    """A public name, or a submodule (``fastviz._demo``), imported on first use."""
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value
        return value
    if name.startswith("_") and not name.startswith("__"):
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
