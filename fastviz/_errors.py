"""The errors fastviz raises. Only ``cli.main`` turns them into messages and exit codes."""


class FastvizError(Exception):
    """Base class of every error fastviz raises on purpose."""


class InputError(FastvizError):
    """An input (audio, picture, electrode table, signal) is missing or unusable."""


class OutputError(FastvizError):
    """The output cannot be written: it exists, or its folder is not writable."""


class EncodeError(FastvizError):
    """ffmpeg failed while writing the video."""
