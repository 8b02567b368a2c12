"""SIGTERM as a Python exception, so a terminated run stops the way Ctrl-C stops it.

Importing Paddle installs C++ signal handlers that answer SIGTERM (what ``kill``, Slurm
pre-emption and ``paddle.distributed.launch`` send) with a C++ stack trace and a "FatalError"
banner on stdout. For a run whose finished work is already saved (atomic checkpoints, progress
files) that reads like a crash when it is a normal stop. :func:`raise_on_sigterm`, called after
Paddle is imported, replaces the SIGTERM handler only (Paddle keeps its SIGSEGV/SIGABRT reports):
the main thread raises :class:`Terminated`, ``finally`` blocks and atomic writers clean up, and
the CLI exits with code 143 and one line saying the run can be resumed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Iterator

#: Exit code of a run stopped by SIGTERM: 128 + 15, what a shell reports for a killed process.
TERMINATED_EXIT_CODE = 128 + int(signal.SIGTERM)

#: Exit code of a run stopped by Ctrl-C (SIGINT): 128 + 2.
INTERRUPTED_EXIT_CODE = 128 + int(signal.SIGINT)

#: Seconds a stopped process waits for its worker processes to end before it exits anyway.
CHILD_GRACE_SECONDS = 2.0


class Terminated(BaseException):
    """The process received SIGTERM.

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, so ``except Exception`` handlers
    do not swallow it.
    """


#: SIGTERMs received since :func:`raise_on_sigterm`; see :func:`raise_if_terminated`.
_received: list[int] = []


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Terminated(f"received signal {signum}")


#: Set once Ctrl-C (SIGINT) reached this process; see :func:`raise_if_interrupted`.
_INTERRUPTED = threading.Event()


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    _INTERRUPTED.set()
    raise KeyboardInterrupt


def raise_on_sigint() -> bool:
    """Make Ctrl-C raise ``KeyboardInterrupt`` as usual and also remember it (main thread only).

    Ctrl-C reaches the whole process group, DataLoader worker processes included; a
    ``KeyboardInterrupt`` raised while the main thread waits inside Paddle's multi-process
    reader can be swallowed there, and the reader then just starts new workers for the next
    epoch. Loops that call :func:`raise_if_interrupted` stop anyway.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    _INTERRUPTED.clear()
    signal.signal(signal.SIGINT, _raise_interrupted)
    return True


def raise_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C arrived (once), wherever it was first raised."""
    if _INTERRUPTED.is_set():
        _INTERRUPTED.clear()
        raise KeyboardInterrupt


def clear_received() -> None:
    """Forget earlier SIGTERMs (once a stop has been handled, e.g. by the CLI)."""
    _received.clear()


def raise_if_terminated() -> None:
    """Raise :class:`Terminated` again if SIGTERM arrived earlier.

    Library code may swallow the first raise: Paddle's multi-process DataLoader has bare
    ``except:`` clauses, and a SIGTERM landing in one of them was measured to leave training
    running. Loops call this once per batch, so such a stop takes effect at the next batch.
    """
    if _received:
        raise Terminated(f"received signal {_received[-1]}")


def raise_on_sigterm() -> bool:
    """Make SIGTERM raise :class:`Terminated` in the main thread; ``False`` if not in it.

    Call it after importing Paddle: a handler set before the import is replaced by Paddle's.
    """
    if threading.current_thread() is not threading.main_thread():
        return False  # Python runs signal handlers in the main thread only
    _received.clear()
    signal.signal(signal.SIGTERM, _raise_terminated)
    return True


#: The stop signals whose delivery :func:`signals_held_while_spawning` defers.
_HELD = {signal.SIGINT, signal.SIGTERM}


def leave_signals_to_parent() -> None:
    """For worker processes that their parent stops: SIGTERM ends them at once, SIGINT is ignored.

    Ctrl-C reaches the whole process group; the parent alone turns it into a clean stop and
    terminates its workers, whose unfinished jobs are thrown away anyway: nothing to clean
    up and no traceback or banner to print. Also releases the signals that a worker started
    under :func:`signals_held_while_spawning` inherits blocked, so a SIGTERM the parent sent
    while the worker was starting takes effect now.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


@contextmanager
def signals_held_while_spawning() -> Iterator[None]:
    """Start worker processes inside this block: Ctrl-C and SIGTERM wait until it ends.

    Ctrl-C reaches the whole process group, including spawned workers that are still importing
    (they would print a ``KeyboardInterrupt`` traceback), and a stop that interrupts
    ``Process.start`` half-way leaves a child the parent does not know about. The block blocks
    SIGINT and SIGTERM in this thread (``pthread_sigmask``): a signal that arrives meanwhile
    stays pending and is raised here when the block ends, and each child inherits the blocked
    mask until :func:`leave_signals_to_parent` releases it. Outside the main thread, or where
    the call does not exist, this does nothing.
    """
    usable = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)


def exit_process(code: int) -> None:
    """End the process with ``code``; after a stop (130, 143) without interpreter shutdown.

    A run stopped half-way can leave library objects whose destructors block when the
    interpreter shuts down. Measured with Paddle 3.3: Ctrl-C while a multi-process DataLoader
    iterator was starting its workers left a half-built iterator whose ``__del__``, run at
    shutdown, waits for ever to start a queue thread (new threads cannot start then) and
    would join its workers without a timeout; the process hung after its last message. So a
    stopped run flushes its output, terminates its worker processes (waiting at most
    :data:`CHILD_GRACE_SECONDS`) and leaves with ``os._exit``: everything it keeps is already
    on disk, written atomically. Other exit codes take the normal ``sys.exit`` path.
    """
    if code not in (INTERRUPTED_EXIT_CODE, TERMINATED_EXIT_CODE):
        sys.exit(code)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stream: nothing more can be said on it
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(CHILD_GRACE_SECONDS)
    os._exit(code)
