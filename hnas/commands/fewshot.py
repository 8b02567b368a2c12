"""``hnas fewshot train``: split a trained supernet into few-shot sub-supernets and train them."""

from __future__ import annotations

import argparse
from pathlib import Path

from hnas.commands._args import add_overrides


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fewshot",
        help="few-shot supernets: split a trained supernet by one slot and train a copy per part",
        description="Few-shot NAS (Zhao et al., 2021) on a trained hnas supernet; see hnas/fewshot.",
    )
    actions = parser.add_subparsers(dest="fewshot_command", metavar="ACTION", required=True)
    train = actions.add_parser(
        "train",
        allow_abbrev=False,
        help="train one sub-supernet per part of the split, each starting from the parent's weights",
        description=(
            "Partition the space by the value of one slot (--split depth3: one part per stage-3 depth; "
            "depth3=2,3/4/5,6: three parts), copy the parent checkpoint's weights into one supernet per "
            "part and train each for --epochs on subnets of its part only, with the parent's config "
            "(overrides as in hnas train: 'optim.lr=0.01', '--data.num_workers 2'). Writes OUT/fewshot.json "
            "and OUT/<part>/ checkpoints; the same command again skips finished parts and resumes the "
            "unfinished one. Then 'hnas eval ARCHS --ckpt OUT' scores each arch with its part's supernet."
        ),
    )
    train.add_argument("parent", type=Path, metavar="PARENT",
                       help="trained supernet checkpoint (a checkpoint folder or a root holding last/)")
    train.add_argument("--split", required=True, metavar="SLOT[=V,V/V/...]",
                       help="the slot whose value decides the part, optionally with grouped values")
    train.add_argument("--out", type=Path, required=True, metavar="DIR", help="few-shot folder to write")
    train.add_argument("--epochs", type=int, default=1, metavar="N",
                       help="training epochs of each part (default: 1)")
    train.add_argument("--dry-run", action="store_true",
                       help="check the parent, split, overrides and --out, print the plan; write nothing")
    add_overrides(train)
    train.set_defaults(func=run, imports_paddle=True,
                       resume_hint="finished parts are kept: run the same command again to resume")


def run(args: argparse.Namespace) -> int:
    from hnas.fewshot.train import plan_fewshot, train_fewshot

    if args.dry_run:
        plan = plan_fewshot(args.parent, args.split, args.out, args.epochs, args.overrides)
        manifest = plan.manifest
        print(f"ok: {len(manifest.parts)} parts of {manifest.space.name} by {manifest.split.describe()}, "
              f"{args.epochs} epoch(s) each from {manifest.parent}; would write {args.out}/fewshot.json and")
        for index, cfg in enumerate(plan.configs):
            print(f"  {manifest.part_dir(index)}: {cfg.sampler.name} on {cfg.sampler.args.get('distribution')}")
        return 0
    result = train_fewshot(args.parent, args.split, args.out, args.epochs, args.overrides)
    counts = {outcome: result.outcomes.count(outcome) for outcome in dict.fromkeys(result.outcomes)}
    print(f"few-shot folder {args.out}: " + ", ".join(f"{count} {outcome}" for outcome, count in counts.items())
          + f" in {result.seconds:.1f} s; evaluate with: hnas eval ARCHS --ckpt {args.out}")
    return 0
