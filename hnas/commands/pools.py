"""``hnas pools``: the best subnets of each PSS-Net pool of a checkpoint (PSS-Net's top-5 evaluation list)."""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

from hnas.commands._args import add_output_arguments
from hnas.errors import HnasError
from hnas.io.atomic import atomic_write_text
from hnas.io.outputs import check_output_file


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pools",
        help="top subnets of each PSS-Net pool (FLOPs / params bucket) of a pss checkpoint",
        description=(
            "List, for every cost metric and bucket of a checkpoint trained with sampler pss, the "
            "pool's best subnets by score (the EMA of -loss), best first. PSS-Net evaluates the "
            "top 5 of each pool after training; pass the codes to hnas eval to do the same."
        ),
    )
    parser.add_argument("checkpoint", type=Path, metavar="CKPT", help="checkpoint folder or its root (uses last)")
    parser.add_argument("--top", type=int, default=5, metavar="K", help="subnets per pool (default: 5)")
    add_output_arguments(parser, "FILE", 'also write [{"metric", "bucket", "subnets": [{"arch", "score"}]}] as JSON')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hnas.checkpoints.folder import STATE_FILE, resolve_checkpoint
    from hnas.samplers.pss import top_subnets

    if args.top < 1:
        raise HnasError(f"--top must be >= 1, got {args.top}")
    if args.out is not None:
        check_output_file(args.out, [args.checkpoint], args.force, what="--out")
    folder = resolve_checkpoint(args.checkpoint)
    try:
        with open(folder / STATE_FILE, "rb") as stream:
            payload = pickle.load(stream)  # noqa: S301 - a checkpoint is trusted like its weights
    except (OSError, pickle.UnpicklingError, EOFError) as error:
        raise HnasError(f"checkpoint {folder}: cannot read {STATE_FILE} ({error})") from None
    rows = top_subnets(payload.get("sampler", {}), args.top)
    for metric, bucket, subnets in rows:
        print(f"{metric} bucket {bucket:,.0f}: {len(subnets)} shown")
        for rank, (code, score) in enumerate(subnets, start=1):
            print(f"  {rank}. {code}  score {score:.4f}")
    if args.out is not None:
        data = [{"metric": metric, "bucket": bucket, "subnets": [{"arch": c, "score": s} for c, s in subnets]}
                for metric, bucket, subnets in rows]
        atomic_write_text(args.out, json.dumps(data, indent=1) + "\n")
    return 0
