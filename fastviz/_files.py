"""What is at a path, and names that fit: the checks every file fastviz reads or writes
gets, and the moves that put a finished output in its place.

fastviz reads only plain files (a FIFO, a device or a socket can be read once, or never
ends) and writes only where a plain file (or, for PNG frames, a folder) is or nothing
is: it never replaces a device, a pipe or a folder, whatever ``overwrite`` says. An
output is written under a hidden temporary name beside the target and moved onto it
only when it is complete (``publish``, ``publish_frames``).
"""
import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path

from . import _ffmpeg
from ._errors import InputError, OptionError, OutputError
from ._formats import FORMATS, FRAME_PATTERN, PICTURE, frame_names, frames_pattern, output_format

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
        system = _system_link(path)
        if system is not None:  # /dev/stdout -> /proc/self/fd/1 -> whatever it is now
            return f"a symlink into {system}"
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return "a dangling symlink"
        return f"a symlink to {_words(mode)}"
    return _words(mode)


def _system_link(path):
    """``"/proc"`` or ``"/dev"`` when the symlink ``path`` sits in ``/dev`` or a link on
    its way passes through ``/proc`` (a process's open files: ``/dev/stdout``,
    ``/dev/fd/N``), which no video may replace; else None."""
    hop = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(path))),
                       os.path.basename(path))
    if os.path.dirname(hop) == "/dev":
        return "/dev"
    for _ in range(40):  # the kernel's own limit on a chain of links
        if hop == "/proc" or hop.startswith("/proc/"):
            return "/proc"
        try:
            target = os.readlink(hop)
        except OSError:
            return None
        hop = os.path.normpath(os.path.join(os.path.dirname(hop), target))
        hop = os.path.join(os.path.realpath(os.path.dirname(hop)), os.path.basename(hop))
    return None


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


_UMASK = os.umask(0o022)  # read once, at import: os.umask can only be read by setting it
os.umask(_UMASK)


def check_output(path, overwrite=False, inputs=(), format=None):
    """Refuse an output that exists (unless ``overwrite``), that is not a plain file,
    or that is one of ``inputs``; returns the path (for frames, their pattern).

    The format comes from the name (``output_format``), or ``format``, resolved and
    checked against the name before (``_output``); ``PICTURE`` is
    one PNG picture (``frame``, ``layout``), which a plain ``NAME.png`` always names:
    numbered PNG frames are a folder or a ``%05d.png`` pattern (see ``check_sequence``).

    Only a file, or a symlink (the link is replaced, never what it points to), is ever
    replaced: a folder, a device (``/dev/null``), a pipe or a socket at the output is
    refused even with ``overwrite``, since replacing it would break whatever uses it.
    An input is compared by resolved path and, when both exist, as the same file on
    disk, so a symlink or a hard link to it is refused too, even with ``overwrite``.
    ``publish`` checks all this again when the file is done.
    """
    if format == PICTURE:
        if Path(path).suffix.lower() != ".png" or frames_pattern(path):
            raise OptionError(f"output {path}: this writes one PNG picture, so name it "
                              "NAME.png")
    else:
        if format is None:  # a render resolved its format before (``output_format``)
            format = output_format(path)[0]
        sequence = FORMATS[format].sequence is not None
        pattern = frames_pattern(path) if sequence else None
        if sequence and pattern is None:
            raise OptionError(f"output {path}: PNG frames go in a folder (name it with a "
                              f"slash, DIR/) or a pattern such as NAME_{FRAME_PATTERN}; "
                              "one .png is a picture (fastviz frame writes one)")
        if pattern is not None:
            return check_sequence(pattern, overwrite, inputs)
    path = Path(path)
    found = kind(path)
    if not replaceable(path):
        raise OutputError(f"output {path} is {found}, not a file: fastviz never replaces "
                          "one, even with overwrite=True")
    clash = _input_at(path, inputs)
    if clash is not None:
        raise OutputError(f"output {path} is the input {clash}; writing it would "
                          "destroy the input, so choose another name")
    if found is not None and not overwrite:  # a dangling symlink counts too
        raise OutputError(f"output {path} exists; pass overwrite=True to replace it")
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: folder {folder} is missing or not writable")
    check_name_length(path)
    return path


def check_name_length(path):
    """Refuse a name longer than its folder's filesystem takes (255 bytes on most), now,
    not when the finished video is moved onto it."""
    path = Path(path)
    try:
        most = os.pathconf(path.parent, "PC_NAME_MAX")
    except (OSError, ValueError):  # the filesystem does not say
        return
    size = len(os.fsencode(path.name))
    if size > most:
        raise OutputError(f"output {path}: its name is {size} bytes, and the filesystem "
                          f"of {path.parent} takes at most {most}; choose a shorter name")


def _input_at(path, inputs):
    """The first of ``inputs`` (paths; other values are ignored) that ``path`` is."""
    return next((source for source in inputs if isinstance(source, (str, os.PathLike))
                 and same_file(path, source)), None)


def check_sequence(pattern, overwrite=False, inputs=()):
    """Refuse a folder that cannot take numbered PNG frames ``pattern`` (``DIR/NAME%05d.png``).

    A sequence is a folder of its own, published whole by renaming a finished folder
    (``publish_frames``), so it appears whole or not at all. The folder may be missing
    (made then), empty, or hold nothing but files named as ``pattern`` names frames,
    which are an earlier sequence: replaced whole with ``overwrite``, else refused.
    Anything else in it (an input, a subfolder, any other file) and it is refused,
    naming that file: ``DIR/NAME%05d.png`` does not mix frames into a folder of other
    files. Its parent must be writable (the rename happens there), and it may not be
    a mount point or hold the current folder.
    """
    folder = pattern.parent
    found = kind(folder)
    if found is not None and found != "a folder":
        raise OutputError(f"output {folder} is {found}, not a folder: PNG frames go in "
                          "a folder of their own")
    if found is not None:
        if os.path.ismount(folder):
            raise OutputError(f"output {folder} is a mount point: PNG frames are moved "
                              "into place by renaming their folder, so name a folder "
                              f"inside it ({Path(folder, 'frames', pattern.name)})")
        try:
            here = os.path.realpath(os.getcwd())
        except OSError:  # the current folder was deleted
            here = None
        where = os.path.realpath(folder)
        if here is not None and os.path.commonpath([here, where]) == where:
            raise OutputError(f"output {folder} holds the current folder: PNG frames go "
                              f"in a folder of their own (frames/{pattern.name})")
        count, stranger = _sequence_in(folder, pattern, inputs)
        if stranger is not None:
            raise OutputError(f"output {folder} holds {stranger}; PNG frames need a "
                              "folder of their own: a new or empty one, or one that holds "
                              "only an earlier sequence (replaced with overwrite=True)")
        if count and not overwrite:
            raise OutputError(f"output {folder} exists with {count} numbered frame(s) in "
                              "it; pass overwrite=True to replace the sequence")
    parent = folder.parent
    check_name_length(folder)
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {pattern}: folder {parent} is missing or not "
                          "writable (frames are moved into place by renaming their "
                          "folder in it)")
    return pattern


def _sequence_in(folder, pattern, inputs=()):
    """``(frames, stranger)``: how many files of ``folder`` are named as ``pattern``
    numbers frames, and the first entry that is not one of them (or is an input), in
    words, or None."""
    names = frame_names(pattern.name)
    count = 0
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        clash = _input_at(entry.path, inputs)
        if clash is not None:
            return count, f"the input {clash}"
        if not (entry.is_file(follow_symlinks=False) and names.fullmatch(entry.name)):
            return count, f"{entry.name}, which is not one of its frames ({pattern.name})"
        count += 1
    return count, None


def same_file(a, b):
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def temporary_file(path, suffix=".part", folder=None):
    """Create a hidden temporary file beside ``path`` (or in ``folder``, on its
    filesystem); return its Path.

    The name holds at most 100 bytes of the output's name, so it fits wherever the
    output's name does (255 bytes on common filesystems).
    """
    path = Path(path)
    where = path.parent if folder is None else Path(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{cut(path.name)}.", suffix=suffix, dir=where)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    os.close(fd)
    return Path(tmp)


def _keep_aside(tmp, path):
    """Move the finished ``tmp`` (a file or a folder) to a new visible name beside
    ``path``, made of at most 100 bytes of its name; return that name."""
    if tmp.is_dir():
        kept = tempfile.mkdtemp(prefix=f"{cut(path.name)}-", dir=path.parent)
    else:
        fd, kept = tempfile.mkstemp(prefix=f"{cut(path.stem)}-",
                                    suffix=cut(path.suffix, 16), dir=path.parent)
        os.close(fd)
    os.replace(tmp, kept)  # a folder replaces the empty folder just made
    return Path(kept)


def publish(tmp, path, overwrite=False, inputs=()):
    """Move the finished ``tmp`` onto ``path``, never over a file that appeared meanwhile.

    Without ``overwrite`` the move is a hard link then an unlink, which fails instead of
    replacing (on filesystems without hard links, a check then a rename). With it, what
    is at ``path`` is checked again as ``check_output`` did: only a file or a symlink
    is replaced, never an input. When the move cannot be made, what is at ``path`` is
    kept; the finished video is kept too, under a visible name beside it, and the error
    says where. The move and the keeping are not cut by a stop signal.
    """
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp made it private
    _put_in_place(tmp, path, lambda: _move(tmp, path, overwrite, inputs), "the video is at")


def _put_in_place(tmp, where, move, kept_words):
    """Run ``move`` (None, or why ``tmp`` could not go to ``where``) uncut by a stop
    signal; on a refusal keep ``tmp`` beside ``where`` under a visible name, and say
    where (``kept_words``)."""
    with _ffmpeg.signals_held():
        why = move()
        if why is None:
            _ffmpeg.record_published(where)
            return
        kept = _keep_aside(tmp, where)
    raise OutputError(f"{where} {why}; {kept_words} {kept}")


def _move(tmp, path, overwrite, inputs):
    """Move ``tmp`` onto ``path``: None, or why it was not done."""
    if overwrite:
        clash = _input_at(path, inputs)
        if clash is not None:
            return f"became the input {clash} while rendering, and was not replaced"
        if not replaceable(path):
            return (f"became {kind(path)} while rendering, which fastviz never replaces")
        os.replace(tmp, path)
        return None
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:  # no hard links here (FAT, some network filesystems)
        if not os.path.lexists(path):
            os.replace(tmp, path)
            return None
    else:
        os.unlink(tmp)
        return None
    return ("appeared while rendering and was not replaced (pass overwrite=True to "
            "replace it)")


def temporary_folder(pattern):
    """A hidden temporary folder for numbered frames, beside their folder (in its
    parent, where ``publish_frames`` renames it). Returns its Path."""
    folder = pattern.parent
    try:  # no % in its name: ffmpeg would take it for a number
        return Path(tempfile.mkdtemp(prefix=f".{cut(folder.name).replace('%', '_')}.",
                                     suffix=".part", dir=folder.parent))
    except OSError as exc:
        raise OutputError(f"cannot write {pattern}: {exc.strerror}") from None


def publish_frames(tmp, pattern, overwrite=False, inputs=()):
    """Move the finished folder of frames ``tmp`` into place as ``pattern``'s folder,
    whole: by renaming the folder, never frame by frame.

    A missing or empty folder is replaced at once (a rename replaces only an empty
    folder). With ``overwrite``, a folder holding an earlier sequence is renamed aside,
    checked to hold only that (nothing came meanwhile), replaced, and removed; on any
    failure it is put back. Otherwise, what is there is kept, the frames are kept under
    a visible name beside it, and the error says where. Not cut by a stop signal.
    """
    os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp made it private
    _put_in_place(tmp, pattern.parent, lambda: _swap_folder(tmp, pattern, overwrite, inputs),
                  "the frames are in")


def _swap_folder(tmp, pattern, overwrite, inputs):
    """Rename ``tmp`` to ``pattern``'s folder: None, or why it was not done."""
    folder, old = pattern.parent, None
    if kind(folder) == "a folder" and any(os.scandir(folder)):
        if not overwrite:
            return ("appeared while rendering, with files in it, and was not replaced "
                    "(pass overwrite=True to replace a sequence)")
        old = Path(tempfile.mkdtemp(prefix=f".{cut(folder.name)}.", suffix=".old",
                                    dir=folder.parent))
        try:
            os.replace(folder, old)
        except OSError as exc:
            old.rmdir()
            return f"could not be moved aside ({exc.strerror}), so it was kept"
        _, stranger = _sequence_in(old, pattern, inputs)
        if stranger is not None:
            os.replace(old, folder)
            return f"now holds {stranger}, so it was kept"
    try:
        os.rename(tmp, folder)
    except OSError as exc:
        why = f"could not be replaced ({exc.strerror})"
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            why = f"appeared while rendering, as {kind(folder)}, and was not replaced"
        if old is not None:
            try:
                os.replace(old, folder)  # the earlier sequence, back in its place
            except OSError:
                why += f" (the earlier sequence is in {old})"
        return why
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return None
