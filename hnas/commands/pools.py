"""``hnas pools``: the best subnets of each PSS-Net pool of a checkpoint (PSS-Net's top-5 evaluation list)."""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

from hnas.commands._args import add_output_arguments
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pools",
        help="top subnets of each PSS-Net pool (FLOPs / params bucket) of a pss checkpoint",
        description=(
            "List, for every cost metric and bucket of a checkpoint trained with sampler pss, the "
            "pool's best subnets by score (the EMA of -loss), best first. PSS-Net evaluates the "
            "top 5 of each pool after training, with the max and min net: --archs-out writes them as an arch "
            "file for hnas eval, and --table SUBMISSION joins hnas eval's accuracies into PSS-Net's "
            "end-of-training table (table.md, table.json and table.png in --out-dir)."
        ),
    )
    parser.add_argument("checkpoint", type=Path, metavar="CKPT", help="checkpoint folder or its root (uses last)")
    parser.add_argument("--top", type=int, default=5, metavar="K", help="subnets per pool (default: 5)")
    add_output_arguments(parser, "FILE", 'also write [{"metric", "bucket", "subnets": [{"arch", "score"}]}] as JSON',
                         force_help="replace existing output files (--out, --archs-out, the --out-dir tables; "
                                    "never an input)")
    parser.add_argument("--archs-out", type=Path, metavar="FILE",
                        help="write the max net, the listed pool members and the min net as an arch file for hnas eval")
    parser.add_argument("--table", type=Path, metavar="SUBMISSION",
                        help="hnas eval's result for the --archs-out file: write PSS-Net's table to --out-dir")
    parser.add_argument("--out-dir", type=Path, metavar="DIR", help="folder of table.md, table.json, table.png")
    parser.set_defaults(func=run)


TABLE_FILES = ("table.md", "table.json", "table.png")


def run(args: argparse.Namespace) -> int:
    from hnas.checkpoints.folder import STATE_FILE, resolve_checkpoint
    from hnas.samplers.pss import top_subnets

    if args.top < 1:
        raise HnasError(f"--top must be >= 1, got {args.top}")
    _check_outputs(args)
    folder = resolve_checkpoint(args.checkpoint)
    try:
        with open(folder / STATE_FILE, "rb") as stream:
            payload = pickle.load(stream)  # noqa: S301 - a checkpoint is trusted like its weights
    except (OSError, pickle.UnpicklingError, EOFError) as error:
        raise HnasError(f"checkpoint {folder}: cannot read {STATE_FILE} ({error})") from None
    rows = top_subnets(payload.get("sampler", {}), args.top)
    accs = _read_accs(args.table) if args.table is not None else None
    for metric, bucket, subnets in rows:
        print(f"{metric} bucket {bucket:,.0f}: {len(subnets)} shown")
        for rank, (code, score) in enumerate(subnets, start=1):
            print(f"  {rank}. {code}  score {score:.4f}")
    if args.out is not None:
        data = [{"metric": metric, "bucket": bucket, "subnets": [{"arch": c, "score": s} for c, s in subnets]}
                for metric, bucket, subnets in rows]
        atomic_write_text(args.out, json.dumps(data, indent=1) + "\n")
    if args.archs_out is not None or accs is not None:
        _write_table_files(args, folder, rows, accs)
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Every output path is checked before anything is read or written."""
    from hnas.io.outputs import check_output_file

    inputs = [args.checkpoint, args.table]
    if args.out is not None:
        check_output_file(args.out, inputs, args.force, what="--out")
    if args.archs_out is not None:
        check_output_file(args.archs_out, inputs, args.force, what="--archs-out")
    if (args.table is None) != (args.out_dir is None):
        raise HnasError("--table SUBMISSION and --out-dir DIR go together")
    if args.out_dir is not None:
        if args.out_dir.exists() and not args.out_dir.is_dir():
            raise HnasError(f"--out-dir {args.out_dir} exists and is not a folder")
        if not args.out_dir.resolve().parent.is_dir():
            raise HnasError(f"--out-dir {args.out_dir}: folder {args.out_dir.resolve().parent} does not exist")
        if args.out_dir.is_dir():
            for name in TABLE_FILES:
                check_output_file(args.out_dir / name, inputs, args.force, what="--out-dir")


def _read_accs(path: Path) -> dict[str, float]:
    from hnas.io.archs import read_json_object

    data = read_json_object(path, what="--table submission")
    accs = {}
    for key, entry in data.items():
        acc = entry.get("acc") if isinstance(entry, dict) else None
        if not isinstance(acc, (int, float)) or isinstance(acc, bool):
            raise HnasError(f"--table {path}: entry {key!r} has no numeric 'acc' (give hnas eval's result)")
        accs[key] = float(acc)
    return accs


def _write_table_files(args: argparse.Namespace, folder: Path, rows: list, accs: dict[str, float] | None) -> None:
    from hnas.checkpoints.source import config_space, locate
    from hnas.evaluation.pss_table import build_table, plot_table, render_markdown, table_archs, table_json

    source = locate(folder, None)
    space = source.space or config_space(source.config)
    if args.archs_out is not None:
        archs = table_archs(rows, space)
        atomic_write_text(args.archs_out, json.dumps(archs, indent=1) + "\n")
        print(f"wrote {len(archs)} archs (max net, pool members, min net) to {args.archs_out}; evaluate them with "
              f"hnas eval {args.archs_out} --ckpt {args.checkpoint} --out RESULT")
    if accs is not None:
        table = build_table(rows, accs, space)
        args.out_dir.mkdir(exist_ok=True)
        markdown = render_markdown(table)
        atomic_write_text(args.out_dir / "table.md", markdown)
        atomic_write_text(args.out_dir / "table.json", json.dumps(table_json(table), indent=1) + "\n")
        plot_table(table, args.out_dir / "table.png", title=f"{space.name}: {args.checkpoint}")
        print(markdown)
        print(f"wrote {', '.join(TABLE_FILES)} to {args.out_dir}")
