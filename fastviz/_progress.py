"""Progress: a live bar on a terminal, tqdm's widget in a notebook, occasional plain
lines in a log file, or a front end's own callable.

A render reports in two phases: while its audio is analysed, ``total`` is None (the
length of a file is known only once it is decoded) and ``done`` counts the frames' worth
of audio analysed; then ``done`` counts the frames written, 0 to ``total``.

A write to a closed or broken stream (``2>&-``, ``| head``) never stops a render: the
video matters more than its progress report.
"""
import sys
import time

LOG_INTERVAL = 10.0  # seconds between plain progress lines when stderr is not a terminal
REPORT_SECONDS = 0.1  # a callable is called at most ten times a second (and at the end)
ESTIMATE_SECONDS = 0.5  # seconds_left stays None until the phase has run this long
SHOW_AFTER = 0.5  # a first phase's bar shows only if it lasts longer than this


class SafeStream:
    """A text stream whose failed writes are dropped instead of raised.

    Examples
    --------
    >>> SafeStream(None).write("lost") == 4
    True
    """

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            if self._stream is not None:
                self._stream.write(text)
        except (OSError, ValueError):  # closed pipe or closed file
            self._stream = None
        return len(text)

    def flush(self):
        try:
            if self._stream is not None:
                self._stream.flush()
        except (OSError, ValueError):
            self._stream = None

    def isatty(self):
        try:
            return self._stream is not None and self._stream.isatty()
        except (OSError, ValueError):
            return False


def stderr():
    """``sys.stderr`` wrapped in a ``SafeStream`` (``sys.stderr`` may be None)."""
    return SafeStream(sys.stderr)


class _LogLines:
    """The part of tqdm's interface fastviz uses, printing one plain line now and then."""

    def __init__(self, total, desc, unit, stream):
        self.total, self.desc, self.unit, self.stream = total, desc, unit, stream
        self.n = 0
        self._start = self._last = time.monotonic()
        self._said = False

    def update(self, n=1):
        self.n += n
        now = time.monotonic()
        if now - self._last >= LOG_INTERVAL:
            self._last = now
            self._line(now)

    def _line(self, now):
        from tqdm import tqdm

        self._said = True
        elapsed = now - self._start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        if self.total is None:  # a first phase: its length is not known yet
            self.stream.write(f"{self.desc}: {self.n} {self.unit}s, {rate:.1f} "
                              f"{self.unit}s/s\n")
        else:
            left = (self.total - self.n) / rate if rate else 0.0
            self.stream.write(f"{self.desc}: {self.n}/{self.total} {self.unit}s "
                              f"({100 * self.n / max(self.total, 1):.0f}%), {rate:.1f} "
                              f"{self.unit}s/s, {tqdm.format_interval(left)} left\n")
        self.stream.flush()

    def close(self):
        if self.n and (self.total is not None or self._said):
            self._line(time.monotonic())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Reports:
    """A front end's ``progress(done, total, seconds_left)``, behind tqdm's ``update``
    and ``close``: called from the thread that renders, at most every
    ``REPORT_SECONDS``, with ``(0, total, None)`` first when ``total`` is known, and
    with ``(total, total, 0.0)`` when the phase ends whole. ``seconds_left`` is None
    until ``ESTIMATE_SECONDS`` have passed (and always while ``total`` is None).

    Examples
    --------
    >>> said = []
    >>> with Reports(lambda *a: said.append(a), 10) as bar:
    ...     bar.update(10)
    >>> said[0], said[-1]
    ((0, 10, None), (10, 10, 0.0))
    """

    def __init__(self, report, total):
        self.report, self.total, self.n = report, total, 0
        self._start = self._last = time.monotonic()
        if total is not None:
            self.report(0, total, None)

    def update(self, n=1):
        self.n += n
        now = time.monotonic()
        if now - self._last >= REPORT_SECONDS:
            self._last = now
            self.report(self.n, self.total, self._left(now))

    def _left(self, now):
        elapsed = now - self._start
        if self.total is None or not self.n or elapsed < ESTIMATE_SECONDS:
            return None
        return max(0.0, elapsed * (self.total - self.n) / self.n)

    def close(self, whole=True):
        if whole and self.total is not None:
            self.report(self.total, self.total, 0.0)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.close(whole=exc_type is None)  # a cancel or a failure ends without "done"


def in_notebook():
    """Whether this runs in a Jupyter kernel (tqdm.autonotebook's test)."""
    return "ipykernel.zmqshell" in sys.modules


def _notebook_bar():
    """tqdm's notebook bar (an ipywidgets widget), or None without ipywidgets."""
    try:
        import ipywidgets  # noqa: F401  (tqdm.notebook imports it lazily, and warns)
        from tqdm.notebook import tqdm
    except ImportError:
        return None
    return tqdm


def progress_bar(total, desc, enabled=True, unit="frame", first_phase=False):
    """A progress bar over ``total`` items: tqdm on a terminal, tqdm's widget in a
    notebook (with ipywidgets; else one line redrawn in place), plain lines in a log.

    Use as a context manager and call ``update(n)``. ``enabled`` is True, False
    (nothing is shown) or a callable ``progress(done, total, seconds_left)`` (a
    ``Reports``). When stderr is not a terminal a line is written at most every
    ``LOG_INTERVAL`` seconds and once at the end, instead of tqdm's carriage-return
    updates. A ``first_phase`` (the analysis; ``total`` None) shows a bar only once it
    has lasted ``SHOW_AFTER`` seconds, and takes it away at its end.

    Examples
    --------
    >>> with progress_bar(10, "demo", enabled=False) as bar:
    ...     bar.update(10)
    """
    from tqdm import tqdm

    if callable(enabled):
        return Reports(enabled, total)
    transient = dict(delay=SHOW_AFTER, leave=False) if first_phase else {}
    stream = stderr()
    if enabled and in_notebook():
        bar = _notebook_bar()
        if bar is not None:
            return bar(total=total, unit=unit, desc=desc, **transient)
        return tqdm(total=total, unit=unit, desc=desc, file=stream, mininterval=0.5,
                    **transient)
    if enabled and not stream.isatty():
        return _LogLines(total, desc, unit, stream)
    return tqdm(total=total, unit=unit, desc=desc, disable=not enabled, file=stream,
                dynamic_ncols=True, **transient)
