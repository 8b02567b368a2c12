"""SIGTERM: a Python exception in-process; from the CLI, a clean exit 143 with workers stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from hnas.termination import TERMINATED_EXIT_CODE, Terminated, clear_received, raise_on_sigterm
from tests.commands.test_bench import TINY_ARGS
from tests.commands.test_train_cli import TINY

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def restore_sigterm():
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)
    clear_received()  # the SIGTERMs these tests send themselves must not stop later in-process loaders


def test_sigterm_raises_terminated_in_the_main_thread(restore_sigterm) -> None:
    assert raise_on_sigterm()
    with pytest.raises(Terminated):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs at the next bytecode; never reached
    assert TERMINATED_EXIT_CODE == 143


def test_other_threads_cannot_install_the_handler(restore_sigterm) -> None:
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(raise_on_sigterm()))
    thread.start()
    thread.join()
    assert results == [False]


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """``hnas COMMAND`` as the leader of a new process group (its workers join the group)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    env.pop("PADDLE_TRAINER_ID", None)
    with log.open("wb") as stderr:
        return subprocess.Popen([sys.executable, "-m", "hnas", *command], env=env, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=stderr)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Whatever happened, leave no process of the group running (it may hold the CPUs for hours)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _wait_until(process: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None and not ready():
        time.sleep(0.05)
    assert process.poll() is None, "the command ended before it could be terminated"
    assert ready(), "the command did not get going in time"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


def _stop(process: subprocess.Popen[bytes], how: str) -> tuple[int, str]:
    """``kill -TERM PID`` (``how="term"``) or Ctrl-C, which reaches the whole group (``"ctrl-c"``)."""
    if how == "term":
        process.send_signal(signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)
    stdout, _ = process.communicate(timeout=60)
    return process.returncode, stdout.decode()


def test_train_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    process = _start(["train", *TINY, "--epochs", "1000", "--checkpoint.dir", str(tmp_path / "ckpt")], log)
    try:
        _wait_until(process, lambda: "training 1000 epochs" in log.read_text())
        code, stdout = _stop(process, "term")
    finally:
        _kill_group(process)
    stderr = log.read_text()
    assert code == TERMINATED_EXIT_CODE, stderr
    ckpt = tmp_path / "ckpt"
    expected = (f"checkpoints in {ckpt} are kept: add --resume to continue" if (ckpt / "last").is_dir()
                else f"no checkpoint was written yet in {ckpt}: there is nothing to resume")
    assert stderr.rstrip().endswith(f"hnas: terminated (SIGTERM); {expected}")
    # Paddle's report; (a SIGTERM that lands inside Paddle's DataLoader set-up can still make
    # its __del__ print an "Exception ignored" note: these 4-step epochs make that likely here)
    assert "FatalError" not in stdout + stderr and "C++ Traceback" not in stdout + stderr


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find the worker processes")
@pytest.mark.parametrize("how, exit_code, message", [("term", TERMINATED_EXIT_CODE, "terminated (SIGTERM)"),
                                                     ("ctrl-c", 130, "interrupted")])
@pytest.mark.parametrize("delay", [0, 3], ids=["while-starting", "mid-job"])
def test_bench_build_stops_its_workers(tmp_path: Path, how: str, exit_code: int, message: str, delay: float) -> None:
    out = tmp_path / "gt.json"
    # Runs of thousands of steps: the workers are still starting (delay 0) or mid-job when stopped.
    build = ["bench", "build", "--n-archs", "4", "--seeds", "2", "--workers", "2", "--out", str(out),
             *TINY_ARGS, "--epochs", "100000"]
    log = tmp_path / "stderr.log"
    process = _start(build, log)
    try:
        _wait_until(process, lambda: "to run now" in log.read_text() and len(_children(process.pid)) >= 2)
        time.sleep(delay)
        workers = _children(process.pid)
        started = time.monotonic()
        code, stdout = _stop(process, how)
        seconds = time.monotonic() - started
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = [pid for pid in workers if _alive(pid)]
    finally:
        _kill_group(process)
    stderr = log.read_text()
    assert code == exit_code, stderr
    assert f"hnas: {message}; finished runs are kept: run the same command again" in stderr
    assert "FatalError" not in stdout + stderr and "Traceback" not in stdout + stderr
    assert seconds < 20, f"the build took {seconds:.0f} s to stop: it waited for its running jobs"
    assert not survivors, "a worker outlived the stopped build"
    assert not out.exists()


# A process that, like a run stopped while Paddle's DataLoader iterator was starting, holds an
# object whose destructor blocks at interpreter shutdown, and a worker process that ignores SIGINT.
_BLOCKED_AT_SHUTDOWN = """
import multiprocessing, signal, sys, threading, time
from hnas.termination import exit_process

def worker():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    time.sleep(600)

class BlocksAtShutdown:
    def __del__(self):
        threading.Event().wait()  # for ever, as Paddle's iterator __del__ was measured to

if __name__ == "__main__":
    child = multiprocessing.Process(target=worker, daemon=True)
    child.start()
    keep = BlocksAtShutdown()
    sys.modules["__main__"].keep = keep
    print("stopping, child", child.pid, flush=False)  # exit_process must flush this
    exit_process(int(sys.argv[1]))
"""


@pytest.mark.parametrize("code", [130, 143])
def test_a_stopped_run_exits_although_a_destructor_would_block_at_shutdown(tmp_path: Path, code: int) -> None:
    script = tmp_path / "blocked.py"
    script.write_text(_BLOCKED_AT_SHUTDOWN)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(script), str(code)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == code
    child = int(done.stdout.split()[-1])
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text()
