"""What is at a path, and names that fit: the checks every file fastviz reads or writes gets.

fastviz reads only plain files (a FIFO, a device or a socket can be read once, or never
ends) and writes only where a plain file (or, for PNG frames, a folder) is or nothing
is: it never replaces a device, a pipe or a folder, whatever ``overwrite`` says.
"""
import os
import stat
from pathlib import Path

from ._errors import InputError

NAME_BYTES = 100  # of an output's name kept in a temporary or kept-aside name: always fits
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a file"))


def cut(text, n_bytes=NAME_BYTES):
    """``text`` cut to at most ``n_bytes`` bytes as the filesystem encodes it, never
    inside a character, so a name built from it fits in 255 bytes.

    Examples
    --------
    >>> cut("\N{SNOWMAN}" * 40, 10) == "\N{SNOWMAN}" * 3
    True
    """
    return os.fsencode(text)[:n_bytes].decode("utf-8", "ignore")


def kind(path):
    """What is at ``path``, in words (``"a file"``, ``"a folder"``, ``"a pipe (FIFO)"``,
    ``"a symlink to a character device"``...), or None when nothing is.

    A symlink is named as one, with what it points to (``"a dangling symlink"``).

    Examples
    --------
    >>> kind("/nonexistent/fastviz") is None
    True
    """
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):  # ValueError: a name with a null byte names nothing
        return None
    if stat.S_ISLNK(mode):
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return "a dangling symlink"
        return f"a symlink to {_words(mode)}"
    return _words(mode)


def _words(mode):
    return next((words for test, words in _KINDS if test(mode)), "a special file")


def replaceable(path):
    """Whether a finished file may take ``path``'s place: nothing is there, or a plain
    file, or a symlink that is dangling or points to one (the link is replaced, what
    it points to is left alone)."""
    return kind(path) in (None, "a file", "a symlink to a file", "a dangling symlink")


def check_input(path, what, pipe_hint=""):
    """``path`` as a Path if it is a plain file (or a symlink to one); else an
    ``InputError`` saying what it is: missing, a folder, or a pipe or device, which
    fastviz does not read (``pipe_hint`` says why for this input)."""
    path = Path(path)
    found = kind(path)
    if found in ("a file", "a symlink to a file"):
        return path
    if found is None or found == "a dangling symlink":
        raise InputError(f"{what} not found: {path}")
    if found.endswith("a folder"):
        raise InputError(f"{what} {path} is a folder, not a file")
    raise InputError(f"{what} {path} is {found}, not a file: fastviz reads only plain "
                     f"files{pipe_hint}")
