"""``space.overrides.activation``: every layer of both families uses it (in ResNets all but the outer activation
after each residual addition, see test_outer_activation.py), FLOPs stay exact, old files still load."""

from __future__ import annotations

import contextlib
import io
import json
import random

import numpy as np
import paddle
import pytest

from hnas.checkpoints.folder import CheckpointMismatchError, check_space
from hnas.errors import HnasError
from hnas.proxies.latency import LatencyTable, build_table, write_table
from hnas.search_spaces.activations import ACTIVATIONS, OUTER_ACTIVATIONS
from hnas.search_spaces.spaces import SPACES, resolve_space
from tests.proxies.test_latency import SMALL

FAMILIES = ("resnet48_tiny", "mbv2_tiny")


def _activation_layers(net: paddle.nn.Layer) -> set[str]:
    names = set(OUTER_ACTIVATIONS.values())
    return {type(layer).__name__ for layer in net.sublayers() if type(layer).__name__ in names}


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_supernet_and_standalone_use_the_activation_and_agree(name: str, activation: str) -> None:
    paddle.seed(0)
    space = resolve_space(name, {"activation": activation})
    supernet = space.build_supernet()
    supernet.eval()
    # ResNets keep their (default relu) outer activation after the residual additions.
    outer = {OUTER_ACTIVATIONS[space.outer_activation]} if space.family == "resnet" else set()
    assert _activation_layers(supernet) == {ACTIVATIONS[activation]} | outer
    x = paddle.randn([2, space.in_channels, space.resolutions[0], space.resolutions[0]])
    rng = random.Random(0)
    for spec in (space.max_spec(), space.distribution().sample(rng)):
        supernet.apply(spec)
        net = supernet.export(spec)
        net.eval()
        assert _activation_layers(net) == {ACTIVATIONS[activation]} | outer
        np.testing.assert_allclose(supernet(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-5)
        with contextlib.redirect_stdout(io.StringIO()):
            expected = paddle.flops(space.build_standalone(spec), [1, space.in_channels, spec.resolution,
                                                                   spec.resolution])
        assert space.flops(spec) == expected


@pytest.mark.parametrize("name", FAMILIES)
def test_the_activation_changes_the_output(name: str) -> None:
    outputs = []
    for activation in ("relu", "hswish"):
        paddle.seed(0)
        space = resolve_space(name, {"activation": activation})
        net = space.build_standalone(space.max_spec())
        net.eval()
        paddle.seed(1)
        outputs.append(net(paddle.randn([2, space.in_channels, space.resolutions[0], space.resolutions[0]])).numpy())
    assert not np.allclose(*outputs)


def test_unknown_activation_names_the_known_ones() -> None:
    with pytest.raises(HnasError, match="unknown activation 'gelu'; known: relu, relu6, hswish, swish, mish"):
        resolve_space("resnet48_tiny", {"activation": "gelu"})


def test_defaults_are_the_families_own() -> None:
    assert SPACES.get("resnet48").activation == "relu" and SPACES.get("mbv2").activation == "relu6"


def _meta(folder, space, drop_activation: bool) -> None:
    fields = space.fields()
    if drop_activation:
        del fields["activation"]
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps({"space_name": space.name, "space_family": space.family,
                                                  "space": fields}))


def test_a_checkpoint_from_before_the_field_holds_the_default(tmp_path) -> None:
    space = SPACES.get("resnet48_tiny")
    _meta(tmp_path / "old", space, drop_activation=True)
    check_space(tmp_path / "old", space)  # written before the field existed: relu, as then
    with pytest.raises(CheckpointMismatchError, match="activation: checkpoint 'relu' vs config 'hswish'"):
        check_space(tmp_path / "old", space.replace({"activation": "hswish"}))


def test_a_latency_table_of_another_activation_is_refused(tmp_path) -> None:
    path = tmp_path / "table.json"
    write_table(build_table(SMALL, warmup=1, repeats=1), path)
    with pytest.raises(HnasError, match="activation 'relu' vs 'swish'"):
        LatencyTable.load(path, SMALL.replace({"activation": "swish"}))
    data = json.loads(path.read_text())
    del data["space"]["activation"]  # a table written before the field existed
    path.write_text(json.dumps(data))
    assert LatencyTable.load(path, SMALL).entries
    # ... and in the spelling tables had then: "space": NAME, "space_fields": {...}, no family
    data["space_fields"] = data.pop("space")
    data["space"] = data.pop("space_name")
    del data["space_family"]
    path.write_text(json.dumps(data))
    assert LatencyTable.load(path, SMALL).entries
    with pytest.raises(HnasError, match="activation 'relu' vs 'swish'"):
        LatencyTable.load(path, SMALL.replace({"activation": "swish"}))


def test_mish_is_x_tanh_softplus_x() -> None:
    from hnas.search_spaces.activations import make_activation

    x = np.linspace(-6.0, 6.0, 49, dtype="float32")
    expected = x * np.tanh(np.log1p(np.exp(x)))
    np.testing.assert_allclose(make_activation("mish")(paddle.to_tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
