"""Log output of every ``hnas`` process: one format on stderr, Paddle's notices left out.

The CLI calls :func:`configure_logging` once; a spawned worker (:mod:`hnas.workers`) calls it
again in the parent's format: at ``WARNING`` for ``hnas bench build``, whose workers would
repeat the parent's progress lines, and at ``INFO`` with the run's name as a prefix for the
supernet runs of ``hnas bench report``. :func:`quiet_paddle_notices` drops the warnings Paddle emits on
import and on every training-mode BatchNorm call, which tell the user nothing to act on.
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import TextIO

#: ``(message prefix, category)`` of the Paddle warnings :func:`quiet_paddle_notices` drops.
PADDLE_NOTICES: tuple[tuple[str, type[Warning]], ...] = (
    ("No ccache found", UserWarning),  # only matters for compiling C++ ops
    ("When training, we now always track global mean and variance", UserWarning),  # BN behaviour note
)


class _StderrHandler(logging.StreamHandler):
    """A stream handler on ``sys.stderr`` as it is when each record is emitted.

    A handler bound to the ``sys.stderr`` of the moment would keep writing to a replaced and
    closed stream (``contextlib.redirect_stderr``, pytest's capture) after ``main`` returns.
    """

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # always the current sys.stderr


def configure_logging(level: int = logging.INFO, prefix: str = "") -> None:
    """Log to stderr with the hnas format from ``level`` up, replacing any root handler.

    ``prefix`` goes before each logger name, e.g. the job a worker process is running.

    ``force`` removes the root handler that importing Paddle installs, which would otherwise
    turn :func:`logging.basicConfig` into a no-op; a handler set here first also keeps Paddle
    from adding its own when a command imports it later.
    """
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s %(levelname)s {prefix}%(name)s: %(message)s",
        datefmt="%H:%M:%S",
        handlers=[_StderrHandler()],
        force=True,
    )


def quiet_paddle_notices() -> None:
    """Ignore the :data:`PADDLE_NOTICES` warnings in this process."""
    for message, category in PADDLE_NOTICES:
        warnings.filterwarnings("ignore", message=message, category=category)
