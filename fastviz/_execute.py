"""Run a resolved render on this machine: joblib threads draw, one ffmpeg writes, in order.

An executor takes a ``Plan`` and an ``OutputSpec`` (``_plan.resolve``) and a ``Run``
(threads, progress, cancel), trusts them, and returns the output's path. This is the
one-machine executor; ``_distributed.render_segments`` is the Dask one, and both draw
frames with ``iter_frames``.
"""
import contextlib
import time
from dataclasses import dataclass

import numpy as np

from . import _ffmpeg
from ._encode import VideoWriter
from ._errors import Cancelled, OptionError, shown
from ._progress import progress_bar

CHUNK_FRAMES = 8  # frames a worker renders per task; a few chunks per worker in memory
# cancel() is asked this often: a render stops within about this, plus one block's draw
CANCEL_CHECK_SECONDS = 0.1


@dataclass(frozen=True)
class Run:
    """How to execute a render, not what it makes: render ``jobs`` (threads; None or -1
    every core), ``progress`` (a bar on stderr, or a callable ``progress(done, total,
    seconds_left)``: ``_progress.progress_bar``), ``cancel`` (a callable asked about ten
    times a second; true stops the render)."""

    jobs: int = None
    progress: object = True
    cancel: object = None

    def __post_init__(self):
        if self.cancel is not None and not callable(self.cancel):
            raise OptionError(f"cancel must be a callable (asked: should the render stop?), "
                              f"or None, got {shown(self.cancel)}")


class _Asked:
    """``cancel()``, asked at most every ``CANCEL_CHECK_SECONDS``; ``Cancelled`` naming
    ``what`` once it says so."""

    def __init__(self, cancel, what):
        self.cancel, self.what, self._next = cancel, what, 0.0

    def __call__(self):
        if self.cancel is not None and time.monotonic() >= self._next:
            if self.cancel():
                raise Cancelled(f"{self.what} was cancelled")
            self._next = time.monotonic() + CANCEL_CHECK_SECONDS


@contextlib.contextmanager
def watching(run, what, desc, fps):
    """A first phase of ``run`` (the analysis): yields ``on_block(seconds)``, to call with
    the seconds of audio read so far after each block, which asks ``run.cancel``
    (``Cancelled`` naming ``what``) and reports the frames' worth read, at ``fps``, to
    ``run.progress`` with ``total`` None."""
    asked = _Asked(run.cancel, what)
    with progress_bar(None, desc, run.progress, first_phase=True) as bar:
        def on_block(seconds):
            asked()
            done = int(seconds * fps)
            if done > bar.n:
                bar.update(done - bar.n)

        asked()
        yield on_block


def unless_cancelled(blocks, cancel, what):
    """``blocks``, asking ``cancel()`` about ten times a second; ``Cancelled`` if true."""
    asked = _Asked(cancel, what)
    for block in blocks:
        asked()
        yield block


def write_video(plan, spec, run=Run()):
    """Render ``plan``'s frames and encode them as ``spec`` says, through one ffmpeg."""
    output = spec.output
    with _ffmpeg.reaper(), VideoWriter.from_spec(spec) as writer, progress_bar(
            plan.n_frames, output.name, run.progress) as bar:
        blocks = iter_frames(plan.renderer, plan.values, plan.n_frames, run.jobs,
                             spec.pixel_format)
        for frames in unless_cancelled(blocks, run.cancel, f"the render of {output}"):
            writer.write(frames)
            bar.update(len(frames))
    return output


def iter_frames(renderer, values, n_frames, jobs=None, pixel_format="nv12"):
    """Yield blocks of frames ``[0, n_frames)`` in order, drawn by joblib threads.

    ``pixel_format`` is ``"nv12"`` (``frames_nv12``), ``"rgb24"`` (``frames``) or
    ``"rgba"`` (``frames_rgba``).

    ``values(first, stop)`` gives the (stop - first, n_electrodes) values of those
    frames (``frame_values``). Each worker renders ``CHUNK_FRAMES`` at a time into its
    own buffer, reused for every window, so memory does not grow with the length and
    no page is faulted in twice: a yielded block is valid until the next one is asked
    for.
    """
    from joblib import Parallel, cpu_count, delayed

    # joblib's threads, counted here: effective_n_jobs asks the default process backend,
    # which refuses more than one inside a daemonic process (a Dask worker).
    jobs = -1 if jobs is None else int(jobs)
    n_jobs = max(1, jobs if jobs > 0 else cpu_count() + 1 + jobs)
    n_jobs = min(n_jobs, -(-n_frames // CHUNK_FRAMES))  # no idle buffers for short videos
    draw = {"nv12": renderer.frames_nv12, "rgb24": renderer.frames,
            "rgba": renderer.frames_rgba}[pixel_format]
    buffers = [np.empty((CHUNK_FRAMES, *renderer.frame_shape(pixel_format)), np.uint8)
               for _ in range(n_jobs)]

    def block(first, stop, out):
        return draw(values(first, stop), out[:stop - first])

    window = CHUNK_FRAMES * n_jobs
    with Parallel(n_jobs=n_jobs, backend="threading") as parallel:
        for first in range(0, n_frames, window):
            starts = range(first, min(first + window, n_frames), CHUNK_FRAMES)
            yield from parallel(delayed(block)(a, min(a + CHUNK_FRAMES, n_frames), out)
                                for a, out in zip(starts, buffers))
