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


def shown(value, limit=60):
    """``repr(value)`` for a message, cut to about ``limit`` characters: a user's value
    (a 10 MB ``cmap`` string) is named, not echoed whole.

    Examples
    --------
    >>> shown("x" * 1000, limit=10)
    "'xxxxxxxxxx...' (1,000 characters)"
    >>> shown("viridis")
    "'viridis'"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        text = repr(value[:limit])
        return f"{text[:-1]}...{text[-1]} ({len(value):,} characters)"
    return text[:limit] + "..."
