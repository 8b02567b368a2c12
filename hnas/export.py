"""Taking one subnet out of a trained supernet: a stand-alone network with the inherited weights.

:func:`export_subnet` loads a checkpoint, activates ``arch``, optionally re-estimates the
subnet's BN statistics on training images, and writes into one folder

    model.pdparams       the stand-alone network's state dict (``space.build_standalone(spec)``)
    subnet.json          arch code, the space record (:mod:`hnas.checkpoints.space_record`), source
                         checkpoint, BN recalibration
    inference/model.*    ``paddle.jit.save`` inference model, input ``[None, C, R, R]`` float32

The folder is written whole (:func:`hnas.io.atomic.atomic_write_folder`), so a killed or failed
export leaves nothing half-written and an earlier folder (``--force``) untouched.
:func:`load_export` reads it back (``hnas standalone --init-from``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paddle

from hnas.checkpoints.space_record import read_space, space_record
from hnas.errors import HnasError
from hnas.evaluation.options import ScoringOptions
from hnas.evaluation.scorer_builder import load_scoring_data, open_trained
from hnas.io.atomic import atomic_write_folder
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.per_width_bn import export_width_statistics

MODEL_FILE = "model.pdparams"
META_FILE = "subnet.json"
INFERENCE_PREFIX = "inference/model"


@dataclass(frozen=True)
class Export:
    """An exported subnet read back from its folder."""

    folder: Path
    arch: str
    space: SearchSpace
    state: dict[str, Any]


def check_output_folder(out: Path, force: bool) -> None:
    """Refuse an existing ``out`` without ``force`` and a parent that cannot be written, before any work."""
    if out.exists() and not force:
        raise HnasError(f"{out} exists; pass --force to replace it")
    if out.exists() and not out.is_dir():
        raise HnasError(f"{out} exists and is not a folder")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise HnasError(f"cannot write {out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise HnasError(f"cannot write {out}: folder {parent} is not writable")


def export_subnet(
    arch: str,
    checkpoint: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    config: str | os.PathLike[str] | None = None,
    recal_batches: int = 0,
    recal_batch_size: int = 64,
    seed: int = 0,
    force: bool = False,
    weights: str = "model",
) -> Path:
    """Write the stand-alone network of ``arch`` with the weights of ``checkpoint`` into ``out``.

    The checkpoint is read as by ``hnas eval`` (:mod:`hnas.evaluation.scorer_builder`): a plain
    state-dict file's space is the config's, sized to the data. With ``recal_batches`` the
    subnet's BN statistics are first re-estimated on that many training batches.

    Raises:
        HnasError: existing or unwritable output (checked first), bad checkpoint or config, an arch
            code that is not a member of the checkpoint's space, bad data for the recalibration.
    """
    out = Path(out)
    if recal_batches < 0:
        raise HnasError(f"--recal-batches must be >= 0, got {recal_batches}")
    check_output_folder(out, force)
    trained = open_trained(checkpoint, config, weights=weights)
    space = trained.space
    spec = space.decode(arch)
    supernet = trained.load()
    supernet.apply(spec)
    if recal_batches:
        from hnas.nn.bn_recal import recalibrate_bn
        from hnas.nn.resize import at_resolution

        options = ScoringOptions(val_images=1, batch_size=1, bn_recal="reset", recal_batches=recal_batches,
                                 recal_batch_size=recal_batch_size, seed=seed)
        images = load_scoring_data(trained, options).recal
        recalibrate_bn(supernet, at_resolution(images, spec.resolution))
    supernet.eval()
    network = export_width_statistics(supernet, supernet.export(spec))  # per-width BN: the statistics of its width
    network.eval()
    meta = {
        "arch": arch, **space_record(space),
        "checkpoint": str(trained.source.weights), "bn_recal_batches": recal_batches,
        "recal_batch_size": recal_batch_size if recal_batches else 0, "seed": seed,
        "input_shape": [None, space.in_channels, spec.resolution, spec.resolution],
    }

    def fill(temp: Path) -> None:
        paddle.save(network.state_dict(), str(temp / MODEL_FILE))
        (temp / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        shape = [None, space.in_channels, spec.resolution, spec.resolution]
        paddle.jit.save(network, str(temp / INFERENCE_PREFIX),
                        input_spec=[paddle.static.InputSpec(shape=shape, dtype="float32", name="image")])

    intact = f"the previous export {out} is untouched" if out.exists() else f"nothing was written to {out}"
    return atomic_write_folder(out, fill, intact=intact + "; free space and run the same command again")


def load_export(folder: str | os.PathLike[str]) -> Export:
    """Read an export folder written by :func:`export_subnet`.

    Raises:
        HnasError: missing or malformed files.
    """
    folder = Path(folder)
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        state = paddle.load(str(folder / MODEL_FILE))
    except (OSError, ValueError, RuntimeError) as error:
        raise HnasError(f"{folder}: not an hnas export ({error})") from None
    if "arch" not in meta:
        raise HnasError(f"{folder / META_FILE}: no 'arch' entry")
    return Export(folder, meta["arch"], read_space(meta, str(folder / META_FILE)), dict(state))
