"""A search scored a generation at a time with shared prefixes equals one scored candidate by candidate."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import paddle
import pytest

import hnas.nn.scorer as scorer_module
from hnas.nn.scorer import SubnetScorer
from hnas.search.evolution import SearchCfg, SearchState, run_search
from hnas.search.scoring import by_predictor, by_supernet, one_at_a_time
from hnas.search_spaces.base import SearchSpace
from hnas.search_spaces.resnet import ResNetSpace
from hnas.search_spaces.spaces import SPACES
from tests.prefix_nets import random_data, trained_like

#: Few candidates; the mutants of one parent with a low mutation probability mostly keep its prefix.
CFG = SearchCfg(population=5, top_k=1, mutations=4, crossovers=0, mutation_prob=0.02, generations=2, seed=1)


def _data(in_channels: int) -> tuple[list, list]:
    """Two validation batches (16 images) and two recalibration batches: enough to tell the paths apart."""
    val, recal = random_data(in_channels)
    return val[:2], recal[:2]


def _search(space, scorer: SubnetScorer, per_candidate: bool, cfg: SearchCfg = CFG, state_path: Path | None = None):
    score = one_at_a_time(lambda spec: scorer.score(spec)[0]) if per_candidate else by_supernet(scorer)
    state = SearchState({}) if state_path is None else SearchState.load(state_path, {})
    return run_search(space, space.distribution("uniform"), score, {"flops": space.flops}, cfg, state, state_path)


def _labelled_by_max_subnet(net, space, val: list) -> list:
    """``val`` with the largest subnet's predictions as labels, so that subnets score differently."""
    net.apply(space.max_spec())
    with paddle.no_grad():
        return [(images, net(images).argmax(axis=1)) for images, _ in val]


def _shared_groups(scorer: SubnetScorer, space, state: SearchState) -> int:
    """Groups of more than one candidate the search's generations formed."""
    generations = [[space.decode(c.arch) for c in state.history if c.generation == g] for g in range(CFG.generations)]
    return sum(len(group) > 1 for specs in generations for group in scorer.groups(specs))


@pytest.mark.parametrize("space_name", ["resnet48_tiny", "mbv2_tiny"])
@pytest.mark.parametrize("mode", ["reset", "none"])
def test_search_results_are_the_same_with_and_without_shared_prefixes(space_name: str, mode: str) -> None:
    space = SPACES.get(space_name)
    net = trained_like(space_name)
    val, recal = _data(space.in_channels)
    val = _labelled_by_max_subnet(net, space, val)
    shared = SubnetScorer(net, val, recal, mode)
    assert shared.shared_prefix
    with_prefixes = _search(space, shared, per_candidate=False)
    whole = _search(space, SubnetScorer(net, val, recal, mode, shared_prefix=False), per_candidate=True)
    assert with_prefixes.history == whole.history  # same candidates, bit-identical scores
    assert len({c.score for c in whole.history}) > 1
    assert _shared_groups(shared, space, whole) > 0  # prefixes were shared


def test_random_search_results_are_the_same_with_and_without_shared_prefixes() -> None:
    space = SPACES.get("mbv2_tiny")  # one resolution, fixed widths: every candidate shares the prefix
    net = trained_like("mbv2_tiny")
    val, recal = _data(space.in_channels)
    val = _labelled_by_max_subnet(net, space, val)
    cfg = dataclasses.replace(CFG, strategy="random")
    shared = SubnetScorer(net, val, recal, "reset")
    with_prefixes = _search(space, shared, per_candidate=False, cfg=cfg)
    whole = _search(space, SubnetScorer(net, val, recal, "reset", shared_prefix=False), per_candidate=True, cfg=cfg)
    assert with_prefixes.history == whole.history and len({c.score for c in whole.history}) > 1
    assert _shared_groups(shared, space, whole) == cfg.generations  # one group per generation


def test_a_space_without_prefixes_is_scored_candidate_by_candidate(monkeypatch) -> None:
    @dataclasses.dataclass(frozen=True)
    class NoPrefixSpace(ResNetSpace):
        prefix_key = SearchSpace.prefix_key  # the protocol's default: no prefix

    space = NoPrefixSpace.from_fields({**SPACES.get("resnet48_tiny").fields(), "name": "no_prefix"})
    paddle.seed(1)
    net = space.build_supernet()
    net.eval()
    val, recal = _data(1)
    scorer = SubnetScorer(net, val, recal, "reset")
    expected = _search(space, scorer, per_candidate=True)
    monkeypatch.setattr(scorer_module, "measure_group", lambda *args, **kwargs: pytest.fail("grouped"))
    assert _search(space, scorer, per_candidate=False).history == expected.history
    assert _shared_groups(scorer, space, expected) == 0


def test_a_search_resumed_on_the_other_path_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    space = SPACES.get("resnet48_tiny")
    net = trained_like("resnet48_tiny")
    val, recal = _data(1)
    scorer = SubnetScorer(net, val, recal, "reset")
    whole = _search(space, scorer, per_candidate=True)
    path = tmp_path / "state.json"
    part = _search(space, scorer, per_candidate=True, cfg=dataclasses.replace(CFG, generations=1), state_path=path)
    assert part.generations_done == 1
    assert _search(space, scorer, per_candidate=False, state_path=path).history == whole.history
    assert SearchState.load(path, {}).history == whole.history


def test_a_predictor_scores_a_generation_in_one_call_as_one_candidate_at_a_time() -> None:
    from hnas.predictor.fit import FitCfg, fit_predictor
    from hnas.search_spaces.sampling import sample_codes

    space = SPACES.get("mbv2_tiny")
    specs = [space.decode(code) for code in sample_codes(space, 30, seed=4)]
    predictor, _ = fit_predictor(space, specs, [0.5 + 0.01 * space.num_blocks(s) for s in specs],
                                 FitCfg(hidden=(16,), epochs=5))
    calls = []

    class Counting:
        def predict(self, batch):
            calls.append(len(batch))
            return predictor.predict(batch)

    batched = by_predictor(Counting())(specs[:12])
    assert calls == [12]
    single = one_at_a_time(lambda spec: float(predictor.predict([spec])[0]))(specs[:12])
    assert batched == pytest.approx(single, rel=1e-6, abs=1e-7)
