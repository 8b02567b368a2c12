"""``hnas eval``: score every arch of a competition file with a trained supernet."""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from hnas.commands._args import (
    add_checkpoint_arguments,
    add_output_arguments,
    add_scoring_arguments,
    add_shared_prefix_argument,
)
from hnas.errors import HnasError
from hnas.evaluation.request import DEFAULT_OUT, EvalRequest
from hnas.evaluation.shards import Shard, parse_shard


def _shard(text: str) -> Shard:
    try:
        return parse_shard(text)
    except HnasError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate the archs of a JSON file with a trained supernet and write a submission",
        description=(
            "Validate the arch file, load the checkpoint, then for each arch activate the subnet in the "
            "supernet, optionally recalibrate BN, and measure top-1/top-5 on a fixed validation subset. "
            "Results are appended to <out>.progress.jsonl as they come, so a killed run restarted with the "
            "same arguments resumes. The submission keeps the input's layout with acc = top-1 accuracy as a "
            "fraction in [0, 1]. With --shard i/N only that contiguous part is evaluated and written to "
            "<out stem>_part{i}of{N}.json (join with 'hnas merge')."
        ),
    )
    parser.add_argument("json_file", type=Path, metavar="JSON", help="arch file, e.g. CVPR_2022_NAS_Track1_test.json")
    add_checkpoint_arguments(parser)
    add_output_arguments(parser, "FILE", f"submission path (default: {DEFAULT_OUT})", default=DEFAULT_OUT,
                         force_help="replace an existing --out that is not this evaluation's own result "
                                    "(never the input)")
    parser.add_argument("--shard", type=_shard, default=Shard(0, 1), metavar="i/N",
                        help="evaluate part i (0-based) of N; 'auto' takes PADDLE_TRAINER_ID/PADDLE_TRAINERS_NUM")
    add_scoring_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="selects the validation and recalibration images (default: 0)")
    parser.add_argument("--restart", action="store_true", help="discard earlier progress instead of resuming")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="evaluate with N processes on this machine (shard i/N each, logs next to --out), then "
                             "merge into --out; a rerun resumes every shard (keep N)")
    parser.add_argument("--max-archs", type=int, metavar="N",
                        help="evaluate at most N new archs in this run, then stop (resumable)")
    add_shared_prefix_argument(parser, "archs")
    parser.add_argument("--dry-run", action="store_true",
                        help="only validate the arch file, config, data, checkpoint and output path; write nothing")
    parser.set_defaults(func=run, imports_paddle=True,
                        resume_hint="finished archs are kept: run the same command again to resume")


def check_eval_output(request: EvalRequest, force: bool) -> None:
    """The result file, checked by the rule of :mod:`hnas.io.outputs` before any work.

    An existing result next to its progress file (or, for the whole file, next to the shards'
    progress files of ``eval_supernet.sh``) is this evaluation's own and is resumed; any other
    existing file needs ``--force``.
    """
    from hnas.evaluation.progress import progress_path
    from hnas.io.outputs import check_output_file

    result = request.result_path
    inputs = [request.arch_file, request.checkpoint, request.config]
    own = progress_path(result).is_file()
    if request.shard.is_whole and not own and result.parent.is_dir():
        own = any(result.parent.glob(f"{glob_escape(result.stem)}_part*of*.progress.jsonl"))
    check_output_file(result, inputs, force, what="--out", own_result=own)
    check_output_file(progress_path(result), inputs, True, what="progress file")


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters quoted."""
    import glob

    return glob.escape(text)


def run(args: argparse.Namespace) -> int:
    from hnas.evaluation.submission import check_request, evaluate_file  # imports Paddle

    request = EvalRequest(
        arch_file=args.json_file,
        checkpoint=args.ckpt,
        config=args.config,
        out=args.out,
        shard=args.shard,
        val_images=args.val_images,
        bn_recal=args.bn_recal,
        recal_batches=args.recal_batches,
        recal_batch_size=args.recal_batch_size,
        batch_size=args.batch_size,
        seed=args.seed,
        restart=args.restart,
        max_archs=args.max_archs,
        weights=args.weights,
        shared_prefix=args.shared_prefix,
    )
    request.check()
    check_eval_output(request, args.force)
    if args.workers is not None:
        return run_with_workers(request, args)
    if args.dry_run:
        plan = check_request(request)
        print(f"ok: {len(plan.entries)} archs in shard {request.shard} of {args.json_file}, "
              f"space {plan.space.name}, weights {plan.weights}; would write {request.result_path}")
        return 0
    outcome = evaluate_file(request)
    run_info = outcome.run
    print(
        f"evaluated {run_info.evaluated} archs in {run_info.seconds:.1f} s ({run_info.rate:.2f} archs/s); "
        f"{run_info.resumed} resumed from {outcome.progress_path}"
    )
    if not outcome.complete:
        print(f"stopped with {len(run_info.results)} of {outcome.total} archs done; rerun to continue")
        return 0
    top1 = [result.top1 for result in run_info.results.values()]
    if top1:
        print(f"top-1: mean {statistics.fmean(top1):.4f}, min {min(top1):.4f}, max {max(top1):.4f}")
    print(f"wrote {outcome.result_path} ({outcome.total} archs, acc = top-1 fraction)")
    return 0


def run_with_workers(request: EvalRequest, args: argparse.Namespace) -> int:
    """``--workers N``: check everything once, run the shard workers, merge (see :mod:`hnas.evaluation.pool`)."""
    import sys

    from hnas.evaluation.pool import failure_line, refuse_busy, run_workers
    from hnas.evaluation.submission import check_request

    if args.workers < 1:
        raise HnasError(f"--workers must be >= 1, got {args.workers}")
    if not request.shard.is_whole:
        raise HnasError("--workers chooses the shards itself: drop --shard")
    refuse_busy(request.out)  # before the checks: the workers of an earlier run may be loading the same files
    plan = check_request(request)  # bad input costs nothing: before any worker starts or any log is written
    if args.dry_run:
        print(f"ok: {len(plan.entries)} archs of {args.json_file} in {args.workers} shards, space {plan.space.name}; "
              f"would write {request.out}")
        return 0
    failures = run_workers(request, args.workers, args.argv, plan.space)
    if failures:
        print(failure_line(failures, request, args.argv), file=sys.stderr)
        return failures[0].code
    print(f"merged {args.workers} shard(s) into {request.out}")
    return 0
