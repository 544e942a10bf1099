"""The Dask executor: one render split into segments on workers, joined by stream copy,
the audio muxed once; and the Dask plumbing batches share (``connect``, ``Tasks``).

    plan (driver) ──renderer scattered once, each segment's values──▶ Dask tasks
    task: iter_frames ──▶ VideoWriter, video only ──▶ segment MP4 (bytes back, or a shared folder)
    driver: concat demuxer, stream copy, + the audio encoded once ──▶ MP4

Every segment is a fresh encode with the single-stream settings, so it opens on a key frame
and the join copies it untouched. The audio is never split: AAC primes each stream with
silence, which would click at every seam. Dask is optional (``.[dask]``) and is
imported only inside the functions that use it.
"""
import contextlib
import logging
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import CancelledError
from pathlib import Path

from . import _ffmpeg
from ._audio import as_channels_first
from ._command import audio_arguments, tags
from ._encode import VideoWriter
from ._errors import Cancelled, FastvizError, OptionError, OutputError, shown
from ._execute import CANCEL_CHECK_SECONDS, iter_frames, unless_cancelled
from ._files import publish, temporary_file
from ._formats import as_fraction
from ._progress import progress_bar

SEGMENT_SECONDS = 30  # default segment length: a lost worker costs at most this much video
SEGMENT_ATTEMPTS = 3  # a segment whose scene was lost with its workers is sent again
STOP_TIMEOUT = 10  # seconds the driver waits for running segments to stop after a failure
WORKER_TIMEOUT = 30  # seconds to wait for a scheduler's answer, and for its first worker
# local:N starts N processes while the stop signals wait: at most this many per core
LOCAL_PER_CORE, MIN_LOCAL_CAP = 4, 8


def _distributed():
    """The ``distributed`` module, or an error saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise FastvizError("rendering on Dask needs dask.distributed: pip install "
                           "'dask[distributed]' (or, in fastviz's folder, pip install "
                           "'.[dask]')") from None
    return distributed


@contextlib.contextmanager
def connect(client=None, scheduler=None):
    """A Dask client: ``client`` itself, or one for ``scheduler``, closed afterwards.

    Parameters
    ----------
    client : distributed.Client, optional
        Used as it is and left open.
    scheduler : str, optional
        ``"local"`` (one worker process a core), ``"local:N"`` (N worker processes),
        both of one thread, started here and closed afterwards; or the address of a
        running scheduler, ``"tcp://HOST:PORT"``. Default ``"local"``.

    Examples
    --------
    ::

        with connect(scheduler="local:2") as client:
            print(client.nthreads())
    """
    distributed = _distributed()
    if client is not None:
        if scheduler is not None:
            raise OptionError("give a Dask client or a scheduler, not both")
        yield client
        return
    scheduler = "local" if scheduler is None else str(scheduler)
    if "://" in scheduler:
        try:
            own = _client_of(distributed, scheduler)
        except (OSError, TimeoutError) as exc:
            raise FastvizError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with own:
            yield own
        return
    n_workers = _local_workers(scheduler)
    # No dashboard, and the scheduler's health page on any free port, not 8787, which
    # another cluster may hold. Started with the stop signals held: a stop that comes
    # while it starts waits until it can be shut down whole (cut in the middle, it
    # prints pages of tracebacks), and its threads and worker processes inherit them
    # blocked, so a Ctrl-C to the terminal's process group reaches this process only,
    # which closes the cluster, instead of each worker dying with a traceback.
    # multiprocessing unblocks SIGINT and SIGTERM in the thread that first starts its
    # resource tracker: started here, before the hold, so the workers keep them blocked.
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    with _quiet_dask():
        with _ffmpeg.signals_held():
            cluster = distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.CRITICAL,
                scheduler_kwargs={"dashboard_address": ":0"})
        try:
            with distributed.Client(cluster) as own:
                yield own
        finally:
            with _ffmpeg.signals_held():
                cluster.close()


def _client_of(distributed, scheduler):
    """A client of the scheduler at ``scheduler``, or an error once ``WORKER_TIMEOUT``
    passes: Dask's own connect timeout does not cover a listener that accepts and never
    answers (another program on the port), so the client is made in a thread waited
    for; one that never finishes is left to its daemon thread."""
    made = {}

    def connect():
        try:
            made["client"] = distributed.Client(scheduler, timeout=f"{WORKER_TIMEOUT}s")
        except BaseException as exc:  # raised below, in the caller's thread
            made["error"] = exc

    thread = threading.Thread(target=connect, daemon=True, name="fastviz-dask-connect")
    thread.start()
    thread.join(WORKER_TIMEOUT + 5)
    if "error" in made:
        raise made["error"]
    if "client" not in made:
        raise OSError(f"no answer in {WORKER_TIMEOUT} s (is it a Dask scheduler?)")
    return made["client"]


@contextlib.contextmanager
def _quiet_dask():
    """Dask's and asyncio's loggers silenced: a stopped or failed render says one
    ``error:`` line, not the tracebacks of a cluster closed in the middle of its work."""
    loggers = [logging.getLogger(name) for name in ("distributed", "asyncio", "tornado")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def segment_bounds(n_frames, n_segments):
    """Split frames ``[0, n_frames)`` into ``n_segments`` contiguous (first, stop) ranges.

    Lengths differ by at most one frame; never more segments than frames.

    Examples
    --------
    >>> segment_bounds(10, 3)
    [(0, 3), (3, 6), (6, 10)]
    """
    n_segments = max(1, min(int(n_segments), n_frames))
    cuts = [i * n_frames // n_segments for i in range(n_segments + 1)]
    return list(zip(cuts[:-1], cuts[1:]))


def count_segments(n_frames, fps, n_threads=1, n_segments=None, segment_seconds=None):
    """How many segments: ``n_segments``, or segments of ``segment_seconds``; by default
    ``SEGMENT_SECONDS`` long but at least one a worker thread.

    Examples
    --------
    >>> count_segments(900, 30, n_threads=4), count_segments(900, 30, segment_seconds=7)
    (4, 5)
    """
    if n_segments is not None and segment_seconds is not None:
        raise OptionError("give a number of segments or their length in seconds, not both")
    if n_segments is not None:
        if isinstance(n_segments, bool) or int(n_segments) != n_segments or n_segments < 1:
            raise OptionError(f"segments must be a whole number, at least 1, got {n_segments}")
        return int(n_segments)
    if segment_seconds is not None and not 0 < segment_seconds < math.inf:
        raise OptionError(f"segment_seconds must be a length > 0 seconds, got "
                          f"{segment_seconds}")
    seconds_frames = float((segment_seconds or SEGMENT_SECONDS) * as_fraction(fps))
    count = math.ceil(n_frames / max(seconds_frames, 1))
    return count if segment_seconds is not None else max(count, n_threads)


def check_split(client=None, scheduler=None, n_segments=None, segment_seconds=None,
                segment_dir=None):
    """Refuse a split that cannot work, before the analysis: what ``render_segments`` takes.

    Examples
    --------
    >>> check_split(scheduler="local:0")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fastviz._errors.OptionError: scheduler must be 'local', 'local:N' (N worker ... 'local:0'
    """
    _distributed()
    count_segments(1, 1, 1, n_segments, segment_seconds)
    if client is not None and scheduler is not None:
        raise OptionError("give a Dask client or a scheduler, not both")
    if scheduler is not None and "://" not in str(scheduler):
        _local_workers(str(scheduler))
    if segment_dir is not None:
        folder = Path(segment_dir)
        if not folder.is_dir():
            what = "is not a folder" if folder.exists() else "is missing"
            raise OutputError(f"segment folder {folder} {what}")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(f"segment folder {folder} is not writable")


def _local_workers(scheduler):
    """Worker processes of ``"local"`` or ``"local:N"``."""
    name, colon, count = scheduler.partition(":")
    if name != "local" or colon and not (count.isdigit() and int(count) > 0):
        raise OptionError(f"scheduler must be 'local', 'local:N' (N worker processes) or an "
                          f"address like tcp://host:8786, got {shown(scheduler)}")
    cores = os.cpu_count() or 1
    if count and int(count) > max(MIN_LOCAL_CAP, LOCAL_PER_CORE * cores):
        raise OptionError(f"scheduler must be local:N with N at most "
                          f"{max(MIN_LOCAL_CAP, LOCAL_PER_CORE * cores)} here ({cores} cores: "
                          f"each worker is a process of about 200 MB), got {shown(scheduler)}")
    return int(count) if count else cores



def encode_segment(renderer, values, spec, *, jobs=None, stopped=None):
    """Draw and encode one segment as ``spec`` (``OutputSpec.video_only``) says: video
    only, with the single-stream settings.

    Parameters
    ----------
    renderer : FrameRenderer
    values : ndarray, shape (n_frames, n_electrodes)
        The segment's frame values (``Plan.values(first, stop)``).
    spec : OutputSpec
        The segment's file (replaced if it exists) and settings.
    jobs : int, optional
        Render threads.
    stopped : callable, optional
        Asked about ten times a second; when it returns true the encode is abandoned.

    Returns
    -------
    Path of the segment.

    Examples
    --------
    ::

        encode_segment(plan.renderer, plan.values(0, 30), spec.video_only("0.mp4", 30))
    """
    with VideoWriter.from_spec(spec) as writer:
        blocks = iter_frames(renderer, lambda first, stop: values[first:stop], len(values),
                             jobs, spec.pixel_format)
        for frames in unless_cancelled(blocks, stopped, f"segment {spec.path}"):
            writer.write(frames)
    return spec.path


def _segment_task(renderer, values, spec, jobs, shared, stop_name):
    """Dask task: encode one segment; its bytes, or its path when ``shared`` (the spec's
    path is in a folder every worker sees).

    Bytes are encoded in the worker's own scratch folder, which Dask purges even after a
    killed worker, so workers need no shared disk.
    """
    from distributed import Event, get_worker

    stopped = Event(stop_name).is_set
    try:
        if shared:
            return str(encode_segment(renderer, values, spec, jobs=jobs, stopped=stopped))
        with tempfile.TemporaryDirectory(prefix="fastviz-",
                                         dir=get_worker().local_directory) as tmp:
            spec = spec.video_only(Path(tmp) / "segment.mp4", spec.n_frames)
            return encode_segment(renderer, values, spec, jobs=jobs,
                                  stopped=stopped).read_bytes()
    except Cancelled:  # nobody waits for the result: end quietly, not as a failed task
        return None


def _concat_list(counts, fps):
    """The concat demuxer's script for segments of ``counts`` frames, named
    ``00000.mp4``, ``00001.mp4``... beside it: each file with its exact duration.

    The script is line based, and ffmpeg resolves its names against the script's own
    URL, which a ``?`` or ``#`` in a folder's name cuts short; so the names are fixed
    and relative, in a scratch folder of links that is ffmpeg's working folder, and no
    folder name of the user's ever appears in it (a newline in one is harmless).

    The demuxer places file k at the sum of the durations before it, counted in whole
    microseconds. Each duration is written as the difference of the rounded start times,
    so segment k begins at round(first_k / fps) however many segments there are: half a
    microsecond from its frame's time, well under a tick of the video's time base.
    """
    lines, first = ["ffconcat version 1.0"], 0
    for index, n_frames in enumerate(counts):
        start = round(first * 1_000_000 / fps)
        stop = round((first + n_frames) * 1_000_000 / fps)
        lines += [f"file {index:05d}.mp4", f"duration {stop - start}us"]
        first += n_frames
    return "\n".join(lines) + "\n"


def encode_audio(spec, source, path):
    """Start ffmpeg encoding ``spec``'s sound, read from ``source``, to ``path`` in the
    format's container, as the join would.

    Run while the segments render, it takes the audio off the join's serial path (for
    an hour of sound, about a minute of AAC encoding). Returns ``(process, log, command)``.
    """
    inputs, outputs = audio_arguments(spec.audio, source, 0)
    return _ffmpeg.start([*inputs, *outputs, "-loglevel", "error", "-f", spec.row.muxer,
                          "-y", _ffmpeg.file_arg(path)])


def join_segments(segments, spec, *, encoded_audio=None):
    """Join segments by stream copy into ``spec``'s output and mux its sound in once, as
    ``VideoWriter`` does.

    Parameters
    ----------
    segments : list of (path, n_frames)
        Video-only files in order, each starting on a key frame, all of one encoder
        setting (``spec.video_only``).
    spec : OutputSpec
        The output: written beside it under a hidden name, then moved into place
        (``publish``: an output that appeared meanwhile is kept, and the video goes
        beside it under a visible name unless ``spec.overwrite``).
    encoded_audio : str or Path, optional
        The sound already encoded by ``encode_audio``: copied instead of encoded.

    Returns
    -------
    Path of the video.
    """
    output = spec.path
    video_in = ["-f", "concat", "-safe", "0", "-protocol_whitelist", "file"]
    audio_in, audio_out = [], []
    if encoded_audio is not None:
        audio_in = ["-i", _ffmpeg.file_arg(encoded_audio)]
        audio_out = ["-map", "1:a:0", "-c:a", "copy"]
    elif spec.audio is not None:
        audio_in, audio_out = audio_arguments(spec.audio, spec.audio.source, 1)
    scratch, tmp, proc = Path(tempfile.mkdtemp(prefix="fastviz-join-")), None, None
    try:
        try:
            for index, (path, _) in enumerate(segments):  # see _concat_list
                (scratch / f"{index:05d}.mp4").symlink_to(os.path.abspath(path))
            (scratch / "segments.txt").write_text(_concat_list([n for _, n in segments],
                                                               spec.fps))
        except OSError as exc:  # a full disk says only "[Errno 28]"
            raise OutputError(f"cannot write the list of segments of {output} in "
                              f"{scratch}: {exc.strerror}") from None
        tmp = temporary_file(output)
        proc, log, command = _ffmpeg.start(
            [*video_in, "-i", "file:segments.txt", *audio_in, "-map", "0:v:0",
             "-c:v", "copy", *audio_out, *tags(spec.metadata), *spec.row.muxer_settings,
             "-loglevel", "error", "-f", spec.row.muxer, "-y", _ffmpeg.file_arg(tmp)],
            cwd=scratch)
        _ffmpeg.finish(proc, log, command,
                       f"joining {len(segments)} segments into {output} failed")
        publish(tmp, output, spec.overwrite, spec.inputs)
    finally:
        with _ffmpeg.signals_held():  # the cleanup, whole
            if proc is not None:
                _ffmpeg.kill(proc)
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            shutil.rmtree(scratch, ignore_errors=True)
    return output


def _finished(futures, cancel, what):
    """The futures of ``futures`` (``distributed.as_completed``) as they finish, asking
    ``cancel()`` about ten times a second: ``Cancelled`` once it says so."""
    next_check = 0.0
    while not futures.is_empty():
        if cancel is not None and time.monotonic() >= next_check:
            if cancel():
                raise Cancelled(f"{what} was cancelled")
            next_check = time.monotonic() + CANCEL_CHECK_SECONDS
        if futures.has_ready() or cancel is None:
            yield next(futures)
        else:
            time.sleep(0.05)


def lost_worker(client):
    """Why a task's workers keep dying, in words: most often memory."""
    try:
        limits = {w.get("memory_limit") for w in client.scheduler_info()["workers"].values()}
        over = client.get_events("worker-restart-memory")
    except Exception:  # the scheduler may be going too
        limits, over = set(), ()
    limits = sorted(limit for limit in limits if limit)
    have = f" (these workers have {limits[0] / 1e6:,.0f} MB)" if limits else ""
    if over:
        return (f"its worker died each time, over its memory limit{have}, and was "
                "restarted by Dask; give the workers more memory, or render smaller "
                "(--size, --jobs)")
    return (f"its worker died each time: Dask restarts a worker that goes over its memory "
            f"limit{have}; give the workers more memory, or render smaller (--size, "
            "--jobs), or look for what killed them in their logs")


class Tasks:
    """The Dask tasks of one render or batch, written once for both: each submitted with
    the stop signals held (a task submitted is a task waited for), with the name of a
    stop ``Event`` as its last argument; ``finished`` yields them as they end, asking
    ``cancel`` ten times a second. Leaving the block before every task ended (a failure, a
    cancel, a stop signal) sets the event, waits for the running tasks to stop (they
    check it ten times a second; Dask cannot interrupt a task), so no encoder outlives the
    render and writes a file after the cleanup, then cancels what is left.
    """

    def __init__(self, client, token):
        from distributed import Event, as_completed

        self.client, self.token = client, token
        self.stop = Event(f"fastviz-stop-{token}", client=client)
        self.pending, self._futures = {}, as_completed()

    def submit(self, about, function, *args, key):
        """Submit ``function(*args, stop_name)`` as task ``fastviz-TOKEN-key``; ``about``
        is what ``finished`` yields with it."""
        with _ffmpeg.signals_held():
            future = self.client.submit(function, *args, self.stop.name,
                                        key=f"fastviz-{self.token}-{key}")
            self.pending[future] = about
            self._futures.add(future)
        return future

    def finished(self, cancel, what):
        """``(about, future)`` of each task as it ends; ``Cancelled`` naming ``what``."""
        for future in _finished(self._futures, cancel, what):
            yield self.pending.pop(future), future

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        from distributed import wait

        with contextlib.suppress(Exception):
            if self.pending:
                # Set for good: a task that starts later (queued, or rerun after its
                # worker died) must stop too. The scheduler keeps one small event per
                # stopped render.
                self.stop.set()
                wait(list(self.pending), timeout=STOP_TIMEOUT)
        with contextlib.suppress(Exception):
            self.client.cancel(list(self.pending))


def _run_segments(client, plan, spec, run, bounds, folder, shared, token):
    """Render ``bounds`` on ``client``; [(segment file, n_frames)] in order, in ``folder``
    (bytes sent back) or ``shared`` (written there by the workers)."""
    from distributed import KilledWorker

    # One render thread a task by default: Dask's worker threads are the parallelism
    # (and joblib allows no more in a nanny's daemonic worker process).
    jobs = run.jobs or 1
    segments, attempts = [None] * len(bounds), [0] * len(bounds)
    output = spec.output

    with Tasks(client, token) as tasks:
        def submit(index, scene):
            first, last = bounds[index]
            path = (folder / "segment.mp4" if shared is None
                    else shared / f"fastviz-{token}-{index:05d}.mp4")
            attempts[index] += 1
            tasks.submit(index, _segment_task, scene, plan.values(first, last),
                         spec.video_only(path, last - first), jobs, shared is not None,
                         key=f"{index:05d}-{attempts[index]}")

        scene = client.scatter(plan.renderer, broadcast=True)
        for index in range(len(bounds)):
            submit(index, scene)
        with progress_bar(plan.n_frames, output.name, run.progress) as bar:
            for index, future in tasks.finished(run.cancel, f"the render of {output}"):
                first, last = bounds[index]  # its bytes are released once written out
                try:
                    result = future.result()
                except CancelledError as exc:
                    # Scattered data dies with the last worker holding it (a lone worker
                    # restarted by its nanny): send the scene again, rerun the segment.
                    if attempts[index] >= SEGMENT_ATTEMPTS:
                        raise FastvizError(f"segment {index + 1} of {len(bounds)} was lost "
                                           f"{attempts[index]} times, "
                                           f"{lost_worker(client)} ({exc})") from exc
                    scene = client.scatter(plan.renderer, broadcast=True)
                    submit(index, scene)
                    continue
                except KilledWorker as exc:
                    raise FastvizError(f"segment {index + 1} of {len(bounds)} (frames {first}"
                                       f" to {last - 1}) failed: {lost_worker(client)} "
                                       f"({exc})") from exc
                except Exception as exc:
                    raise FastvizError(f"segment {index + 1} of {len(bounds)} (frames {first}"
                                       f" to {last - 1}) failed: {type(exc).__name__}: "
                                       f"{exc}") from exc
                if shared is None:
                    path = folder / f"{index:05d}.mp4"
                    try:
                        path.write_bytes(result)
                    except OSError as exc:  # a full disk says only "[Errno 28]"
                        raise OutputError(f"cannot write segment {index + 1} of "
                                          f"{len(bounds)} to {path}: {exc.strerror}") from None
                else:
                    path = Path(result)
                segments[index] = (path, last - first)
                bar.update(last - first)
    return segments


def render_segments(plan, spec, run, *, client=None, scheduler=None, n_segments=None,
                    segment_seconds=None, segment_dir=None):
    """Render ``plan`` as segments on Dask workers and join them into ``spec``'s output.

    Each task draws a contiguous range of frames with ``iter_frames`` and encodes it,
    video only, with the single-stream settings; the driver joins the segments by stream
    copy and muxes the audio in once. The frames are those of ``_execute.write_video``
    (at crf 0 the decoded frames are identical). Workers receive the renderer once each
    and per segment only its values. Segment files are removed on success and failure;
    nothing is left at the output on failure.

    Parameters
    ----------
    plan, spec : Plan, OutputSpec
        From ``_plan.resolve``: the analysis is done, here, once; the output checked
        (a format whose ``segments`` hold its codec).
    run : _execute.Run
        progress, cancel; jobs is the render threads of each task (default 1: Dask's
        worker threads and processes are the parallelism).
    client, scheduler
        See ``connect``; default a local cluster of one worker process a core.
    n_segments, segment_seconds : optional
        How to split; by default segments of ``SEGMENT_SECONDS``, at least one a
        worker thread.
    segment_dir : str or Path, optional
        A folder every worker and the driver see at this path: workers write the
        segments there instead of sending them back through Dask.

    Returns
    -------
    Path of the video.

    Examples
    --------
    ::

        plan, spec = resolve("song.wav", "song.mp4", Options(preset="ultrafast"))
        render_segments(plan, spec, Run(), scheduler="local:2", n_segments=8)
    """
    output = spec.path
    shared = None if segment_dir is None else Path(segment_dir).absolute()
    try:
        folder = Path(tempfile.mkdtemp(prefix=".fastviz-segments-", dir=output.parent))
    except OSError as exc:
        raise OutputError(f"cannot write beside {output}: {exc.strerror}") from None
    token, audio_job = uuid.uuid4().hex[:16], None
    try:
        with _ffmpeg.reaper():  # under the owners' own cleanup
            audio, source = spec.audio, None
            if audio is not None:  # samples: the muxer reads them from a scratch WAV
                source = audio.source or _write_wav(folder / "audio.wav", audio)
            with connect(client, scheduler) as dask_client:
                _wait_for_workers(dask_client)
                n_threads = sum(dask_client.nthreads().values())
                bounds = segment_bounds(plan.n_frames, count_segments(
                    plan.n_frames, plan.fps, n_threads, n_segments, segment_seconds))
                if audio is not None:  # encoded here while the workers draw
                    sound = folder / "audio.m4a"
                    audio_job = encode_audio(spec, source, sound)
                segments = _run_segments(dask_client, plan, spec, run, bounds, folder,
                                         shared, token)
            if audio_job is not None:
                _ffmpeg.finish(*audio_job, f"encoding the sound of {output} failed")
            return join_segments(segments, spec,
                                 encoded_audio=None if audio is None else sound)
    finally:
        with _ffmpeg.signals_held():  # the cleanup, whole: a stop now waits for it
            if audio_job is not None:
                _ffmpeg.kill(audio_job[0])
            shutil.rmtree(folder, ignore_errors=True)
            if shared is not None:  # the segments, and what a killed worker half wrote
                for leftover in shared.glob(f"*fastviz-{token}-*"):
                    leftover.unlink(missing_ok=True)


def _wait_for_workers(client):
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except TimeoutError:
        raise FastvizError(f"the Dask scheduler {client.scheduler.address} has had no "
                           f"worker for {WORKER_TIMEOUT} s") from None


def _write_wav(path, audio):
    from scipy.io import wavfile

    try:
        wavfile.write(path, audio.rate, as_channels_first(audio.samples).T.copy())
    except OSError as exc:
        raise OutputError(f"cannot write the sound to the scratch file {path}: "
                          f"{exc.strerror}") from None
    return path
