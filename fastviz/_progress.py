"""Progress on stderr: a live bar on a terminal, occasional plain lines in a log file.

A write to a closed or broken stream (``2>&-``, ``| head``) never stops a render: the
video matters more than its progress report.
"""
import sys
import time

LOG_INTERVAL = 10.0  # seconds between plain progress lines when stderr is not a terminal


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

    def update(self, n=1):
        self.n += n
        now = time.monotonic()
        if now - self._last >= LOG_INTERVAL:
            self._last = now
            self._line(now)

    def _line(self, now):
        from tqdm import tqdm

        elapsed = now - self._start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.n) / rate if rate else 0.0
        self.stream.write(f"{self.desc}: {self.n}/{self.total} {self.unit}s "
                          f"({100 * self.n / max(self.total, 1):.0f}%), {rate:.1f} "
                          f"{self.unit}s/s, {tqdm.format_interval(left)} left\n")
        self.stream.flush()

    def close(self):
        if self.n:
            self._line(time.monotonic())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress_bar(total, desc, enabled=True, unit="frame"):
    """A progress bar over ``total`` items: tqdm on a terminal, plain lines otherwise.

    Use as a context manager and call ``update(n)``. Disabled, it prints nothing.
    When stderr is not a terminal a line is written at most every ``LOG_INTERVAL``
    seconds and once at the end, instead of tqdm's carriage-return updates.

    Examples
    --------
    >>> with progress_bar(10, "demo", enabled=False) as bar:
    ...     bar.update(10)
    """
    from tqdm import tqdm

    stream = stderr()
    if enabled and not stream.isatty():
        return _LogLines(total, desc, unit, stream)
    return tqdm(total=total, unit=unit, desc=desc, disable=not enabled, file=stream,
                dynamic_ncols=True)
