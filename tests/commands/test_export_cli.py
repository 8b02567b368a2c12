"""``hnas export``: the exported network computes what the supernet's subnet computes, also as a jit model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import paddle
import pytest

from hnas.cli import main
from hnas.export import load_export
from hnas.search_spaces.sampling import sample_codes
from hnas.search_spaces.spaces import SPACES


def _checkpoint(folder: Path, space_name: str) -> tuple[object, Path, Path]:
    """A tiny supernet with non-default BN statistics, saved as a state dict, and a config naming its space."""
    paddle.seed(0)
    space = SPACES.get(space_name)
    supernet = space.build_supernet()
    rng = np.random.default_rng(0)
    with paddle.no_grad():
        for name, tensor in supernet.state_dict().items():
            if name.endswith("_mean"):
                tensor.set_value(rng.normal(0, 0.1, tensor.shape).astype("float32"))
    weights = folder / "supernet.pdparams"
    paddle.save(supernet.state_dict(), str(weights))
    config = folder / "space.yaml"
    config.write_text(f"space:\n  name: {space_name}\n")
    return supernet, weights, config


@pytest.mark.parametrize("space_name", ["resnet48_tiny", "mbv2_tiny"])
def test_export_equals_the_supernet_subnet_and_the_jit_model(tmp_path: Path, space_name: str) -> None:
    supernet, weights, config = _checkpoint(tmp_path, space_name)
    space = supernet.space
    code = sample_codes(space, 1, seed=3)[0]
    out = tmp_path / "export"
    assert main(["export", code, "--ckpt", str(weights), "--config", str(config), "--out", str(out)]) == 0
    spec = space.decode(code)
    x = paddle.randn([3, space.in_channels, spec.resolution, spec.resolution])
    supernet.apply(spec)
    supernet.eval()
    expected = supernet(x).numpy()
    exported = load_export(out)
    assert exported.arch == code and exported.space == space
    net = space.build_standalone(spec)
    net.set_state_dict(exported.state)
    net.eval()
    np.testing.assert_allclose(net(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    jit = paddle.jit.load(str(out / "inference" / "model"))
    jit.eval()
    np.testing.assert_allclose(jit(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    meta = json.loads((out / "subnet.json").read_text())
    assert meta["space_family"] == space.family and meta["bn_recal_batches"] == 0


def test_existing_output_bad_codes_and_recalibration(tmp_path: Path) -> None:
    supernet, weights, config = _checkpoint(tmp_path, "resnet48_tiny")
    code = sample_codes(supernet.space, 1, seed=4)[0]
    base = ["export", code, "--ckpt", str(weights), "--config", str(config)]
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main([*base, "--out", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    bad = tmp_path / "bad"
    assert main(["export", code[:-1] + "9", "--ckpt", str(weights), "--config", str(config), "--out", str(bad)]) == 2
    assert not bad.exists() and not any(p.name.startswith(".bad") for p in tmp_path.iterdir())
    assert main([*base, "--out", str(tmp_path / "missing" / "x")]) == 2
    # --force replaces the folder; --bn-recal re-estimates the statistics from training images.
    assert main([*base, "--out", str(out), "--force", "--bn-recal", "1", "--recal-batch-size", "16"]) == 0
    assert not (out / "keep.txt").exists()
    recalibrated = load_export(out).state["stem.conv.bn._mean"].numpy()
    trained = supernet.state_dict()["stem.conv.bn._mean"].numpy()[: recalibrated.shape[0]]
    assert not np.allclose(recalibrated, trained)


def test_standalone_init_from_starts_from_the_export(tmp_path: Path, capsys) -> None:
    from hnas.benchmark.recipe import MINIBENCH_RECIPE
    from hnas.benchmark.standalone import initial_network

    supernet, weights, config = _checkpoint(tmp_path, "resnet48_tiny")
    space = supernet.space
    code = sample_codes(space, 1, seed=5)[0]
    out = tmp_path / "export"
    assert main(["export", code, "--ckpt", str(weights), "--config", str(config), "--out", str(out)]) == 0
    exported = load_export(out)
    network = initial_network(space, space.decode(code), MINIBENCH_RECIPE, exported.state)
    for name, value in network.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), exported.state[name].numpy(), err_msg=name)

    quick = ["--max-train-batches", "2", "--max-val-images", "200", "--seed", "0"]
    assert main(["standalone", code, *quick]) == 0
    scratch = capsys.readouterr().out
    assert main(["standalone", code, *quick, "--init-from", str(out)]) == 0
    assert capsys.readouterr().out != scratch
    other = sample_codes(space, 2, seed=6)[1]
    assert main(["standalone", other, *quick, "--init-from", str(out)]) == 2
    assert f"holds arch {code}" in capsys.readouterr().err
