"""A PaddleSlim OFA supernet of the baseline's ResNet48, converted by ``hnas convert-ckpt``, runs the same subnets.

The reference is PaddleSlim itself: the baseline's network (paddleslim_ext/baseline.py) converted
with ``Convert(supernet(expand_ratio=[1.0]))`` and wrapped in ``OFA``, subnets activated with OFA's
``set_net_config`` at the competition's channel counts. Inputs are 32 px so the 48-layer net is fast.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import paddle
import pytest

from tests.paddleslim_ext.conftest import randomize_bn, real_codes, requires_paddleslim, traced_ofa

requires_paddleslim()

from hnas.checkpoints.source import load_supernet, locate  # noqa: E402
from hnas.cli import main  # noqa: E402
from hnas.nn.state_dict import add_data_parallel  # noqa: E402
from hnas.search_spaces import SPACES  # noqa: E402
from hnas.search_spaces.sampling import sample_codes  # noqa: E402
from paddleslim_ext.ofa import build_ofa_supernet, ofa_net_config  # noqa: E402

RESOLUTION = 32


@pytest.fixture(scope="module")
def resnet48_ofa():
    return traced_ofa(SPACES.get("resnet48"), seed=0, resolution=RESOLUTION)


@pytest.fixture(scope="module")
def converted(resnet48_ofa, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The OFA state dict saved as a multi-GPU (``_layers.``) checkpoint and converted by the CLI."""
    folder = tmp_path_factory.mktemp("pslim")
    source = folder / "final.pdparams"
    paddle.save(add_data_parallel(resnet48_ofa.state_dict()), str(source))
    assert main(["convert-ckpt", "--from", "paddleslim", str(source), "--out", str(folder / "hnas")]) == 0
    return folder / "hnas"


def test_the_baseline_ofa_state_dict_has_the_official_names_plus_fn(resnet48_ofa) -> None:
    keys = list(resnet48_ofa.state_dict())
    assert keys[:2] == ["model.blocks.0.conv.fn.weight", "model.blocks.0.bn.weight"]
    assert "model.blocks.6.downsample.0.fn.weight" in keys and "model.blocks.6.downsample.1._mean" in keys
    assert keys[-2:] == ["model.blocks.24.fc.fn.weight", "model.blocks.24.fc.fn.bias"]


def _compare(ofa, supernet, space, codes: list[str], resolution: int = RESOLUTION) -> None:
    shape = (2, space.in_channels, resolution, resolution)
    images = paddle.to_tensor(np.random.default_rng(1).standard_normal(shape), "float32")
    with paddle.no_grad():
        for code in codes:
            spec = space.decode(code)
            ofa.set_net_config(ofa_net_config(space, spec))
            expected = ofa(images).numpy()
            got = supernet.apply(spec)(images).numpy()
            assert np.abs(expected).max() > 1e-2, "degenerate logits would make the comparison vacuous"
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max(), err_msg=code)


def test_converted_checkpoint_gives_paddleslims_outputs_on_real_codes(resnet48_ofa, converted: Path) -> None:
    source = locate(converted, None)
    assert source.space == SPACES.get("resnet48")
    supernet = load_supernet(source.weights, source.space)
    _compare(resnet48_ofa, supernet, source.space, real_codes(6))


def test_converted_checkpoint_gives_paddleslims_outputs_on_sampled_codes(resnet48_ofa, converted: Path) -> None:
    space = SPACES.get("resnet48")
    supernet = load_supernet(converted / "model.pdparams", space)
    codes = sample_codes(space, 4, seed=3, distribution="uniform")
    _compare(resnet48_ofa, supernet, space, [space.encode(space.max_spec()), space.encode(space.min_spec()), *codes])


def test_the_distillation_teacher_is_skipped_and_reported(tmp_path: Path, capsys) -> None:
    from paddleslim_ext.baseline import BaselineResNet

    space = SPACES.get("resnet48_tiny")
    ofa = build_ofa_supernet(space, teacher=BaselineResNet(space))
    randomize_bn(ofa, seed=2)
    source = tmp_path / "final.pdparams"
    paddle.save(ofa.state_dict(), str(source))
    out = tmp_path / "hnas"
    assert main(["convert-ckpt", "--from", "paddleslim", str(source), "--out", str(out), "--space", space.name]) == 0
    assert "skipped 252 distillation-teacher keys" in capsys.readouterr().out
    state = paddle.load(str(out / "model.pdparams"))
    np.testing.assert_array_equal(state["stages.2.3.conv1.bn._mean"].numpy(),
                                  ofa.state_dict()["model.blocks.14.bn1._mean"].numpy())


def test_paddleslim_expand_ratio_slices_int_r_times_c_not_make_divisible(resnet48_ofa) -> None:
    """README fact: pip 2.6.0's ``expand_ratio`` path gives 64 -> 60, 57, 54, 51, 48, 44 channels."""
    stem = resnet48_ofa.model.blocks[0].conv.fn
    images = paddle.zeros([1, 3, 8, 8])
    ratios = SPACES.get("resnet48").width_ratios
    widths = [int(stem(images, expand_ratio=ratio).shape[1]) for ratio in ratios]
    assert widths == [64, 60, 57, 54, 51, 48, 44]
    assert [SPACES.get("resnet48").channels(64, code) for code in range(1, 8)] == [64, 64, 56, 56, 48, 48, 48]


def test_super_batch_norm_fixes_its_mode_on_the_first_call() -> None:
    """README fact: a SuperBatchNorm2D first called in eval mode never updates its statistics in training."""
    from paddleslim.nas.ofa.layers import SuperBatchNorm2D

    images = paddle.to_tensor(np.random.default_rng(0).normal(3.0, 1.0, (4, 2, 3, 3)), "float32")
    frozen, normal = SuperBatchNorm2D(2), SuperBatchNorm2D(2)
    frozen.eval()
    frozen(images)
    frozen.train()
    normal.train()
    frozen(images)
    normal(images)
    assert np.allclose(frozen._mean.numpy(), 0.0), "first call in eval: training keeps the running mean"
    assert not np.allclose(normal._mean.numpy(), 0.0), "first call in training: the running mean moves"


def test_hnas_to_paddleslim_key_gives_the_real_ofa_names(resnet48_ofa) -> None:
    from hnas.engine.pretrained import hnas_to_paddleslim_key

    space = SPACES.get("resnet48")
    names = [hnas_to_paddleslim_key(key, space) for key in space.build_supernet().state_dict()]
    assert names == list(resnet48_ofa.state_dict())


def test_a_converted_paddleslim_checkpoint_evaluates_to_a_valid_submission(tmp_path: Path) -> None:
    """Real PaddleSlim state dict -> convert-ckpt -> hnas eval -> hnas validate --submission (tiny space)."""
    import json

    space = SPACES.get("resnet48_tiny")
    ofa = traced_ofa(space, seed=4, resolution=28)
    source = tmp_path / "final.pdparams"
    paddle.save(ofa.state_dict(), str(source))
    folder = tmp_path / "hnas"
    assert main(["convert-ckpt", "--from", "paddleslim", str(source), "--out", str(folder), "--space", space.name]) == 0
    codes = sample_codes(space, 3, seed=5, distribution="competition")
    archs = tmp_path / "archs.json"
    archs.write_text(json.dumps({f"arch{i}": {"acc": 0.0, "arch": code} for i, code in enumerate(codes, 1)}))
    submission = tmp_path / "submit.json"
    assert main(["eval", str(archs), "--ckpt", str(folder), "--out", str(submission), "--val-images", "16",
                 "--batch-size", "8", "--recal-batches", "1", "--recal-batch-size", "8"]) == 0
    assert main(["validate", str(submission), "--submission", "--against", str(archs)]) == 0


@paddle.no_grad()
def _spread_slopes(ofa, seed: int) -> None:
    """Distinct PReLU slopes per block (randomize_bn leaves them near 1, close to the identity)."""
    rng = np.random.default_rng(seed)
    for name, tensor in ofa.state_dict().items():
        if name.endswith("relu2._weight"):
            tensor.set_value(rng.uniform(-0.5, 0.9, tensor.shape).astype("float32"))


@pytest.mark.parametrize("outer", ["prelu", "mish"])
def test_the_solutions_prelu_and_mish_supernets_convert_and_run_the_same_subnets(outer: str, tmp_path: Path) -> None:
    """The 3rd place's resnet48_prelu / resnet48_mish (activation ``relu2`` after each residual addition)
    converted by PaddleSlim, saved multi-GPU, imported with a config naming the outer activation. The
    48-layer layout and codes of resnet48 on resnet48_tiny's narrow 28 px stages (fast)."""
    import yaml

    codes = real_codes(4)
    space = SPACES.get("resnet48_tiny").replace({"outer_activation": outer})
    ofa = traced_ofa(space, seed=5, resolution=28)
    _spread_slopes(ofa, seed=6)
    keys = list(ofa.state_dict())
    assert ("model.blocks.1.relu2._weight" in keys) == (outer == "prelu")
    source = tmp_path / "final.pdparams"
    paddle.save(add_data_parallel(ofa.state_dict()), str(source))
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump({"space": {"name": "resnet48_tiny", "overrides": {"outer_activation": outer}}}))
    out = tmp_path / "hnas"
    assert main(["convert-ckpt", "--from", "paddleslim", str(source), "--out", str(out), "--config", str(config)]) == 0
    located = locate(out, None)
    assert located.space == space
    supernet = load_supernet(located.weights, located.space)
    _compare(ofa, supernet, space, [space.encode(space.max_spec()), space.encode(space.min_spec()), *codes], 28)
