"""Run PaddleSlim 2.6.0's OFA and FLOPs counter on Paddle 3.x: a scoped, explicit shim.

Supported: PaddleSlim **2.6.0** (the last release) on PaddlePaddle 3.x. Covered:
``paddleslim.nas.ofa`` (``OFA``, ``convert_super.Convert``, ``supernet``, ``RunConfig``,
``DistillConfig``) and ``paddleslim.analysis.flops``. Nothing happens on ``import hnas`` or on
importing this module; the caller applies the shim::

    from paddleslim_ext.compat import paddleslim_compat

    with paddleslim_compat():
        ofa_net(images)                      # first call: OFA traces the model to find shortcuts
        paddleslim.analysis.flops(net, [1, 3, 224, 224])

Deviations from a plain Paddle 3.x process, one line each, all undone on exit:

1. ``paddle.base.dygraph.base._to_static_mode_guard_`` (removed in Paddle 3.x, which renamed it
   ``to_static_mode_guard``) is aliased to the new name: PaddleSlim 2.6.0's tracer
   ``paddleslim/core/dygraph.py::_dy2prog`` calls the old one.
2. The legacy static IR replaces Paddle 3.x's default PIR (``FLAGS_enable_pir_api=0`` plus Paddle's
   own switch of the ``paddle.static`` program API, ``paddle.pir_utils.DygraphOldIrGuard``):
   PaddleSlim 2.6.0 appends legacy ``Operator`` s to the traced program and fails on PIR values.

Scope of the PIR flag (measured with PaddleSlim 2.6.0 on Paddle 3.3.1, see
``tests/paddleslim_ext/test_compat.py``): setting it inside this context is enough; it need not be
an environment variable set before Paddle is imported. OFA's first forward (the trace) and
``flops`` must run inside the context; training steps after the trace also work outside it.
The switch changes module-level Paddle state, so do not run other static-graph code in another
thread meanwhile.

Outside the shim: PaddleSlim 2.6.0 imports ``six``, ``requests`` and ``decorator`` without
declaring them; hnas's ``paddleslim`` extra (``pip install -e '.[paddleslim]'``) installs them.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
from typing import Iterator

import paddle

logger = logging.getLogger(__name__)

#: The PaddleSlim release this shim was written and tested for.
SUPPORTED_VERSION = "2.6.0"
_OLD_GUARD = "_to_static_mode_guard_"
_NEW_GUARD = "to_static_mode_guard"


def paddleslim_version() -> str | None:
    """Installed PaddleSlim version, or None when it is not installed (nothing is imported)."""
    try:
        return importlib.metadata.version("paddleslim")
    except importlib.metadata.PackageNotFoundError:
        return None


def check_paddleslim() -> str:
    """The installed PaddleSlim version; warns when it is not :data:`SUPPORTED_VERSION`.

    Raises:
        ImportError: PaddleSlim is not installed (with the install command).
    """
    version = paddleslim_version()
    if version is None:
        raise ImportError("PaddleSlim is not installed; install hnas's extra: pip install -e '.[paddleslim]'")
    if version != SUPPORTED_VERSION:
        logger.warning("paddleslim_ext.compat supports PaddleSlim %s; found %s", SUPPORTED_VERSION, version)
    return version


@contextlib.contextmanager
def _static_mode_guard_alias() -> Iterator[None]:
    """Deviation 1: the removed ``_to_static_mode_guard_`` name, for the duration of the block."""
    module = paddle.base.dygraph.base
    added = not hasattr(module, _OLD_GUARD)
    if added:
        setattr(module, _OLD_GUARD, getattr(module, _NEW_GUARD))
    try:
        yield
    finally:
        if added:
            delattr(module, _OLD_GUARD)


def pir_enabled() -> bool:
    """Whether Paddle's new IR (PIR) is the static-graph IR right now."""
    return bool(paddle.get_flags("FLAGS_enable_pir_api")["FLAGS_enable_pir_api"])


@contextlib.contextmanager
def paddleslim_compat() -> Iterator[None]:
    """Apply both deviations of the module docstring for the block, then restore Paddle's state.

    Raises:
        ImportError: PaddleSlim is not installed.
    """
    check_paddleslim()
    from paddle.pir_utils import DygraphOldIrGuard

    with _static_mode_guard_alias(), DygraphOldIrGuard():
        yield
