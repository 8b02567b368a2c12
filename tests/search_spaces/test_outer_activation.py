"""``space.overrides.outer_activation``: the ResNet non-linearity after each residual addition only.

Supernet subnets equal their exported stand-alone networks for every outer activation, FLOPs and
parameters equal ``paddle.flops`` (PReLU slopes included), PReLU slopes are trained and shared,
ZenScore and latency blocks use it, and files record it.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
from collections import Counter

import numpy as np
import paddle
import pytest

from hnas.checkpoints.folder import CheckpointMismatchError, check_space
from hnas.cli import main
from hnas.errors import HnasError
from hnas.proxies.latency import LatencyTable, build_table, write_table
from hnas.search_spaces.activations import OUTER_ACTIVATIONS, activation_params, make_activation
from hnas.search_spaces.spaces import SPACES, resolve_space, space_from_fields
from tests.proxies.test_latency import SMALL

OUTER = ("relu", "prelu", "mish", "swish")


def _space(outer: str, name: str = "resnet48_tiny"):
    return resolve_space(name, {"outer_activation": outer})


def _layer_types(net: paddle.nn.Layer) -> Counter:
    names = set(OUTER_ACTIVATIONS.values())
    return Counter(type(layer).__name__ for layer in net.sublayers() if type(layer).__name__ in names)


@paddle.no_grad()
def _randomize_slopes(net: paddle.nn.Layer, seed: int) -> None:
    """Distinct slopes per block, so a wrong or shared-by-mistake slope shows in the outputs."""
    rng = np.random.default_rng(seed)
    for name, param in net.named_parameters():
        if name.endswith("outer_act._weight"):
            param.set_value(rng.uniform(-0.5, 0.9, param.shape).astype("float32"))


def _paddle_flops(net: paddle.nn.Layer, shape: list[int]) -> tuple[int, int]:
    """``paddle.flops`` FLOPs and the parameter total it prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        flops = paddle.flops(net, shape, print_detail=True)
    params = re.search(r"Total Params: (\d+)", out.getvalue())
    assert params is not None, out.getvalue()[-500:]
    return int(flops), int(params.group(1))


@pytest.mark.parametrize("outer", OUTER)
def test_subnets_equal_their_standalone_networks(outer: str) -> None:
    paddle.seed(0)
    space = _space(outer)
    supernet = space.build_supernet()
    _randomize_slopes(supernet, seed=1)
    supernet.eval()
    x = paddle.randn([2, space.in_channels, space.resolutions[0], space.resolutions[0]])
    rng = random.Random(0)
    for spec in (space.max_spec(), space.min_spec(), space.distribution().sample(rng)):
        supernet.apply(spec)
        net = supernet.export(spec)
        net.eval()
        blocks = space.num_blocks(spec)
        types = _layer_types(net)
        # The stem and each block's inner activation stay relu; one outer activation per block.
        assert types[OUTER_ACTIVATIONS[outer]] == (blocks if outer != "relu" else 2 * blocks + 1)
        assert types["ReLU"] == (blocks + 1 if outer != "relu" else 2 * blocks + 1)
        np.testing.assert_allclose(supernet(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-5)
        # A fresh stand-alone network given the copied weights computes the same.
        fresh = space.build_standalone(spec)
        fresh.set_state_dict(net.state_dict())
        fresh.eval()
        np.testing.assert_allclose(fresh(x).numpy(), net(x).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("outer", OUTER)
def test_flops_and_params_equal_paddle_flops(outer: str) -> None:
    space = _space(outer)
    rng = random.Random(1)
    for spec in (space.max_spec(), space.distribution().sample(rng)):
        net = space.build_standalone(spec)
        flops, printed_params = _paddle_flops(net, [1, space.in_channels, spec.resolution, spec.resolution])
        numel = sum(int(np.prod(p.shape)) for p in net.parameters())
        assert space.flops(spec) == flops
        assert space.params(spec) == printed_params == numel
    base = _space("relu")
    spec = space.max_spec()
    assert space.flops(spec) == base.flops(spec), "activations add no FLOPs in the paddle.flops convention"
    assert space.params(spec) - base.params(spec) == activation_params(outer) * space.num_blocks(spec)


def test_the_prelu_slope_count_is_what_paddle_holds() -> None:
    for name in OUTER_ACTIVATIONS:
        layer = make_activation(name)
        assert sum(int(np.prod(p.shape)) for p in layer.parameters()) == activation_params(name), name


def test_hnas_flops_counts_prelu_slopes_from_a_config(tmp_path) -> None:
    config = tmp_path / "prelu.yaml"
    config.write_text("space:\n  name: resnet48_tiny\n  overrides:\n    outer_activation: prelu\n")
    space = _space("prelu")
    code = space.encode(space.max_spec())
    out = tmp_path / "flops.json"
    assert main(["flops", code, "--config", str(config), "--out", str(out)]) == 0
    row = json.loads(out.read_text())["arch1"]
    assert row["params"] == space.params(space.max_spec()) == _space("relu").params(space.max_spec()) + 23


def test_prelu_slopes_are_trained_and_shared_by_subnets() -> None:
    paddle.seed(0)
    space = _space("prelu")
    supernet = space.build_supernet()
    slope = supernet.stages[0][0].outer_act._weight
    deep_slope = supernet.stages[2][7].outer_act._weight
    small, large = space.min_spec(), space.max_spec()
    assert "stages.0.0.outer_act._weight" in supernet.active_shapes(small)
    assert "stages.2.7.outer_act._weight" not in supernet.active_shapes(small)
    assert any(param is slope for param in supernet.used_parameters(small))
    assert any(param is slope for param in supernet.used_parameters(large))
    optimizer = paddle.optimizer.SGD(0.1, parameters=supernet.parameters())
    before = slope.numpy().copy()
    x = paddle.randn([2, 1, 28, 28])
    supernet.apply(small)(x).mean().backward()
    assert slope.grad is not None and deep_slope.grad is None
    optimizer.step()
    assert not np.allclose(slope.numpy(), before), "the slope is trained"
    assert np.allclose(deep_slope.numpy(), 0.25), "an unused block's slope stays put"
    assert supernet.export(large).state_dict()["stages.0.0.outer_act._weight"].numpy() == pytest.approx(slope.numpy())


def test_zen_features_use_the_outer_activation() -> None:
    features = []
    for outer in ("relu", "mish"):
        paddle.seed(0)
        space = _space(outer)
        zen = space.zen_network(space.max_spec())
        zen.train()
        paddle.seed(1)
        features.append(zen.features(paddle.randn([2, 1, 28, 28])).numpy())
    assert (features[0] >= 0).all() and (features[1] < 0).any(), "relu features are >= 0, mish ones dip below"


@pytest.mark.parametrize("outer", ("prelu", "mish"))
def test_latency_blocks_use_the_outer_activation(outer: str) -> None:
    space = SMALL.replace({"outer_activation": outer})
    block_key = next(key for key in space.all_latency_keys() if key[0] == "block")
    layer, _ = space.build_latency_key(block_key)
    assert _layer_types(layer) == Counter({"ReLU": 1, OUTER_ACTIVATIONS[outer]: 1})


def test_unknown_outer_activation_names_the_known_ones() -> None:
    with pytest.raises(HnasError, match="unknown outer_activation 'gelu'; known: relu, relu6, hswish, swish, mish, "
                                        "prelu"):
        _space("gelu")
    with pytest.raises(HnasError, match="unknown activation 'prelu'"):
        resolve_space("resnet48_tiny", {"activation": "prelu"})  # slopes only after the additions


def test_default_is_relu() -> None:
    assert SPACES.get("resnet48").outer_activation == "relu"


def _meta(folder, fields: dict) -> None:
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps({"space_name": "resnet48_tiny", "space_family": "resnet",
                                                  "space": fields}))


def test_checkpoints_record_the_field_and_older_ones_read_as_their_activation(tmp_path) -> None:
    space = _space("prelu")
    _meta(tmp_path / "prelu", space.fields())
    check_space(tmp_path / "prelu", space)
    with pytest.raises(CheckpointMismatchError, match="outer_activation: checkpoint 'prelu' vs config 'mish'"):
        check_space(tmp_path / "prelu", _space("mish"))
    old = _space("relu").fields()
    del old["outer_activation"]
    _meta(tmp_path / "old", old)
    check_space(tmp_path / "old", _space("relu"))
    with pytest.raises(CheckpointMismatchError, match="outer_activation: checkpoint 'relu' vs config 'prelu'"):
        check_space(tmp_path / "old", space)
    # Before the field, an activation applied after the additions too: that is what such a space held.
    swish = resolve_space("resnet48_tiny", {"activation": "swish"}).fields()
    del swish["outer_activation"]
    assert space_from_fields(swish).outer_activation == "swish"


def test_a_latency_table_of_another_outer_activation_is_refused(tmp_path) -> None:
    path = tmp_path / "table.json"
    write_table(build_table(SMALL, warmup=1, repeats=1), path)
    with pytest.raises(HnasError, match="outer_activation 'relu' vs 'prelu'"):
        LatencyTable.load(path, SMALL.replace({"outer_activation": "prelu"}))
    data = json.loads(path.read_text())
    del data["space"]["outer_activation"]  # a table written before the field existed
    path.write_text(json.dumps(data))
    assert LatencyTable.load(path, SMALL).entries


def test_train_refuses_a_checkpoint_of_another_outer_activation_and_an_unknown_name(tmp_path, capsys) -> None:
    from hnas.checkpoints.folder import save_weights_checkpoint

    space = _space("prelu")
    save_weights_checkpoint(tmp_path / "ckpt", space.build_supernet().state_dict(), space, "{}\n", {})
    run = tmp_path / "run"
    common = [f"checkpoint.dir={run}", "space.name=resnet48_tiny", "max_steps=1"]
    assert main(["train", *common, f"checkpoint.init_from={tmp_path / 'ckpt'}",
                 "space.overrides={outer_activation: mish}"]) == 2
    assert "outer_activation: checkpoint 'prelu' vs config 'mish'" in capsys.readouterr().err
    assert main(["train", *common, "space.overrides={outer_activation: gelu}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hnas: error:") and "known: relu, relu6, hswish, swish, mish, prelu" in err
    assert not run.exists()
