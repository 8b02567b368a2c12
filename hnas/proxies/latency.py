"""A measured latency lookup table and the latency predicted from it (sum over a subnet's blocks).

``hnas latency build`` times every block configuration of a space (:meth:`SearchSpace.all_latency_keys`:
stem, every residual block shape at its input size, head) on the machine it runs on, in eval mode
without gradients: ``warmup`` untimed runs, then the median of ``repeats`` timed ones, for a batch of
``batch_size`` images. The JSON table records device, batch, repeats and Paddle version in its header;
:class:`LatencyTable` predicts a subnet's latency as the sum of its keys' times (milliseconds).
As in OFA and PSS-Net, this ignores the time between layers, so it predicts the ranking of latencies
better than their absolute value (benchmarks/bench_latency_table.py measures both).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hnas.checkpoints.space_record import space_differences, space_record, stored_family, stored_name
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text
from hnas.search_spaces.base import SearchSpace

FORMAT = "hnas-latency-table/1"


def _key_text(key: tuple[str, tuple[Any, ...]]) -> str:
    return json.dumps([key[0], list(key[1])])


def time_layer(layer: Any, input_shape: tuple[int, ...], batch_size: int, warmup: int, repeats: int) -> float:
    """Median wall time in ms of ``layer`` on a ``[batch_size, *input_shape]`` input (eval, no grad)."""
    import paddle

    layer.eval()
    x = paddle.randn([batch_size, *input_shape])
    with paddle.no_grad():
        for _ in range(warmup):
            layer(x).numpy()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            layer(x).numpy()  # .numpy() waits for the result on any device
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def build_table(space: SearchSpace, device: str = "cpu", batch_size: int = 1, warmup: int = 3, repeats: int = 10,
                progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Measure every latency key of ``space``; the table as a JSON-ready dict."""
    import paddle

    if min(batch_size, repeats) < 1 or warmup < 0:
        raise HnasError(f"latency: batch size and repeats must be >= 1 and warmup >= 0 "
                        f"(got {batch_size}, {repeats}, {warmup})")
    if device == "gpu" and not (paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count()):
        raise HnasError("--device gpu: Paddle sees no CUDA device")
    paddle.set_device("gpu:0" if device == "gpu" else "cpu")
    keys = space.all_latency_keys()
    entries = {}
    for index, key in enumerate(keys):
        layer, shape = space.build_latency_key(key)
        entries[_key_text(key)] = round(time_layer(layer, shape, batch_size, warmup, repeats), 6)
        if progress is not None:
            progress(index + 1, len(keys))
    return {"format": FORMAT, **space_record(space),
            "device": device, "batch_size": batch_size, "warmup": warmup, "repeats": repeats, "unit": "ms",
            "paddle": paddle.__version__, "machine": platform.processor() or platform.machine(),
            "threads": os.environ.get("OMP_NUM_THREADS", "unset"), "entries": entries}


def write_table(table: dict[str, Any], path: Path) -> None:
    atomic_write_text(path, json.dumps(table, indent=0) + "\n")


@dataclass(frozen=True)
class LatencyTable:
    """A loaded table: ``predict(spec)`` in ms."""

    space: SearchSpace
    header: dict[str, Any]
    entries: dict[str, float]

    @classmethod
    def load(cls, path: str | os.PathLike[str], space: SearchSpace) -> LatencyTable:
        """Raises HnasError for an unreadable file or a table of another space."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            entries = {str(k): float(v) for k, v in data["entries"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise HnasError(f"latency table {path}: unreadable ({error})") from None
        if data.get("format") != FORMAT:
            raise HnasError(f"latency table {path}: not an hnas latency table (format {data.get('format')!r})")
        source = f"latency table {path}"
        if stored_family(data) != space.family:
            raise HnasError(f"{source} was measured for a {stored_family(data)!r} space, not {space.name!r} "
                            f"(family {space.family!r})")
        differing = space_differences(data, space, source)
        if differing:
            raise HnasError(f"{source} was measured for space {stored_name(data)!r}, not {space.name!r} "
                            f"({', '.join(differing)})")
        return cls(space, {k: v for k, v in data.items() if k != "entries"}, entries)

    def predict(self, spec: Any) -> float:
        total = 0.0
        for key in self.space.latency_keys(spec):
            text = _key_text(key)
            if text not in self.entries:
                raise HnasError(f"latency table has no entry for {text}; rebuild it for space {self.space.name!r}")
            total += self.entries[text]
        return total
