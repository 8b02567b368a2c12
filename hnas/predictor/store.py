"""A fitted predictor and its file: the space, the feature layout, the MLP and how it was fitted.

The file (written atomically with ``paddle.save``) holds the space record (:mod:`hnas.checkpoints.space_record`)
and the feature layout, so :func:`load_predictor` rebuilds the same space and refuses a file
whose layout no longer matches that space's slots (or that is not a predictor at all), and
:meth:`Predictor.check_space` refuses archs of another space.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hnas.checkpoints.space_record import read_space, space_record
from hnas.errors import HnasError
from hnas.io.atomic import atomic_paddle_save
from hnas.predictor.features import FeatureLayout, encode
from hnas.search_spaces.base import SearchSpace

#: ``format`` entry of a predictor file.
FORMAT = "hnas-accuracy-predictor/1"

#: Rows predicted per forward pass.
PREDICT_BATCH = 4096


@dataclass
class Predictor:
    """A fitted accuracy predictor for the subnets of ``space``."""

    space: SearchSpace
    layout: FeatureLayout
    model: Any  # AccuracyMLP; typed loosely so that this module imports without Paddle
    cfg: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    def check_space(self, space: SearchSpace, what: str) -> None:
        """Raises HnasError if ``space`` is not the predictor's (name, family or fields differ)."""
        if space.family != self.space.family or space.fields() != self.space.fields():
            raise HnasError(f"{what} is of space {space.name!r} ({space.family}), but the predictor was fitted on "
                            f"{self.space.name!r} ({self.space.family})")

    def predict(self, specs: Sequence[Any]) -> np.ndarray:
        """Predicted accuracies of ``specs``, in order (float64)."""
        import paddle

        features = encode(self.space, self.layout, specs)
        out = np.empty(len(specs), dtype=np.float64)
        self.model.eval()
        with paddle.no_grad():
            for start in range(0, len(specs), PREDICT_BATCH):
                chunk = paddle.to_tensor(features[start:start + PREDICT_BATCH])
                out[start:start + PREDICT_BATCH] = self.model(chunk).numpy()
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        state = {name: value.numpy() for name, value in self.model.state_dict().items()}
        atomic_paddle_save({
            "format": FORMAT,
            **space_record(self.space),
            "layout": self.layout.to_json(),
            "hidden": list(self.cfg.get("hidden", ())),
            "cfg": self.cfg,
            "report": self.report,
            "state_dict": state,
        }, path)


def load_predictor(path: str | os.PathLike[str]) -> Predictor:
    """Read a predictor file written by :meth:`Predictor.save`.

    Raises:
        HnasError: missing or unreadable file, not a predictor file, an unknown space family,
            or a feature layout that differs from the space's slots (naming the differences).
    """
    import paddle

    from hnas.predictor.model import AccuracyMLP

    source = Path(path)
    if not source.is_file():
        raise HnasError(f"predictor {source} does not exist" if not source.exists() else
                        f"predictor {source} is not a file")
    try:
        data = paddle.load(str(source))
    except Exception as error:  # noqa: BLE001 - any unpickling failure means "not a predictor"
        raise HnasError(f"predictor {source}: cannot read it ({type(error).__name__}); "
                        "is it a file written by hnas predictor fit?") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise HnasError(f"predictor {source}: not an hnas accuracy-predictor file (expected format {FORMAT!r})")
    record = data
    if "fields" in data.get("space", {}):  # the spelling of predictor files written before the space record
        old = data["space"]
        record = {"space_name": old.get("name"), "space_family": old.get("family"), "space": old["fields"]}
    space = read_space(record, f"predictor {source}")
    layout = FeatureLayout.from_json(data["layout"])
    problems = FeatureLayout.of(space).differences(layout)
    if problems:
        raise HnasError(f"predictor {source}: its feature layout does not match space {space.name!r}: "
                        + "; ".join(problems))
    model = AccuracyMLP(layout.width, tuple(data["hidden"]))
    model.set_state_dict({name: value if isinstance(value, paddle.Tensor) else paddle.to_tensor(value)
                          for name, value in data["state_dict"].items()})
    model.eval()
    return Predictor(space=space, layout=layout, model=model, cfg=dict(data.get("cfg", {})),
                     report=dict(data.get("report", {})))
