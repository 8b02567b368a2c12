"""``hnas standalone``: train one architecture from scratch with the fixed benchmark recipe."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from hnas.benchmark.recipe import MINIBENCH_RECIPE, Recipe
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text
from hnas.io.outputs import check_output_file

logger = logging.getLogger(__name__)


def _data_arg(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _grad_clip(text: str) -> float:
    """``--grad-clip`` value: a positive norm, or 0.0 for ``none`` (no clipping)."""
    if text.lower() == "none":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'none', got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'none', got {text!r}")
    return value


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that change the training recipe (defaults: the shipped mini-benchmark's)."""
    group = parser.add_argument_group("recipe (default: the mini-benchmark recipe)")
    group.add_argument("--recipe", type=Path, metavar="FILE",
                       help="start from the recipe in FILE (a recipe JSON or a ground_truth.meta.json)")
    group.add_argument("--space", help=f"search space (default: {MINIBENCH_RECIPE.space})")
    group.add_argument("--data", help=f"dataset registry name (default: {MINIBENCH_RECIPE.data})")
    group.add_argument("--data-arg", action="append", type=_data_arg, default=[], metavar="KEY=VALUE",
                       help="dataset option, repeatable (e.g. --data-arg label=first; root=DIR: the data folder "
                            "of e.g. --data imagefolder); replaces the recipe's data options when given")
    group.add_argument("--epochs", type=int, help=f"epochs (default: {MINIBENCH_RECIPE.epochs})")
    group.add_argument("--batch-size", type=int, help=f"batch size (default: {MINIBENCH_RECIPE.batch_size})")
    group.add_argument("--lr", type=float, help=f"peak learning rate (default: {MINIBENCH_RECIPE.lr})")
    group.add_argument("--warmup-fraction", type=float, metavar="F",
                       help="fraction of the steps with a linear LR warm-up "
                            f"(default: {MINIBENCH_RECIPE.warmup_fraction})")
    group.add_argument("--grad-clip", type=_grad_clip, metavar="NORM",
                       help=f"global gradient-norm clip, or 'none' (default: {MINIBENCH_RECIPE.grad_clip})")
    group.add_argument("--zero-init-residual", action=argparse.BooleanOptionalAction, default=None,
                       help="start each residual block as the identity (default: "
                            f"{'on' if MINIBENCH_RECIPE.zero_init_residual else 'off'})")
    group.add_argument("--max-train-batches", type=int, metavar="N", help="cap on batches per epoch")
    group.add_argument("--max-val-images", type=int, metavar="N", help="measure on the first N val images")


def recipe_from_arguments(args: argparse.Namespace, base: Recipe = MINIBENCH_RECIPE) -> Recipe:
    """The recipe the options describe, on top of ``--recipe`` or ``base``."""
    recipe = base
    if args.recipe is not None:
        try:
            values = json.loads(Path(args.recipe).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise HnasError(f"--recipe {args.recipe}: cannot read ({error})") from None
        recipe = Recipe.from_dict(values.get("recipe", values) if isinstance(values, dict) else {})
    changes: dict[str, Any] = {}
    for name in ("space", "data", "epochs", "batch_size", "lr", "warmup_fraction", "zero_init_residual",
                 "max_train_batches", "max_val_images"):
        value = getattr(args, name)
        if value is not None:
            changes[name] = value
    if args.grad_clip is not None:
        changes["grad_clip"] = args.grad_clip or None
    if args.data is not None and args.data != recipe.data and not args.data_arg:
        changes["data_args"] = {}
    if args.data_arg:
        changes["data_args"] = dict(args.data_arg)
    return recipe.replace(**changes) if changes else recipe


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "standalone",
        help="train one arch from scratch (stand-alone network) and print its val accuracy",
        description=("Train the plain network of ARCH from scratch with a fixed recipe and measure "
                     "top-1 on the recipe's validation images: one ground-truth measurement. The "
                     "same code path serves any dataset (--data, --data-arg)."),
    )
    parser.add_argument("arch", help="arch code of the space")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="also write the result as JSON")
    parser.add_argument("--init-from", type=Path, metavar="DIR",
                        help="start from the weights of an 'hnas export' folder of ARCH (fine-tune / retrain a "
                             "searched subnet) instead of a fresh initialisation")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists (never the --recipe file)")
    add_recipe_arguments(parser)
    parser.set_defaults(func=run, imports_paddle=True)


def run(args: argparse.Namespace) -> int:
    import paddle

    from hnas.benchmark.standalone import load_bench_data, train_standalone
    from hnas.proxies.flops import count_flops, count_params

    if args.out is not None:
        check_output_file(args.out, [args.recipe], args.force, what="--out")
    if args.seed < 0:
        raise HnasError(f"--seed must be >= 0, got {args.seed}")
    paddle.set_device("cpu" if not paddle.device.is_compiled_with_cuda() else paddle.device.get_device())
    recipe = recipe_from_arguments(args)
    data = load_bench_data(recipe)
    spec = data.space.decode(args.arch)
    init_state = None
    if args.init_from is not None:
        from hnas.export import load_export

        exported = load_export(args.init_from)
        if exported.arch != args.arch:
            raise HnasError(f"--init-from {args.init_from} holds arch {exported.arch}, not {args.arch}")
        if exported.space != data.space:
            raise HnasError(f"--init-from {args.init_from} was exported from space {exported.space.name!r}, but the "
                            f"recipe trains space {data.space.name!r} (set --space, or the data's classes differ)")
        init_state = exported.state
    result = train_standalone(spec, recipe, args.seed, data, init_state)
    record = {"arch": args.arch, "seed": args.seed, "acc": result.acc, "val_loss": result.val_loss,
              "train_loss": result.train_loss, "steps": result.steps, "seconds": round(result.seconds, 2),
              "flops": count_flops(data.space, spec), "params": count_params(data.space, spec),
              "recipe": recipe.to_dict()}
    print(f"{args.arch} seed {args.seed}: val acc {result.acc:.4f} (loss {result.val_loss:.4f}), "
          f"{result.steps} steps in {result.seconds:.1f} s")
    if args.out is not None:
        atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    return 0
