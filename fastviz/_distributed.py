"""One render split into segments on Dask workers, joined by stream copy, the audio muxed once.

    plan (driver) ──renderer scattered once, each segment's values──▶ Dask tasks
    task: iter_frames ──▶ VideoWriter, video only ──▶ segment MP4 (bytes back, or a shared folder)
    driver: concat demuxer, stream copy, + the audio encoded once ──▶ MP4

Every segment is a fresh encode with the single-stream settings, so it opens on a key frame
and the join copies it untouched. The audio is never split: AAC primes each stream with
silence, which would click at every seam. Dask is optional (``.[dask]``) and is
imported only inside the functions that use it.
"""
import contextlib
import glob
import logging
import math
import os
import shlex
import shutil
import tempfile
import time
import uuid
from concurrent.futures import CancelledError
from pathlib import Path
from typing import NamedTuple

from . import _ffmpeg
from ._audio import AudioStream, as_channels_first, check_rate
from ._encode import (
    VideoWriter,
    as_fraction,
    audio_arguments,
    check_output,
    downmix_note,
    publish,
    read_source_tag,
    source_tag,
    temporary_file,
)
from ._errors import (
    Cancelled,
    EncodeError,
    FastvizError,
    FastvizWarning,
    InputError,
    OptionError,
    OutputError,
    shown,
)
from ._progress import progress_bar
from ._render import (
    CANCEL_CHECK_SECONDS,
    iter_frames,
    options_from,
    output_options,
    plan_render,
    render,
    unless_cancelled,
    write_video,
)

SEGMENT_SECONDS = 30  # default segment length: a lost worker costs at most this much video
SEGMENT_ATTEMPTS = 3  # a segment whose scene was lost with its workers is sent again
STOP_TIMEOUT = 10  # seconds the driver waits for running segments to stop after a failure
WORKER_TIMEOUT = 30  # seconds to wait for a scheduler's first worker
# What a folder's audio files end with; a file named on its own is taken whatever its name.
AUDIO_EXTENSIONS = frozenset({".aac", ".aif", ".aifc", ".aiff", ".ape", ".au", ".caf", ".flac",
                              ".m4a", ".mka", ".mp3", ".oga", ".ogg", ".opus", ".wav", ".wma",
                              ".wv"})


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
            own = distributed.Client(scheduler)
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
    return int(count) if count else os.cpu_count() or 1


def encode_segment(renderer, values, fps, path, *, preset="veryfast", crf=20, jobs=None,
                   stopped=None):
    """Draw and encode one segment, video only, as the single-stream path encodes it.

    Parameters
    ----------
    renderer : FrameRenderer
    values : ndarray, shape (n_frames, n_electrodes)
        The segment's frame values (``Plan.values(first, stop)``).
    fps : number, str or Fraction
    path : str or Path
        The MP4 to write (replaced if it exists).
    preset, crf, jobs : as in ``Options``.
    stopped : callable, optional
        Asked about twice a second; when it returns true the encode is abandoned.

    Returns
    -------
    Path of the segment.

    Examples
    --------
    ::

        encode_segment(plan.renderer, plan.values(0, 30), plan.fps, "part-0.mp4")
    """
    writer = VideoWriter(path, renderer.nv12_size, fps, pixel_format="nv12", preset=preset,
                         crf=crf, overwrite=True, n_frames=len(values))
    with writer:
        blocks = iter_frames(renderer, lambda first, stop: values[first:stop], len(values),
                             jobs)
        for frames in unless_cancelled(blocks, stopped, f"segment {path}"):
            writer.write(frames)
    return Path(path)


def _segment_task(renderer, values, fps, settings, stop_name, path=None):
    """Dask task: encode one segment; its bytes, or its path when ``path`` (shared) is given.

    Bytes are encoded in the worker's own scratch folder, which Dask purges even after a
    killed worker, so workers need no shared disk.
    """
    from distributed import Event, get_worker

    stopped = Event(stop_name).is_set
    try:
        if path is not None:
            return str(encode_segment(renderer, values, fps, path, stopped=stopped,
                                      **settings))
        with tempfile.TemporaryDirectory(prefix="fastviz-",
                                         dir=get_worker().local_directory) as tmp:
            segment = encode_segment(renderer, values, fps, Path(tmp) / "segment.mp4",
                                     stopped=stopped, **settings)
            return segment.read_bytes()
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


def _audio_arguments(audio, n_frames, fps, start, duration, input_index):
    """``audio_arguments`` for ``audio`` under ``n_frames`` frames: cut at the last one."""
    with AudioStream(audio) as stream:
        channels, mask = stream.channels, stream.channel_mask
    end = float(n_frames / as_fraction(fps))
    duration = end if duration is None else min(float(duration), end)
    return audio_arguments(audio, channels, mask, start, duration, input_index)


def encode_audio(audio, n_frames, fps, path, *, audio_start=None, audio_duration=None):
    """Start ffmpeg encoding the video's sound to ``path`` (AAC in MP4), as the join would.

    Run while the segments render, it takes the audio off the join's serial path (for
    an hour of sound, about a minute of AAC encoding). Returns ``(process, log, command)``.
    """
    inputs, outputs = _audio_arguments(audio, n_frames, fps, audio_start, audio_duration, 0)
    return _ffmpeg.start([*inputs, *outputs, "-loglevel", "error", "-f", "mp4", "-y",
                          _ffmpeg.file_arg(path)])


def join_segments(segments, output, fps, *, audio=None, audio_start=None, audio_duration=None,
                  overwrite=False, encoded_audio=None, metadata=None, inputs=()):
    """Join MP4 segments by stream copy and mux ``audio`` in once, as ``VideoWriter`` does.

    Parameters
    ----------
    segments : list of (path, n_frames)
        Video-only MP4s in order, each starting on a key frame, all of one encoder setting.
    output : str or Path
        The MP4 to write; written beside it under a hidden name, then moved into place.
    fps : number, str or Fraction
    audio : str or Path, optional
        Audio file, read from ``audio_start`` for ``audio_duration`` seconds and cut at
        the last frame.
    overwrite : bool
        Replace an existing ``output``. Otherwise an existing one is kept, even one that
        appeared while the segments rendered: the video then goes beside it under a
        visible name, and the ``OutputError`` says where (as ``VideoWriter`` does).
    encoded_audio : str or Path, optional
        The sound already encoded by ``encode_audio``: copied instead of ``audio``.
    metadata : dict, optional
        Tags for the file, as ``VideoWriter``'s.
    inputs : sequence of paths, optional
        Files the video was made from (besides ``audio``): ``output`` may be none.

    Returns
    -------
    Path of the video.

    Examples
    --------
    ::

        join_segments([("a.mp4", 300), ("b.mp4", 298)], "out.mp4", 30, audio="song.wav")
    """
    inputs = (*inputs, audio)
    output, fps = check_output(output, True, inputs), as_fraction(fps)  # see publish
    video_in = ["-f", "concat", "-safe", "0", "-protocol_whitelist", "file"]
    audio_in, audio_out = [], []
    if encoded_audio is not None:
        audio_in = ["-i", _ffmpeg.file_arg(encoded_audio)]
        audio_out = ["-map", "1:a:0", "-c:a", "copy"]
    elif audio is not None:
        audio_in, audio_out = _audio_arguments(audio, sum(n for _, n in segments), fps,
                                               audio_start, audio_duration, 1)
    scratch, tmp, proc = Path(tempfile.mkdtemp(prefix="fastviz-join-")), None, None
    try:
        try:
            for index, (path, _) in enumerate(segments):  # see _concat_list
                (scratch / f"{index:05d}.mp4").symlink_to(os.path.abspath(path))
            (scratch / "segments.txt").write_text(_concat_list([n for _, n in segments],
                                                               fps))
        except OSError as exc:  # a full disk says only "[Errno 28]"
            raise OutputError(f"cannot write the list of segments of {output} in "
                              f"{scratch}: {exc.strerror}") from None
        tmp = temporary_file(output)
        proc, log, command = _ffmpeg.start(
            [*video_in, "-i", "file:segments.txt", *audio_in, "-map", "0:v:0",
             "-c:v", "copy", *audio_out,
             *[a for k, v in (metadata or {}).items() for a in ("-metadata", f"{k}={v}")],
             "-movflags", "+faststart", "-loglevel", "error",
             "-f", "mp4", "-y", _ffmpeg.file_arg(tmp)], cwd=scratch)
        if proc.wait() != 0:
            raise EncodeError(f"joining {len(segments)} segments into {output} failed\n"
                              f"command: {shlex.join(command)}\nffmpeg said:\n{log.tail()}")
        publish(tmp, output, overwrite, inputs)
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
    ``cancel()`` about twice a second: ``Cancelled`` once it says so."""
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


def _lost_worker(client):
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


def _run_segments(client, plan, bounds, options, folder, shared, token, desc, cancel=None):
    """Render ``bounds`` on ``client``; [(segment file, n_frames)] in order, in ``folder``
    (bytes sent back) or ``shared`` (written there by the workers)."""
    from distributed import Event, KilledWorker, as_completed

    stop = Event(f"fastviz-stop-{token}", client=client)
    # One render thread a task by default: Dask's worker threads are the parallelism
    # (and joblib allows no more in a nanny's daemonic worker process).
    settings = dict(preset=options.preset, crf=options.crf, jobs=options.jobs or 1)
    pending, segments, finished = {}, [None] * len(bounds), False
    attempts = [0] * len(bounds)

    def submit(index, scene):
        first, last = bounds[index]
        path = None if shared is None else str(shared / f"fastviz-{token}-{index:05d}.mp4")
        attempts[index] += 1
        values = plan.values(first, last)
        with _ffmpeg.signals_held():  # a task submitted is a task waited for
            future = client.submit(_segment_task, scene, values, plan.fps, settings,
                                   stop.name, path,
                                   key=f"fastviz-{token}-{index:05d}-{attempts[index]}")
            pending[future] = index
        return future

    try:
        scene = client.scatter(plan.renderer, broadcast=True)
        futures = as_completed([submit(index, scene) for index in range(len(bounds))])
        with progress_bar(plan.n_frames, desc, options.progress) as bar:
            for future in _finished(futures, cancel, f"the render of {desc}"):
                index = pending.pop(future)  # its bytes are released once written out
                first, last = bounds[index]
                try:
                    result = future.result()
                except CancelledError as exc:
                    # Scattered data dies with the last worker holding it (a lone worker
                    # restarted by its nanny): send the scene again, rerun the segment.
                    if attempts[index] >= SEGMENT_ATTEMPTS:
                        raise FastvizError(f"segment {index + 1} of {len(bounds)} was lost "
                                           f"{attempts[index]} times, "
                                           f"{_lost_worker(client)} ({exc})") from exc
                    scene = client.scatter(plan.renderer, broadcast=True)
                    futures.add(submit(index, scene))
                    continue
                except KilledWorker as exc:
                    raise FastvizError(f"segment {index + 1} of {len(bounds)} (frames {first}"
                                       f" to {last - 1}) failed: {_lost_worker(client)} "
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
        finished = True
    finally:
        _stop(client, stop, pending, finished)
    return segments


def _stop(client, stop, pending, finished):
    """Dask cannot interrupt a running task: unless ``finished``, tell the tasks to stop
    (they check ``stop`` twice a second) and wait for them, so no encoder outlives the
    render and writes a file after the cleanup; then cancel what is left."""
    from distributed import wait

    with contextlib.suppress(Exception):
        if not finished:
            # Set for good: a task that starts later (queued, or rerun after its worker
            # died) must stop too. The scheduler keeps one small event per stopped render.
            stop.set()
            wait(list(pending), timeout=STOP_TIMEOUT)
    with contextlib.suppress(Exception):
        client.cancel(list(pending))


def render_segments(plan, output, options, *, client=None, scheduler=None, n_segments=None,
                    segment_seconds=None, segment_dir=None, cancel=None):
    """Render ``plan`` as segments on Dask workers and join them into one MP4.

    Each task draws a contiguous range of frames with ``iter_frames`` and encodes it,
    video only, with the single-stream settings; the driver joins the segments by stream
    copy and muxes the audio in once. The frames are those of ``write_video`` (at crf 0
    the decoded frames are identical). Workers receive the renderer once each and per
    segment only its values. Segment files are removed on success and failure; nothing
    is left at ``output`` on failure.

    Parameters
    ----------
    plan : Plan
        From ``plan_render``: the analysis is done, here, once.
    output : str or Path
        The MP4 to write.
    options : Options
        preset, crf, overwrite, progress; jobs is the render threads of each task
        (default 1: Dask's worker threads and processes are the parallelism).
    client, scheduler
        See ``connect``; default a local cluster of one worker process a core.
    n_segments, segment_seconds : optional
        How to split; by default segments of ``SEGMENT_SECONDS``, at least one a
        worker thread.
    segment_dir : str or Path, optional
        A folder every worker and the driver see at this path: workers write the
        segments there instead of sending them back through Dask.
    cancel : callable, optional
        Asked about twice a second while the segments render; when it returns true,
        the segments are told to stop, nothing is written and ``Cancelled`` is raised.

    Returns
    -------
    Path of the video.

    Examples
    --------
    ::

        opts = Options(preset="ultrafast")
        plan = plan_render("song.wav", opts)
        render_segments(plan, "song.mp4", opts, scheduler="local:2", n_segments=8)
    """
    output = check_output(output, options.overwrite, plan.inputs)
    check_split(client, scheduler, n_segments, segment_seconds, segment_dir)
    shared = None if segment_dir is None else Path(segment_dir).absolute()
    try:
        folder = Path(tempfile.mkdtemp(prefix=".fastviz-segments-", dir=output.parent))
    except OSError as exc:
        raise OutputError(f"cannot write beside {output}: {exc.strerror}") from None
    token, audio_job = uuid.uuid4().hex[:16], None
    try:
        with _ffmpeg.reaper():  # under the owners' own cleanup
            audio = plan.audio
            if isinstance(audio, tuple):  # samples: the muxer reads them from a scratch WAV
                audio = _write_wav(folder / "audio.wav", *audio)
            elif audio is not None:
                with AudioStream(audio) as stream:  # fails now, not after the render
                    downmix_note(audio, stream.channels)
            with connect(client, scheduler) as dask_client:
                _wait_for_workers(dask_client)
                n_threads = sum(dask_client.nthreads().values())
                bounds = segment_bounds(plan.n_frames, count_segments(
                    plan.n_frames, plan.fps, n_threads, n_segments, segment_seconds))
                if audio is not None:  # encoded here while the workers draw
                    sound = folder / "audio.m4a"
                    audio_job = encode_audio(audio, plan.n_frames, plan.fps, sound,
                                             audio_start=plan.audio_start,
                                             audio_duration=plan.audio_duration)
                segments = _run_segments(dask_client, plan, bounds, options, folder, shared,
                                         token, output.name, cancel)
            if audio_job is not None:
                proc, log, command = audio_job
                if proc.wait() != 0:
                    raise EncodeError(f"encoding the sound of {output} failed\ncommand: "
                                      f"{shlex.join(command)}\nffmpeg said:\n{log.tail()}")
            return join_segments(segments, output, plan.fps, overwrite=options.overwrite,
                                 encoded_audio=None if audio is None else sound,
                                 metadata=plan.metadata(), inputs=plan.inputs)
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


def _write_wav(path, samples, rate):
    from scipy.io import wavfile

    rate = check_rate(rate)
    try:
        wavfile.write(path, rate, as_channels_first(samples).T.copy())
    except OSError as exc:
        raise OutputError(f"cannot write the sound to the scratch file {path}: "
                          f"{exc.strerror}") from None
    return path


def expand_inputs(items):
    """The audio files that ``items`` name, in order, each once.

    A folder gives the audio files in it (not in its subfolders), sorted by name: those
    whose extension is in ``AUDIO_EXTENSIONS``, hidden files left out. A glob pattern
    (``*``, ``?``, ``[``; ``**`` spans folders) gives every file it matches, sorted: the
    pattern says which. Any other item is taken as a file as it is, even a missing one
    (the render then reports it). A folder or pattern with nothing in it is an error.

    Examples
    --------
    >>> [str(p) for p in expand_inputs(["a.wav", "b.flac", "a.wav"])]
    ['a.wav', 'b.flac']
    """
    found = {}
    for item in items:
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS
                           and not p.name.startswith(".") and p.is_file())
            if not files:
                raise InputError(f"no audio files in folder {path} (looked for "
                                 f"{', '.join(sorted(AUDIO_EXTENSIONS))})")
        elif any(c in str(item) for c in "*?[") and not path.exists():
            files = sorted(Path(p) for p in glob.glob(str(item), recursive=True)
                           if os.path.isfile(p))
            if not files:
                raise InputError(f"no file matches {item}")
        else:
            files = [path]
        for file in files:
            found.setdefault(os.path.realpath(file), file)
    return list(found.values())


def output_paths(inputs, outdir):
    """``outdir/NAME.mp4`` for each input, NAME its stem; never two alike.

    The first input with a stem gets ``STEM.mp4``; a later one with the same stem (another
    folder, another extension) gets ``STEM-2.mp4``, ``STEM-3.mp4``, ... in input order,
    skipping any name that is another input's own stem. Names are compared ignoring case,
    as macOS and Windows do. The same inputs give the same names, so a rerun finds them.

    Examples
    --------
    >>> [p.name for p in output_paths(["a/song.wav", "b/song.wav", "song-2.flac"], "out")]
    ['song.mp4', 'song-3.mp4', 'song-2.mp4']
    """
    stems = [Path(p).stem for p in inputs]
    reserved, used, names = {s.casefold() for s in stems}, set(), []
    for stem in stems:
        name, number = stem, 1
        while name.casefold() in used or (number > 1 and name.casefold() in reserved):
            number += 1
            name = f"{stem}-{number}"
        used.add(name.casefold())
        names.append(Path(outdir) / f"{name}.mp4")
    return names


class Outcome(NamedTuple):
    """What became of one input of a batch."""

    input: Path
    output: Path  # None when the input named no file (an empty folder, a glob)
    error: Exception = None  # what stopped it, or None
    skipped: bool = False  # its video was there already, from this input


def _failed(audio, output, exc):
    """The Outcome of a failed input, its error kept without its traceback and chained
    exceptions: they hold every frame of the failed render (its scene, its arrays), and
    a batch of thousands of bad files would keep them all."""
    exc.__traceback__ = exc.__cause__ = exc.__context__ = None
    return Outcome(audio, output, exc)


def _render_file(audio, output, options, stop_name, scratch_dir):
    """Dask task: one file's whole render (as ``render``), abandoned when the batch is
    stopped, its temporary file in the batch's ``scratch_dir``.

    Returns the notes (``FastvizWarning`` messages) it raised, for the driver to raise
    again: a worker's warnings would otherwise stay in its own log."""
    import warnings

    from distributed import Event

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FastvizWarning)
        try:
            opts = output_options("render", output, options, audio)
            write_video(plan_render(audio, opts), output, opts, Event(stop_name).is_set,
                        scratch_dir)
        except Cancelled:  # nobody waits for the result: end quietly, not as a failure
            return []
    return [str(w.message) for w in caught if issubclass(w.category, FastvizWarning)]


def render_batch(audios, outdir, *, client=None, scheduler=None, overwrite=False,
                 progress=True, on_outcome=None, cancel=None, **options):
    """Render many audio files, each to ``outdir/NAME.mp4``, and report each outcome.

    Parameters
    ----------
    audios : list of str or Path
        Files, folders and glob patterns (see ``expand_inputs``).
    outdir : str or Path
        Folder of the videos, made if missing; names as ``output_paths`` gives them.
    client, scheduler : optional
        Render the files in parallel on Dask, one task a file (see ``connect``); then
        ``outdir`` and the inputs must be at the same paths on the workers. Without
        either, the files are rendered one after another here.
    overwrite : bool
        Replace existing videos. By default a video already there is skipped when
        fastviz made it from this very input (its ``source_tag``), so a rerun resumes;
        any other file there is kept and reported. No video may replace an input.
    progress : bool
        One progress bar, of the files rendered, on stderr.
    on_outcome : callable, optional
        Called with each ``Outcome`` as it is known (refused or skipped before
        rendering, then rendered or failed), in the order they finish.
    cancel : callable, optional
        Asked about twice a second; when it returns true the batch stops (the renders
        running are told to stop and waited for) and ``Cancelled`` is raised. The
        videos finished before are kept.
    **options
        As for ``render``.

    Returns
    -------
    list of Outcome
        ``(input, output, error, skipped)`` in input order; ``error`` is the exception
        that stopped that input (a folder or pattern with no audio is one too).

    Examples
    --------
    ::

        outcomes = render_batch(["talks/", "extra/*.flac"], "videos", fps=25)
        failed = [(o.input, o.error) for o in outcomes if o.error]
    """
    options = dict(options, overwrite=overwrite)
    options_from("render_batch", options)  # bad options stop the batch now, not file by file
    if options.get("format") not in (None, "mp4") or options.get("transparent"):
        raise OptionError(f"a batch writes MP4 videos, {Path(outdir) / 'NAME.mp4'}; "
                          f"format {options.get('format') or 'mp4'}"
                          f"{' and transparent' if options.get('transparent') else ''} "
                          "need one render at a time")
    options["progress"] = False
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise OutputError(f"output folder {outdir} is a file")
    outcomes = {}  # input -> Outcome, in input order
    for item in audios:  # an empty folder or pattern is one failed item, not the batch
        try:
            outcomes.update((p, None) for p in expand_inputs([item]) if p not in outcomes)
        except InputError as exc:
            outcomes[Path(item)] = _failed(Path(item), None, exc)
    inputs = [p for p, outcome in outcomes.items() if outcome is None]
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make output folder {outdir}: {exc.strerror}") from None
    todo = []
    for audio, output in zip(inputs, output_paths(inputs, outdir)):
        outcomes[audio] = _before_rendering(audio, output, inputs, overwrite)
        if outcomes[audio] is None:
            outcomes[audio] = Outcome(audio, output)  # rendered, unless it fails
            todo.append((audio, output))

    def done(outcome):
        outcomes[outcome.input] = outcome
        if on_outcome is not None:
            on_outcome(outcome)

    for outcome in list(outcomes.values()):
        if outcome.error is not None or outcome.skipped:
            done(outcome)
    if not todo:  # nothing to render: no progress to show
        return list(outcomes.values())
    with progress_bar(len(todo), outdir.name or "batch", progress, unit="file") as bar:
        if client is None and scheduler is None:
            for audio, output in todo:
                if cancel is not None and cancel():
                    raise Cancelled(f"the batch into {outdir} was cancelled")
                try:
                    render(audio, output, cancel=cancel, **options)
                except Cancelled:
                    raise
                except Exception as exc:
                    done(_failed(audio, output, exc))
                else:
                    done(outcomes[audio])
                bar.update(1)
        else:
            _render_batch_on(client, scheduler, todo, options, done, outcomes, bar, cancel,
                             outdir)
    return list(outcomes.values())


def _before_rendering(audio, output, inputs, overwrite):
    """The outcome of an input decided before rendering (refused, skipped), or None.

    What is at the output is looked at before anything reads it: a folder, a pipe or a
    device there is refused (no ffmpeg is run on a FIFO to read its tag), and so is an
    input, even with ``overwrite``.
    """
    try:
        check_output(output, True, inputs)
    except OutputError as exc:
        return _failed(audio, output, exc)
    if overwrite or not os.path.lexists(output):
        return None
    if read_source_tag(output) == source_tag(audio):
        return Outcome(audio, output, skipped=True)
    return Outcome(audio, output, OutputError(
        f"output {output} exists and is not fastviz's video of {audio}; pass "
        "overwrite=True to replace it"))


def _render_batch_on(client, scheduler, todo, options, done, outcomes, bar, cancel,
                     outdir):
    """The batch's renders as Dask tasks. Their temporary files go in a hidden folder of
    the batch's own in ``outdir``, which the driver removes at the end: a worker killed
    mid-render (``kill -9``, out of memory) leaves its ``.part`` file there, not beside
    the videos, even when Dask reruns its render elsewhere and the batch succeeds."""
    token = uuid.uuid4().hex[:16]
    try:
        scratch = Path(tempfile.mkdtemp(prefix=f".fastviz-batch-{token}-", dir=outdir))
    except OSError as exc:
        raise OutputError(f"cannot write in {outdir}: {exc.strerror}") from None
    try:
        with connect(client, scheduler) as dask_client:
            _run_batch(dask_client, token, todo, options, done, outcomes, bar, cancel,
                       scratch.absolute())
    finally:
        with _ffmpeg.signals_held():
            shutil.rmtree(scratch, ignore_errors=True)


def _run_batch(client, token, todo, options, done, outcomes, bar, cancel, scratch):
    import warnings

    from distributed import Event, as_completed

    stop = Event(f"fastviz-stop-{token}", client=client)
    options = dict(options, jobs=options.get("jobs") or 1)  # as for segments
    pending, finished = {}, False
    try:
        for a, o in todo:
            with _ffmpeg.signals_held():  # a task submitted is a task waited for
                future = client.submit(_render_file, str(a.absolute()), str(o.absolute()),
                                       options, stop.name, str(scratch),
                                       key=f"fastviz-{token}-{o.name}")
                pending[future] = (a, o)
        for future in _finished(as_completed(list(pending)), cancel, "the batch"):
            audio, output = pending.pop(future)
            try:
                notes = future.result()
            except Exception as exc:
                done(_failed(audio, output, exc))
            else:
                for note in notes:  # the worker's notes, here where they are shown
                    warnings.warn(note, FastvizWarning, stacklevel=2)
                done(outcomes[audio])
            bar.update(1)
        finished = True
    finally:
        _stop(client, stop, pending, finished)
