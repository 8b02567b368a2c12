"""OFA's MobileNetV3 as mbv2 spaces (``ofa_mbv3``, ``ofa_mbv3_tiny``): per-stage activations and SE gates,
the feature-mix head, and the MobileNetV2 spaces left exactly as they were."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import random

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from hnas.cli import main
from hnas.search_spaces import SPACES
from hnas.search_spaces.mbv2 import MBV2Space, MBV2Spec
from hnas.search_spaces.mbv2.standalone import SqueezeExcite
from hnas.search_spaces.mbv2.supernet import ElasticSqueezeExcite
from hnas.search_spaces.spaces import space_from_fields

FULL = SPACES.get("ofa_mbv3")
TINY = SPACES.get("ofa_mbv3_tiny")
NEW_FIELDS = ("block_activations", "stage_se", "se_reduction", "mix_channels", "dropout")

pytestmark = pytest.mark.filterwarnings("ignore:Conversion of an array with ndim > 0:DeprecationWarning")


def _paddle_flops(net: paddle.nn.Layer, size: int, channels: int) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return paddle.flops(net, [1, channels, size, size])


def _activations(layer: paddle.nn.Layer) -> set[str]:
    return {type(sub).__name__ for sub in layer.sublayers() if type(sub).__name__ in ("ReLU", "Hardswish", "ReLU6")}


def test_ofa_mbv3_layout_is_ofas() -> None:
    assert (FULL.stem_channels, FULL.first_channels, FULL.stage_channels, FULL.last_channels, FULL.mix_channels) == \
        (16, 16, (24, 40, 80, 112, 160), 960, 1280)
    assert FULL.stage_strides == (2, 2, 2, 1, 2) and FULL.resolutions == (128, 160, 192, 224)
    assert (FULL.kernel_choices, FULL.expand_choices, set(FULL.depth_choices)) == ((3, 5, 7), (3, 4, 6), {(2, 3, 4)})
    assert FULL.activation == "hswish" and FULL.first_activation == "relu"
    assert [FULL.stage_activation(s) for s in range(5)] == ["relu", "relu", "hswish", "hswish", "hswish"]
    assert FULL.code_length == 46 and TINY.code_length == 46
    assert (FULL.dropout, FULL.kernel_transform) == (0.1, True)


def test_gate_width_follows_the_active_middle_width() -> None:
    """make_divisible(mid // 4, 8) of the active middle width, only in stages 2, 4 and 5."""
    spec = MBV2Spec(224, (2, 2, 2, 2, 2), ((3, 3),) * 5, ((3, 6), (3, 6), (3, 6), (4, 6), (3, 6)))
    shapes = FULL.block_shapes(spec)
    got = [(shape.stage, shape.mid_channels, shape.se_channels) for shape in shapes]
    assert got == [(0, 48, 0), (0, 144, 0), (1, 72, 24), (1, 240, 64), (2, 120, 0), (2, 480, 0),
                   (3, 320, 80), (3, 672, 168), (4, 336, 88), (4, 960, 240)]


def test_every_block_kind_and_activation_appears_in_supernet_and_export() -> None:
    paddle.seed(0)
    supernet = TINY.build_supernet()
    spec = TINY.distribution().sample(random.Random(5))
    net = supernet.apply(spec).export(spec)
    for model in (supernet, net):
        assert _activations(model.stem) == {"Hardswish"} and _activations(model.first) == {"ReLU"}
        assert _activations(model.head) == {"Hardswish"} and _activations(model.mix) == {"Hardswish"}
        assert model.mix.conv.bias is None and model.dropout.p == 0.1
        for stage, blocks in enumerate(model.stages):
            expected = {"relu": "ReLU", "hswish": "Hardswish"}[TINY.stage_activation(stage)]
            for block in blocks:
                assert type(block.act).__name__ == expected
                assert (block.se is not None) == TINY.stage_se[stage]
    assert isinstance(supernet.stages[1][0].se, ElasticSqueezeExcite)
    assert isinstance(net.stages[1][0].se, SqueezeExcite)


def test_subnets_equal_their_export_at_every_resolution() -> None:
    paddle.seed(1)
    supernet = TINY.build_supernet()
    supernet.eval()
    rng = random.Random(1)
    specs = [TINY.max_spec(), TINY.min_spec(), *(TINY.distribution().sample(rng) for _ in range(2))]
    for resolution, spec in zip(TINY.resolutions, specs):
        spec = dataclasses.replace(spec, resolution=resolution)
        x = paddle.randn([2, 1, resolution, resolution])
        net = supernet.apply(spec).export(spec)
        net.eval()
        np.testing.assert_allclose(supernet(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-5)
        assert TINY.flops(spec) == _paddle_flops(net, resolution, 1)


def test_one_full_size_subnet_equals_its_export_and_paddle_flops() -> None:
    paddle.seed(2)
    supernet = FULL.build_supernet()
    supernet.eval()
    spec = dataclasses.replace(FULL.distribution().sample(random.Random(3)), resolution=128)
    net = supernet.apply(spec).export(spec)
    net.eval()
    x = paddle.randn([1, 3, 128, 128])
    np.testing.assert_allclose(supernet(x).numpy(), net(x).numpy(), rtol=1e-4, atol=1e-5)
    assert FULL.flops(spec) == _paddle_flops(net, 128, 3)
    assert FULL.params(spec) == sum(int(p.numel()) for p in net.parameters())


def test_reorder_keeps_the_function_and_moves_the_gates() -> None:
    paddle.seed(3)
    net = TINY.build_supernet()
    net.eval()
    x = paddle.randn([2, 1, 28, 28])
    before = net(x).numpy()
    gate = net.stages[1][0].se
    reduce_before = gate.reduce.weight.numpy().copy()
    moves = net.reorder_channels()
    np.testing.assert_allclose(net(x).numpy(), before, rtol=1e-4, atol=1e-5)
    assert any(tensor is gate.reduce.bias for tensor, _, _ in moves)
    assert not np.array_equal(gate.reduce.weight.numpy(), reduce_before)
    importance = np.abs(gate.expand.weight.numpy()).sum(axis=(0, 2, 3))
    assert list(importance) == sorted(importance, reverse=True)


def test_gates_get_gradients_only_in_their_active_block() -> None:
    paddle.seed(4)
    net = TINY.build_supernet()
    spec = TINY.min_spec()
    net.apply(spec)
    F.cross_entropy(net(paddle.randn([2, 1, 16, 16])), paddle.to_tensor([0, 1])).backward()
    shape = next(s for s in TINY.block_shapes(spec) if s.se_channels)
    gate = net.stages[shape.stage][shape.index].se
    grad = gate.reduce.weight.grad.numpy()
    assert grad.shape[0] > shape.se_channels and grad.shape[1] > shape.mid_channels
    assert np.abs(grad[:shape.se_channels, :shape.mid_channels]).sum() > 0
    assert not grad[shape.se_channels:].any() and not grad[:, shape.mid_channels:].any()
    assert any(param is gate.expand.bias for param in net.used_parameters(spec))


def test_zen_score_is_finite_and_does_not_depend_on_the_gates() -> None:
    from hnas.proxies.zen_score import compute_zen_score

    spec = TINY.max_spec()
    first = compute_zen_score(TINY, spec, batch_size=4, repeats=2, seed=0)
    paddle.seed(123)  # the gates' random initialisation is not on the scored path
    assert compute_zen_score(TINY, spec, batch_size=4, repeats=2, seed=0) == first
    assert np.isfinite(first.mean)
    chain = TINY.zen_network(TINY.max_spec())._chain()
    assert {type(act).__name__ for _, act in chain if act is not None} == {"ReLU", "Hardswish"}


def test_mobilenetv2_spaces_and_their_stored_fields_are_unchanged() -> None:
    """The MobileNetV3 fields default to MobileNetV2's network: no gates, no feature mix, no dropout layer."""
    for name in ("mbv2", "mbv2_tiny", "pss_mbv2_tiny"):
        space = SPACES.get(name)
        assert all(getattr(space, field) == getattr(MBV2Space(), field) for field in NEW_FIELDS)
        old = {key: value for key, value in space.fields().items() if key not in NEW_FIELDS}
        assert space_from_fields(old, "mbv2") == space
    net = SPACES.get("mbv2_tiny").build_supernet()
    names = set(net.state_dict())
    assert not any(".se." in name or name.startswith("mix.") for name in names)
    assert net.mix is None and net.dropout is None


@pytest.mark.parametrize(("override", "message"), [
    ({"block_activations": ("relu",) * 5}, "block_activations needs 6 names"),
    ({"block_activations": ("relu",) * 5 + ("gelu",)}, "unknown activation 'gelu'"),
    ({"stage_se": (True,) * 4}, "stage_se needs 5 booleans"),
    ({"dropout": 1.0}, "dropout must lie in"),
    ({"mix_channels": -1}, "mix_channels >= 0"),
])
def test_bad_mobilenetv3_fields_are_refused(override: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(FULL, **override)


def test_an_out_of_range_choice_is_a_clear_cli_error(capsys: pytest.CaptureFixture[str]) -> None:
    largest = FULL.encode(FULL.max_spec())
    assert main(["flops", "--space", "ofa_mbv3", largest]) == 0
    capsys.readouterr()
    for bad, what in ((largest[:6] + "9" + largest[7:], "kernel size of stage 1 block 1 is 9"),
                      ("5" + largest[1:], "image-size code is 5"),
                      (largest[:2] + "5" + largest[3:], "depth of stage 2 is 5")):
        assert main(["flops", "--space", "ofa_mbv3", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("hnas: error:") and what in err


def test_flops_help_lists_both_spaces_with_their_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["flops", "--help"])
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  ofa_mbv3")}
    assert set(lines) == {"ofa_mbv3", "ofa_mbv3_tiny"}
    assert f"{FULL.flops(FULL.min_spec()) / 1e6:.1f}M..{FULL.flops(FULL.max_spec()) / 1e6:.1f}M" in lines["ofa_mbv3"]
