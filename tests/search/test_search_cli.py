"""``hnas search``: limits respected, identical after kill -9 + restart, bad input refused up front."""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import paddle
import pytest

from hnas.cli import main
from hnas.search_spaces.spaces import SPACES

SMALL = ["--population", "6", "--top-k", "3", "--mutations", "3", "--crossovers", "2", "--generations", "4",
         "--val-images", "40", "--recal-batches", "1", "--recal-batch-size", "16", "--batch-size", "40"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("search")
    paddle.seed(0)
    weights = folder / "supernet.pdparams"
    paddle.save(SPACES.get("resnet48_tiny").build_supernet().state_dict(), str(weights))
    config = folder / "space.yaml"
    config.write_text("space:\n  name: resnet48_tiny\n")
    return weights, config


def _args(checkpoint: tuple[Path, Path], out: Path, *extra: str) -> list[str]:
    weights, config = checkpoint
    return ["search", "--ckpt", str(weights), "--config", str(config), "--out", str(out), *SMALL, *extra]


def test_search_keeps_every_candidate_within_the_limit(checkpoint, tmp_path: Path) -> None:
    space = SPACES.get("resnet48_tiny")
    limit = 12e6
    assert main(_args(checkpoint, tmp_path / "evo", "--max-flops", str(limit))) == 0
    history = json.loads((tmp_path / "evo" / "candidates.json").read_text())
    plain = json.loads((tmp_path / "evo" / "history.json").read_text())
    assert plain == {key: {"acc": e["acc"], "arch": e["arch"]} for key, e in history.items()}
    assert main(["validate", str(tmp_path / "evo" / "history.json"), "--submission"]) == 0
    assert len(history) == 24 and len({e["arch"] for e in history.values()}) == 24
    assert all(space.flops(space.decode(e["arch"])) <= limit for e in history.values())
    best = json.loads((tmp_path / "evo" / "best.json").read_text())
    assert best["acc"] == max(e["acc"] for e in history.values())
    assert (tmp_path / "evo" / "best_per_generation.png").stat().st_size > 0
    assert main(_args(checkpoint, tmp_path / "rnd", "--strategy", "random", "--max-flops", str(limit),
                      "--compare", str(tmp_path / "evo"))) == 0
    assert len(json.loads((tmp_path / "rnd" / "history.json").read_text())) == 24


def test_kill_and_restart_gives_the_uninterrupted_history(checkpoint, tmp_path: Path) -> None:
    # The uninterrupted run scores candidate by candidate; the killed one shares prefixes (the default).
    assert main([*_args(checkpoint, tmp_path / "whole"), "--generations", "8", "--no-shared-prefix"]) == 0
    command = [sys.executable, "-m", "hnas", *_args(checkpoint, tmp_path / "killed"), "--generations", "8"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "killed" / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (state.exists() and '"generations_done": 1' in state.read_text()):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = json.loads(state.read_text())["generations_done"]
    assert 1 <= done < 8, "the kill should land mid-search"
    assert main([*_args(checkpoint, tmp_path / "killed"), "--generations", "8"]) == 0
    for name in ("history.json", "candidates.json", "best.json"):
        assert (tmp_path / "killed" / name).read_text() == (tmp_path / "whole" / name).read_text()
    # The switch is not a setting of the state: the other path takes over a finished (or killed) search.
    assert main([*_args(checkpoint, tmp_path / "whole"), "--generations", "8"]) == 0


def test_no_shared_prefix_is_named_in_the_help(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    assert "--no-shared-prefix" in capsys.readouterr().out


def test_bad_input_is_refused_before_any_work(checkpoint, tmp_path: Path, capsys) -> None:
    assert main(_args(checkpoint, tmp_path / "x", "--max-flops", "1000")) == 2
    assert "infeasible" in capsys.readouterr().err and not (tmp_path / "x").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("populaton: 5\n")
    assert main(_args(checkpoint, tmp_path / "y", "--search-config", str(bad))) == 2
    assert "unknown key(s) ['populaton']" in capsys.readouterr().err
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    assert main(_args(checkpoint, taken)) == 2
    assert (taken / "notes.txt").read_text() == "mine"
    assert main(_args(checkpoint, tmp_path / "whole2")) == 0
    assert main(_args(checkpoint, tmp_path / "whole2", "--population", "7")) == 2
    assert "other settings (search)" in capsys.readouterr().err


def test_evolution_and_random_search_share_generation_zero(checkpoint, tmp_path: Path) -> None:
    assert main([*_args(checkpoint, tmp_path / "e"), "--generations", "2"]) == 0
    assert main([*_args(checkpoint, tmp_path / "r"), "--generations", "2", "--strategy", "random"]) == 0
    first = [json.loads((tmp_path / d / "candidates.json").read_text()) for d in ("e", "r")]
    zero = [[e["arch"] for e in h.values() if e["generation"] == 0] for h in first]
    later = [[e["arch"] for e in h.values() if e["generation"] == 1] for h in first]
    assert zero[0] == zero[1] and later[0] != later[1]


def test_latency_limit_needs_a_table_and_is_respected(checkpoint, tmp_path: Path, capsys) -> None:
    from hnas.proxies.latency import LatencyTable, build_table, write_table

    space = SPACES.get("resnet48_tiny")
    assert main(_args(checkpoint, tmp_path / "a", "--max-latency", "5")) == 2
    assert "need --latency-table" in capsys.readouterr().err
    table = tmp_path / "table.json"
    write_table(build_table(space, warmup=0, repeats=1), table)
    predict = LatencyTable.load(table, space).predict
    # The median predicted latency of random subnets: about half of the draws are feasible, whatever
    # the timings (on a loaded machine the smallest net can measure slower than the largest).
    rng = random.Random(0)
    limit = statistics.median(predict(space.distribution().sample(rng)) for _ in range(51))
    assert main(_args(checkpoint, tmp_path / "b", "--latency-table", str(table), "--max-latency", str(limit),
                      "--generations", "2")) == 0
    history = json.loads((tmp_path / "b" / "candidates.json").read_text())
    assert all(e["latency"] <= limit for e in history.values())
    assert (tmp_path / "b" / "pareto_latency.png").exists()


def test_buckets_keep_the_best_subnet_of_every_flops_bucket(checkpoint, tmp_path: Path, capsys) -> None:
    assert main(_args(checkpoint, tmp_path / "b", "--buckets", "flops:5e6:30e6:5e6", "--generations", "2")) == 0
    best = json.loads((tmp_path / "b" / "best_per_bucket.json").read_text())
    history = json.loads((tmp_path / "b" / "candidates.json").read_text()).values()
    assert len(best) >= 2
    for label, entry in best.items():
        low, high = (float(x) for x in label.split("[")[1].rstrip(")").split(","))
        inside = [e["acc"] for e in history if low <= e["flops"] < high]
        assert low <= entry["flops"] < high and entry["acc"] == max(inside)
    assert main(_args(checkpoint, tmp_path / "c", "--buckets", "flops:9:1:1")) == 2
    assert "HIGH > LOW" in capsys.readouterr().err


def test_search_config_values_are_typed_and_compare_is_checked_first(checkpoint, tmp_path: Path, capsys) -> None:
    config = tmp_path / "search.yaml"
    config.write_text("seed: 2.5\n")  # (keys SMALL's flags do not override)
    assert main(_args(checkpoint, tmp_path / "a", "--search-config", str(config))) == 2
    assert "seed" in capsys.readouterr().err and not (tmp_path / "a").exists()
    config.write_text("mutation_prob: [0.1]\n")
    assert main(_args(checkpoint, tmp_path / "a", "--search-config", str(config))) == 2
    assert "mutation_prob" in capsys.readouterr().err
    config.write_text("population: 6\n  top_k: 3\n")
    assert main(_args(checkpoint, tmp_path / "a", "--search-config", str(config))) == 2
    assert "invalid YAML" in capsys.readouterr().err
    config.write_text("top_k: 2\nmutation_prob: 0.5\n")
    assert main(_args(checkpoint, tmp_path / "b", "--search-config", str(config), "--generations", "1",
                      "--compare", str(tmp_path / "nowhere"))) == 2
    assert "--compare" in capsys.readouterr().err and not (tmp_path / "b").exists()
    assert main(_args(checkpoint, tmp_path / "b", "--search-config", str(config), "--generations", "1")) == 0
    settings = json.loads((tmp_path / "b" / "state.json").read_text())["settings"]["search"]
    # The flags in SMALL override the file (top_k 3); what the file alone sets is kept.
    assert settings["top_k"] == 3 and settings["mutation_prob"] == 0.5


@pytest.fixture(scope="module")
def predictor_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A predictor of resnet48_tiny fitted on made-up accuracies that grow with depth."""
    from hnas.predictor.fit import FitCfg, fit_predictor
    from hnas.search_spaces.sampling import sample_codes

    space = SPACES.get("resnet48_tiny")
    specs = [space.decode(code) for code in sample_codes(space, 40, seed=2)]
    predictor, _ = fit_predictor(space, specs, [0.5 + 0.01 * space.num_blocks(spec) for spec in specs],
                                 FitCfg(hidden=(16,), epochs=20))
    path = tmp_path_factory.mktemp("predictor") / "p.pdparams"
    predictor.save(path)
    return path


def test_predictor_search_needs_no_checkpoint_and_scores_by_the_predictor(predictor_file: Path, tmp_path: Path,
                                                                          capsys) -> None:
    from hnas.predictor.store import load_predictor

    out = tmp_path / "pred"
    assert main(["search", "--predictor", str(predictor_file), "--out", str(out), *SMALL]) == 0
    assert "predicted top-1" in capsys.readouterr().out
    predictor = load_predictor(predictor_file)
    space = predictor.space
    history = json.loads((out / "history.json").read_text())
    assert len(history) == 24
    for entry in history.values():
        assert entry["acc"] == pytest.approx(float(predictor.predict([space.decode(entry["arch"])])[0]))
    best = json.loads((out / "best.json").read_text())
    assert best["scored_by"] == "predictor" and best["acc"] == max(e["acc"] for e in history.values())
    assert not (out / "rescored.json").exists()


def test_predictor_search_rescores_its_top_k_with_the_supernet(checkpoint, predictor_file: Path,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "rescored"
    assert main([*_args(checkpoint, out), "--predictor", str(predictor_file), "--rescore-top", "3"]) == 0
    rescored = list(json.loads((out / "rescored.json").read_text()).values())
    history = json.loads((out / "history.json").read_text())
    top3 = sorted(history.values(), key=lambda e: e["acc"], reverse=True)[:3]
    assert sorted(r["arch"] for r in rescored) == sorted(e["arch"] for e in top3)
    assert [r["acc"] for r in rescored] == sorted((r["acc"] for r in rescored), reverse=True)
    # The re-scores are the supernet's: a plain search of the same checkpoint scores equal archs equally.
    plain = tmp_path / "plain"
    assert main(_args(checkpoint, plain)) == 0
    supernet_scores = {e["arch"]: e["acc"] for e in json.loads((plain / "history.json").read_text()).values()}
    for row in rescored:
        if row["arch"] in supernet_scores:
            assert row["acc"] == pytest.approx(supernet_scores[row["arch"]])
    best = json.loads((out / "best.json").read_text())
    assert best["scored_by"] == "supernet (re-scored)" and best["arch"] == rescored[0]["arch"]


def test_predictor_search_bad_input(checkpoint, predictor_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "bad"
    assert main(["search", "--out", str(out), "--rescore-top", "2", *SMALL]) == 2
    assert "needs --predictor" in capsys.readouterr().err
    other = tmp_path / "mbv2.yaml"
    other.write_text("space:\n  name: mbv2_tiny\n")
    mbv2 = tmp_path / "mbv2.pdparams"
    paddle.save(SPACES.get("mbv2_tiny").build_supernet().state_dict(), str(mbv2))
    assert main(["search", "--ckpt", str(mbv2), "--config", str(other), "--predictor", str(predictor_file),
                 "--out", str(out), *SMALL]) == 2
    assert "predictor was fitted on 'resnet48_tiny'" in capsys.readouterr().err
    assert not out.exists()
