"""``hnas predictor fit|predict``: OFA's accuracy predictor on archs measured with a supernet."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hnas.commands._args import add_output_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predictor",
        help="accuracy predictor (OFA): fit an MLP on measured archs, predict others",
        description=(
            "OFA's accuracy predictor for any registered space: one-hot features of the choice view, an "
            "MLP (3 x 400, ReLU), a bias-free output added to the mean accuracy. 'fit' trains it on an arch "
            "file whose acc fields were measured (the output of hnas eval), 'predict' fills the acc fields "
            "of another arch file; 'hnas search --predictor FILE' ranks candidates with it."
        ),
    )
    actions = parser.add_subparsers(dest="predictor_command", metavar="ACTION", required=True)
    fit = actions.add_parser("fit", help="fit a predictor on an evaluated arch file",
                             description="Fit a predictor on ARCHS (acc = measured accuracy); 1/5 held out "
                                         "reports RMSE and Kendall tau.")
    fit.add_argument("archs", type=Path, metavar="ARCHS", help="evaluated arch file (competition format)")
    fit.add_argument("--space", required=True, metavar="NAME", help="search space of the codes")
    add_output_arguments(fit, "FILE", "predictor file to write", required=True)
    fit.add_argument("--epochs", type=int, default=300, metavar="N", help="training epochs (default: 300)")
    fit.add_argument("--batch-size", type=int, default=256, metavar="N", help="mini-batch size (default: 256)")
    fit.add_argument("--val-fraction", type=float, default=0.2, metavar="F",
                     help="share of the archs held out for validation (default: 0.2, as OFA)")
    fit.add_argument("--limit", type=int, metavar="N", help="fit on the first N archs of the file only")
    fit.add_argument("--seed", type=int, default=0, help="split, initialisation and batch order (default: 0)")
    fit.set_defaults(func=run_fit, imports_paddle=True)

    predict = actions.add_parser("predict", help="predict the accuracy of every arch of a file",
                                 description="Write ARCHS with acc = the predictor's accuracy (a submission-"
                                             "format file that hnas score and hnas validate read).")
    predict.add_argument("predictor", type=Path, metavar="PREDICTOR", help="file written by hnas predictor fit")
    predict.add_argument("archs", type=Path, metavar="ARCHS", help="arch file of the predictor's space")
    add_output_arguments(predict, "FILE", "arch file to write", required=True)
    predict.set_defaults(func=run_predict, imports_paddle=True)


def run_fit(args: argparse.Namespace) -> int:
    from hnas.errors import HnasError
    from hnas.io.archs import load_arch_file
    from hnas.io.outputs import check_output_file
    from hnas.predictor.fit import FitCfg, fit_predictor
    from hnas.search_spaces.spaces import SPACES

    space = SPACES.get(args.space)
    cfg = FitCfg(epochs=args.epochs, batch_size=args.batch_size, val_fraction=args.val_fraction, seed=args.seed)
    if args.limit is not None and args.limit < 1:
        raise HnasError(f"--limit must be >= 1, got {args.limit}")
    check_output_file(args.out, [args.archs], args.force, what="--out")
    entries = list(load_arch_file(args.archs, space).values())[:args.limit]
    predictor, report = fit_predictor(space, [entry.spec for entry in entries], [entry.acc for entry in entries],
                                      cfg, source=str(args.archs))
    predictor.save(args.out)
    print(f"{report.summary()}\npredictor written to {args.out}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from hnas.errors import HnasError
    from hnas.io.archs import ArchFileError, load_arch_file, write_arch_file
    from hnas.io.outputs import check_output_file
    from hnas.predictor.store import load_predictor

    check_output_file(args.out, [args.archs, args.predictor], args.force, what="--out")
    predictor = load_predictor(args.predictor)
    try:
        entries = load_arch_file(args.archs, predictor.space)
    except ArchFileError as error:
        raise HnasError(f"the predictor was fitted on space {predictor.space.name!r}; {error}") from None
    accs = predictor.predict([entry.spec for entry in entries.values()])
    write_arch_file(args.out, entries, dict(zip(entries, (float(acc) for acc in accs))))
    print(f"predicted {len(entries)} archs of {predictor.space.name} -> {args.out}")
    print(json.dumps({"min": float(accs.min()), "max": float(accs.max())}))
    return 0
