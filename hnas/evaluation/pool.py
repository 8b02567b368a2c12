"""``hnas eval --workers N``: the shards of one arch file evaluated by N processes on one machine, then merged.

Worker ``i`` runs ``hnas eval JSON --shard i/N`` with the same options, its output in
``<out stem>_part{i}of{N}.log`` next to ``--out``. CPU workers share the cores
(``OMP_NUM_THREADS`` = cores / N); with ``CUDA_VISIBLE_DEVICES`` set, worker ``i`` gets device
``i mod len(devices)``. Each shard resumes from its own progress file, so running the same
command again after a crash or a ``kill -9`` continues every shard where it stopped (keep the
worker count). A run whose shards are still locked by the workers of an earlier run is refused
before any log is touched. When every worker succeeded, the part files are merged into ``--out``.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from hnas.errors import HnasError
from hnas.evaluation.progress import progress_path
from hnas.evaluation.request import EvalRequest
from hnas.evaluation.shards import Shard, merge_files, part_path
from hnas.search_spaces.base import SearchSpace
from hnas.workers import run_commands

#: Environment variable naming the command to run again (``eval_supernet.sh`` sets its own).
RERUN_VARIABLE = "HNAS_RERUN"


@dataclass(frozen=True)
class WorkerFailure:
    """A shard whose worker did not finish."""

    shard: Shard
    code: int
    log: Path

    def describe(self) -> str:
        how = f"exit {self.code}"
        if self.code > 128:
            try:
                how += f", killed by {signal.Signals(self.code - 128).name}"
            except ValueError:
                pass
        return f"shard {self.shard} stopped ({how}; log {self.log})"


def log_path(out: Path, shard: Shard) -> Path:
    return part_path(out, shard).with_suffix(".log")


def busy_progress_files(out: Path) -> list[Path]:
    """The shard progress files of ``out`` that a running worker holds locked."""
    import glob

    pattern = os.path.join(glob.escape(str(out.parent)), glob.escape(out.stem) + "_part*of*.progress.jsonl")
    busy = []
    for path in sorted(glob.glob(pattern)):
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            busy.append(Path(path))
        finally:
            os.close(fd)
    return busy


def refuse_busy(out: Path) -> None:
    """Raise HnasError if workers of an earlier run still hold shards of ``out`` (nothing touched)."""
    busy = busy_progress_files(out)
    if busy:
        raise HnasError(f"workers of an earlier run are still evaluating (locked: {', '.join(map(str, busy))}); "
                        "wait for them or stop them, then run this command again")


def worker_environments(workers: int, environ: Mapping[str, str]) -> list[dict[str, str]]:
    """Each worker's environment: its GPU, or its share of the CPU cores."""
    devices = [d for d in environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    if devices == ["-1"]:
        devices = []
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    environments = []
    for index in range(workers):
        environment = dict(environ)
        if devices:
            environment["CUDA_VISIBLE_DEVICES"] = devices[index % len(devices)]
        else:
            environment.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, CPU_NUM="1")
        environments.append(environment)
    return environments


def worker_argv(argv: Sequence[str]) -> list[str]:
    """The command line of a worker: ``argv`` without ``--workers N`` and ``--dry-run``."""
    kept: list[str] = []
    skip = False
    for item in argv:
        if skip:
            skip = False
        elif item == "--workers":
            skip = True
        elif not item.startswith("--workers=") and item != "--dry-run":
            kept.append(item)
    return kept


def run_workers(request: EvalRequest, workers: int, argv: Sequence[str], space: SearchSpace) -> list[WorkerFailure]:
    """Evaluate ``request`` (the whole file) with ``workers`` shard processes, then merge.

    Args:
        request: the checked request (its shard is the whole file).
        workers: number of processes.
        argv: the ``hnas`` command line (``eval JSON ...``); each worker gets it without
            ``--workers`` and with its ``--shard``.
        space: the space of the codes (checks the merge).

    Returns:
        The shards whose worker failed (then nothing is merged); empty on success.

    Raises:
        HnasError: shards locked by the workers of an earlier run (nothing touched).
    """
    refuse_busy(request.out)
    shards = [Shard(index, workers) for index in range(workers)]
    logs = [log_path(request.out, shard) for shard in shards]
    for log in logs:
        log.write_bytes(b"")
    commands = [[sys.executable, "-m", "hnas", *worker_argv(argv), "--shard", str(shard)] for shard in shards]
    codes = run_commands(commands, logs, worker_environments(workers, os.environ))
    failures = [WorkerFailure(shard, code, log) for shard, code, log in zip(shards, codes, logs) if code != 0]
    if not failures:
        merge_files([part_path(request.out, shard) for shard in shards], request.out, space,
                    against=request.arch_file)
    return failures


def failure_line(failures: Sequence[WorkerFailure], request: EvalRequest, argv: Sequence[str]) -> str:
    """One line: the first failed shard, how many failed, and the command that continues."""
    import shlex

    rerun = os.environ.get(RERUN_VARIABLE) or "hnas " + shlex.join(argv)
    others = f" (and {len(failures) - 1} more shard(s))" if len(failures) > 1 else ""
    kept = progress_path(part_path(request.out, failures[0].shard))
    return (f"hnas: error: {failures[0].describe()}{others}; its finished archs are kept in {kept}: "
            f"continue with: {rerun}")
