from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from hnas.config import (
    ConfigError,
    DataCfg,
    SamplerCfg,
    SpaceCfg,
    apply_overrides,
    config_to_dict,
    load_config,
    parse_overrides,
    save_config,
)
from hnas.errors import HnasError


@dataclass(frozen=True)
class OptimizerCfg:
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False


@dataclass(frozen=True)
class InnerCfg:
    optimizer: OptimizerCfg = field(default_factory=OptimizerCfg)
    milestones: tuple[int, ...] = (30, 60)
    pair: tuple[int, str] = (1, "a")
    tags: list[str] = field(default_factory=list)
    mode: Literal["fast", "slow"] = "fast"


@dataclass(frozen=True)
class DemoCfg:
    train: InnerCfg = field(default_factory=InnerCfg)
    sampler: SamplerCfg = field(default_factory=SamplerCfg)
    out_dir: Path = Path("checkpoints/demo")
    resume: Optional[Path] = None
    limit: int | None = None
    name: str = "demo"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RequiredCfg:
    epochs: int


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_defaults_when_file_is_empty(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, ""), schema=DemoCfg) == DemoCfg()
    assert load_config(None, schema=DemoCfg) == DemoCfg()


def test_the_schema_is_always_named(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="schema"):
        load_config(write(tmp_path, ""))  # type: ignore[call-arg]


def test_nested_values_are_converted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
train:
  optimizer: {lr: 1e-3, momentum: 1}
  milestones: [10, 20, 30]
  pair: [2, b]
  tags: [x, y]
  mode: slow
sampler: {name: pss, args: {pool_size: 8, nested: {a: [1, 2]}}}
out_dir: runs/x
resume: runs/x/final
limit: 5
""",
    )
    cfg = load_config(path, schema=DemoCfg)
    assert cfg.train.optimizer == OptimizerCfg(lr=0.001, momentum=1.0)
    assert isinstance(cfg.train.optimizer.momentum, float)
    assert cfg.train.milestones == (10, 20, 30)
    assert cfg.train.pair == (2, "b")
    assert cfg.train.tags == ["x", "y"]
    assert cfg.train.mode == "slow"
    assert cfg.sampler == SamplerCfg(name="pss", args={"pool_size": 8, "nested": {"a": [1, 2]}})
    assert cfg.out_dir == Path("runs/x")
    assert cfg.resume == Path("runs/x/final")
    assert cfg.limit == 5


def test_unknown_key_names_the_full_path_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "train:\n  optimizer:\n    lr_typo: 0.1\n")
    message = r"unknown key 'train\.optimizer\.lr_typo' \(known: lr, momentum, nesterov\)"
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path, schema=DemoCfg)
    assert str(path) in str(info.value)
    assert isinstance(info.value, HnasError)
    with pytest.raises(ConfigError, match=r"unknown key 'train\.optimizer\.momentun'; did you mean 'momentum'\?"):
        load_config(None, ["train.optimizer.momentun=0.5"], schema=DemoCfg)


def test_duplicate_key_is_rejected_with_path_and_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "train:\n  optimizer:\n    lr: 0.1\n    lr: 0.2\n")
    with pytest.raises(ConfigError, match=r"line 4: duplicate key 'train\.optimizer\.lr' \(first given on line 3\)"):
        load_config(path, schema=DemoCfg)


def test_duplicate_top_level_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duplicate key 'name'"):
        load_config(write(tmp_path, "name: a\nlimit: 1\nname: b\n"), schema=DemoCfg)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("limit: 1.5", r"key 'limit': expected int \| None, got float \(1\.5\)"),
        ("name: 3", r"key 'name': expected str, got int"),
        ("train: {optimizer: {nesterov: 1}}", r"key 'train\.optimizer\.nesterov': expected bool, got int"),
        ("train: {optimizer: {lr: fast}}", r"key 'train\.optimizer\.lr': expected float, got str"),
        ("train: {optimizer: {lr: true}}", r"key 'train\.optimizer\.lr': expected float, got bool"),
        ("train: {milestones: [1, x]}", r"key 'train\.milestones\[1\]': expected int, got str"),
        ("train: {milestones: 3}", r"key 'train\.milestones': expected tuple\[int, \.\.\.\], got int"),
        ("train: {pair: [1, a, 3]}", r"key 'train\.pair': expected 2 items, got 3"),
        ("train: {mode: medium}", r"key 'train\.mode': 'medium' is not one of \['fast', 'slow'\]"),
        ("train: 5", r"key 'train': expected a mapping for InnerCfg, got int"),
        ("sampler: {args: [1]}", r"key 'sampler\.args': expected a mapping, got list"),
        ("out_dir: 7", r"key 'out_dir': expected a non-empty path string, got int"),
    ],
)
def test_wrong_type_names_key_expected_and_got(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), schema=DemoCfg)


def test_missing_required_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing required key 'epochs'"):
        load_config(write(tmp_path, ""), schema=RequiredCfg)
    assert load_config(write(tmp_path, "epochs: 3"), schema=RequiredCfg) == RequiredCfg(epochs=3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "top level must be a mapping of keys, got list"),
        ("a: [1, 2\n", r"line \d+ column \d+: invalid YAML"),
    ],
)
def test_bad_file_contents(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), schema=DemoCfg)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml", schema=DemoCfg)


def test_override_parsing_follows_yaml_scalar_rules() -> None:
    pairs = parse_overrides(["a.b=1", "--c.d", "x", "--e=true", "f=1e-3", "g=", "h=[1, 2]", "i='007'", "j=a=b"])
    assert pairs == [
        ("a.b", 1),
        ("c.d", "x"),
        ("e", True),
        ("f", 0.001),
        ("g", None),
        ("h", [1, 2]),
        ("i", "007"),
        ("j", "a=b"),
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["plain"], "must look like key.sub=value"),
        (["--dangling"], "has no value"),
        (["a..b=1"], "empty key"),
        (["=1"], "empty key"),
    ],
)
def test_malformed_overrides(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_overrides(overrides)


def test_overrides_apply_after_the_file_and_create_sections(tmp_path: Path) -> None:
    path = write(tmp_path, "train:\n  optimizer:\n    lr: 0.5\nname: file\n")
    cfg = load_config(
        path,
        ["train.optimizer.lr=0.01", "--sampler.args.n", "3", "--name=cli", "resume=runs/a"],
        schema=DemoCfg,
    )
    assert cfg.train.optimizer.lr == 0.01
    assert cfg.sampler.args == {"n": 3}
    assert cfg.name == "cli"
    assert cfg.resume == Path("runs/a")


def test_override_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'train\.optimiser'"):
        load_config(None, ["train.optimiser.lr=1"], schema=DemoCfg)
    with pytest.raises(ConfigError, match=r"'name' is a str, not a section"):
        apply_overrides({"name": "x"}, ["name.sub=1"])


def test_apply_overrides_does_not_mutate_the_input() -> None:
    values = {"train": {"optimizer": {"lr": 1.0}}}
    apply_overrides(values, ["train.optimizer.lr=2"])
    assert values == {"train": {"optimizer": {"lr": 1.0}}}


def test_round_trip_save_then_load(tmp_path: Path) -> None:
    cfg = load_config(
        None,
        [
            "train.optimizer.lr=3e-4",
            "train.milestones=[5, 7]",
            "train.tags=[a]",
            "sampler.name=pss",
            "sampler.args={pool: 4, ratios: [0.5, 1.0]}",
            "resume=ck/final",
            "extra.note=hello",
        ],
        schema=DemoCfg,
    )
    out = tmp_path / "sub" / "resolved.yaml"
    save_config(cfg, out)
    assert load_config(out, schema=DemoCfg) == cfg
    assert [p.name for p in out.parent.iterdir()] == ["resolved.yaml"]  # no temp file left behind
    data = config_to_dict(cfg)
    assert data["resume"] == "ck/final"
    assert data["train"]["milestones"] == [5, 7]


@dataclass(frozen=True)
class SectionsCfg:
    space: SpaceCfg = field(default_factory=SpaceCfg)
    data: DataCfg = field(default_factory=DataCfg)
    sampler: SamplerCfg = field(default_factory=SamplerCfg)
    seed: int = 0


def test_shared_sections() -> None:
    overrides = ["space.overrides.num_classes=5", "data.root=/data/x", "data.args={image_size: 224}", "seed=3"]
    cfg = load_config(None, overrides, schema=SectionsCfg)
    assert cfg.space == SpaceCfg(overrides={"num_classes": 5})
    assert cfg.data == DataCfg(root=Path("/data/x"), args={"image_size": 224})
    assert (cfg.data.name, cfg.data.batch_size, cfg.data.num_workers) == ("multi_mnist", 32, 0)
    assert cfg.sampler == SamplerCfg()
    assert cfg.seed == 3


@pytest.mark.parametrize(
    "override, message",
    [
        ("data.kind=synthetic",
         "unknown key 'data.kind' (known: name, root, args, batch_size, num_workers, on_bad_image)"),
        ("data.batch_size=0", "key 'data': batch_size must be >= 1"),
        ("data.num_workers=-1", "key 'data': num_workers must be >= 0"),
        ("data.args=[1]", "key 'data.args': expected a mapping"),
    ],
)
def test_bad_data_sections_name_the_key(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(None, [override], schema=SectionsCfg)


def test_config_is_frozen() -> None:
    cfg = DataCfg()
    with pytest.raises(AttributeError):
        cfg.name = "synthetic"  # type: ignore[misc]
