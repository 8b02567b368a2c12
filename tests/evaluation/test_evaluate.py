from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from hnas.evaluation.evaluate import evaluate_archs
from hnas.evaluation.progress import ProgressLog
from hnas.nn.accuracy import measure_accuracy
from hnas.search_spaces.resnet.supernet import ResNetSupernet
from tests.prefix_archs import prefix_sharing_codes

SETTINGS = {"test": True}


def test_accuracy_matches_a_direct_computation(supernet: ResNetSupernet, tiny_archs, images) -> None:
    supernet.apply(tiny_archs["arch2"][1])
    accuracy = measure_accuracy(supernet, images)
    with paddle.no_grad():
        logits = np.concatenate([supernet(x).numpy() for x, _ in images])
    labels = np.concatenate([y.numpy() for _, y in images])
    order = np.argsort(-logits, axis=1)
    assert accuracy.images == 10
    assert accuracy.top1 == np.mean(order[:, 0] == labels)
    assert accuracy.top5 == np.mean([label in row[:5] for label, row in zip(labels, order)])
    loss = F.cross_entropy(paddle.to_tensor(logits), paddle.to_tensor(labels)).item()
    assert abs(accuracy.loss - loss) < 1e-5


def test_the_supernet_subnet_scores_like_its_standalone_export(supernet: ResNetSupernet, tiny_archs, images) -> None:
    spec = tiny_archs["arch3"][1]
    supernet.apply(spec)
    from_supernet = measure_accuracy(supernet, images)
    standalone = supernet.export(spec)
    from_export = measure_accuracy(standalone, images)
    assert (from_supernet.top1, from_supernet.top5) == (from_export.top1, from_export.top5)
    assert abs(from_supernet.loss - from_export.loss) < 1e-4


def run(supernet, archs, images, recal_images, path: Path, **kwargs):
    return evaluate_archs(supernet, archs, images, recal_images, "reset", ProgressLog(path, SETTINGS), **kwargs)


def test_an_interrupted_run_resumes_to_the_same_results(tmp_path, supernet, tiny_archs, images, recal_images) -> None:
    whole = run(supernet, tiny_archs, images, recal_images, tmp_path / "whole.jsonl")
    assert whole.evaluated == 6 and list(whole.results) == list(tiny_archs)

    first = run(supernet, tiny_archs, images, recal_images, tmp_path / "resumed.jsonl", max_archs=2)
    assert (first.evaluated, len(first.results)) == (2, 2)
    second = run(supernet, tiny_archs, images, recal_images, tmp_path / "resumed.jsonl")
    assert (second.resumed, second.evaluated) == (2, 4)
    assert second.results == whole.results


def test_results_do_not_depend_on_the_order_of_evaluation(tmp_path, supernet, tiny_archs, images, recal_images) -> None:
    forward = run(supernet, tiny_archs, images, recal_images, tmp_path / "a.jsonl").results
    keys = list(tiny_archs)
    random.Random(0).shuffle(keys)
    shuffled = run(supernet, {key: tiny_archs[key] for key in keys}, images, recal_images, tmp_path / "b.jsonl").results
    assert shuffled == {key: forward[key] for key in keys}


def _sharing_archs(space) -> dict[str, tuple[str, object]]:
    codes = prefix_sharing_codes(space, groups=2, per_group=3, singles=1)
    return {f"arch{i}": (code, space.decode(code)) for i, code in enumerate(codes, start=1)}


@pytest.mark.parametrize("mode", ["reset", "none"])
def test_shared_prefix_runs_equal_per_arch_runs_across_a_resume(tmp_path, supernet, tiny_space, images,
                                                               recal_images, mode: str) -> None:
    archs = _sharing_archs(tiny_space)
    per_arch = evaluate_archs(supernet, archs, images, recal_images, mode, ProgressLog(tmp_path / "a.jsonl", SETTINGS),
                              shared_prefix=False)
    # Stopped inside the first group (2 of its 3 archs), then resumed with shared prefixes.
    log = tmp_path / "b.jsonl"
    first = evaluate_archs(supernet, archs, images, recal_images, mode, ProgressLog(log, SETTINGS), max_archs=2)
    assert first.evaluated == 2
    second = evaluate_archs(supernet, archs, images, recal_images, mode, ProgressLog(log, SETTINGS))
    assert (second.resumed, second.evaluated) == (2, 5)
    assert second.results == per_arch.results and list(second.results) == list(archs)


def test_routed_archs_are_grouped_per_network(tmp_path, supernet, tiny_space, images, recal_images) -> None:
    other = tiny_space.build_supernet()
    other.eval()
    archs = _sharing_archs(tiny_space)
    seen: list[int] = []

    def route(spec):  # archs alternate between two "parts" by stage-1 depth parity
        network = supernet if spec.depths[0] % 2 else other
        seen.append(id(network))
        return network

    shared = evaluate_archs(supernet, archs, images, recal_images, "reset", ProgressLog(tmp_path / "a.jsonl", SETTINGS),
                            route=route).results
    whole = evaluate_archs(supernet, archs, images, recal_images, "reset", ProgressLog(tmp_path / "b.jsonl", SETTINGS),
                           route=route, shared_prefix=False).results
    assert shared == whole and len(set(seen)) == 2
