"""The errors fastviz raises. Only ``cli.main`` turns them into messages and exit codes."""


class FastvizError(Exception):
    """Base class of every error fastviz raises on purpose.

    Examples
    --------
    >>> from fastviz import render
    >>> try:
    ...     render("missing.wav", "never-written.mp4")
    ... except FastvizError as exc:
    ...     print(f"error: {exc}")
    error: audio file not found: missing.wav
    """


class OptionError(FastvizError, ValueError):
    """An option's value, or a combination of options, cannot work: the call itself is
    wrong, whatever the files (the command line exits 2, a usage error). Also a
    ``ValueError``, as Python's own checks of argument values are.

    Examples
    --------
    >>> issubclass(OptionError, ValueError) and issubclass(OptionError, FastvizError)
    True
    """


class InputError(FastvizError):
    """An input (audio, picture, electrode table, signal) is missing or unusable.

    Examples
    --------
    >>> str(InputError("electrode table grid.csv has no rows"))
    'electrode table grid.csv has no rows'
    """


class OutputError(FastvizError):
    """The output cannot be written: it exists, or its folder is not writable.

    Examples
    --------
    >>> issubclass(OutputError, FastvizError)
    True
    """


class EncodeError(FastvizError):
    """ffmpeg failed while writing the video; the message holds its command and last words.

    Examples
    --------
    >>> issubclass(EncodeError, FastvizError)
    True
    """


class Cancelled(FastvizError):
    """A render stopped because its ``cancel`` callable said so; nothing was written.

    Examples
    --------
    >>> issubclass(Cancelled, FastvizError)
    True
    """


class FastvizWarning(UserWarning):
    """Something the video shows differently from what one might expect, and why.

    The command line prints each as one ``note:`` line.

    Examples
    --------
    >>> issubclass(FastvizWarning, UserWarning)
    True
    """
