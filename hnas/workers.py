"""Independent jobs in spawned, single-threaded CPU processes that stop with their parent.

``hnas bench build`` (stand-alone runs) and ``hnas bench report`` (supernet runs) train many
small networks whose results do not depend on each other. On a CPU, several single-threaded
processes get more done than one multi-threaded process, and Paddle's default of one
intra-op thread (``OMP_NUM_THREADS`` unset) is what every worker uses, so a job gives the
same result in a worker as in a serial run with the default environment.

:func:`run_in_processes` owns the pool: it starts the workers with stop signals held (see
:mod:`hnas.termination`), yields results as jobs finish, and on any error, Ctrl-C, SIGTERM or
early close drops the queued jobs and terminates the running ones, whose results would be
lost anyway, instead of leaving them to train for minutes.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import os
from typing import Any, Callable, Iterator, Sequence, TypeVar

from hnas.logs import configure_logging, quiet_paddle_notices
from hnas.termination import leave_signals_to_parent, signals_held_while_spawning

Result = TypeVar("Result")


def _start_worker(log_level: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """Initializer of every worker: quiet imports, signals left to the parent, then ``initializer``."""
    quiet_paddle_notices()
    import paddle

    leave_signals_to_parent()  # after the import: Paddle installs its own handlers
    configure_logging(log_level)  # replaces the root handler Paddle adds on import
    paddle.set_device("cpu")
    if initializer is not None:
        initializer(*initargs)


def run_in_processes(function: Callable[..., Result], jobs: Sequence[tuple[Any, ...]], workers: int, *,
                     initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
                     log_level: int = logging.WARNING) -> Iterator[Result]:
    """Yield ``function(*job)`` for every job, in the order the jobs finish.

    Args:
        function: a module-level function (it is pickled by name into the workers).
        jobs: argument tuples, each picklable.
        workers: number of processes (at least 1; one process per job at most).
        initializer: run once in each worker after the common set-up (e.g. to load data).
        initargs: arguments of ``initializer``.
        log_level: the workers' logging level, in the parent's format (``WARNING`` keeps their
            info lines from repeating the parent's).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if not jobs:
        return
    context = multiprocessing.get_context("spawn")
    others = set(multiprocessing.active_children())
    threads = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"  # read by each worker's Paddle at start-up
    pool = concurrent.futures.ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context,
                                                  initializer=_start_worker,
                                                  initargs=(log_level, initializer, initargs))
    with pool:
        try:
            with signals_held_while_spawning():  # the workers are started by the first submits
                futures = [pool.submit(function, *job) for job in jobs]
            _restore_threads(threads)
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        except BaseException:  # an error, Ctrl-C, SIGTERM or the caller closing the generator
            _restore_threads(threads)
            # Drop the queued jobs through the executor (cancelling their futures here instead
            # makes its manager thread fail on them), then stop the running ones.
            pool.shutdown(wait=False, cancel_futures=True)
            for process in set(multiprocessing.active_children()) - others:  # this pool's workers
                process.terminate()
            raise


def _restore_threads(value: str | None) -> None:
    if value is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = value


def run_commands(commands: Sequence[Sequence[str]], logs: Sequence[str | os.PathLike[str]],
                 environments: Sequence[dict[str, str]]) -> list[int]:
    """Run each command as a child process, its output appended to its log; wait for all.

    Unlike :func:`run_in_processes` each job is a whole program (``python -m hnas eval --shard
    i/N``), so a job that dies (``kill -9``) is known by its index, and the others finish.
    On Ctrl-C, SIGTERM or any error the children are terminated before the error propagates.

    Returns:
        The exit codes in the order of ``commands``; a child killed by signal ``S`` gives
        ``128 + S`` (as a shell reports it).
    """
    import subprocess

    children: list[subprocess.Popen[bytes]] = []
    try:
        for command, log, environment in zip(commands, logs, environments):
            with open(log, "ab") as stream:  # the child keeps its own descriptor
                children.append(subprocess.Popen(list(command), stdout=stream, stderr=subprocess.STDOUT,
                                                 env=environment))
        codes = [child.wait() for child in children]
    except BaseException:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            child.wait()
        raise
    return [128 - code if code < 0 else code for code in codes]
