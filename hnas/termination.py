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

import signal
import threading
from types import FrameType

#: Exit code of a run stopped by SIGTERM: 128 + 15, what a shell reports for a killed process.
TERMINATED_EXIT_CODE = 128 + int(signal.SIGTERM)


class Terminated(BaseException):
    """The process received SIGTERM.

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, so ``except Exception`` handlers
    do not swallow it.
    """


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"received signal {signum}")


def raise_on_sigterm() -> bool:
    """Make SIGTERM raise :class:`Terminated` in the main thread; ``False`` if not in it.

    Call it after importing Paddle: a handler set before the import is replaced by Paddle's.
    """
    if threading.current_thread() is not threading.main_thread():
        return False  # Python runs signal handlers in the main thread only
    signal.signal(signal.SIGTERM, _raise_terminated)
    return True


def leave_signals_to_parent() -> None:
    """For worker processes that their parent stops: SIGTERM ends them at once, SIGINT is ignored.

    Ctrl-C reaches the whole process group; the parent alone turns it into a clean stop and
    terminates its workers, whose unfinished jobs are thrown away anyway: nothing to clean
    up and no traceback or banner to print.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
