"""Hamming distance of arch codes: the number of differing characters of code[5:] (stem and
block width codes; depth digits excluded, but an active block vs a "00" pad differs in both).

    python utils/distance_calc.py CODE_A CODE_B
    python utils/distance_calc.py --hist 1000 --out hamming.png [--json FILE | --distribution uniform] [--force]

Both codes are checked against the space first (digits only, valid depths and widths); bad
input ends with "distance_calc.py: error: ..." and exit code 2.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hnas.errors import HnasError  # noqa: E402
from hnas.evaluation.distances import distance_histogram, random_pair_distances  # noqa: E402
from hnas.io.archs import load_arch_file  # noqa: E402
from hnas.io.outputs import check_output_file  # noqa: E402
from hnas.search_spaces import SPACES, distance, sampling  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("codes", nargs="*", help="two arch codes")
parser.add_argument("--hist", type=int, metavar="N", help="histogram of N random pairs")
parser.add_argument("--out", type=Path, default=Path("hamming_dis.png"), help="histogram image")
parser.add_argument("--force", action="store_true", help="replace an existing --out (never the --json input)")
parser.add_argument("--json", type=Path, help="draw the pairs from this arch file (default: the sampler)")
parser.add_argument("--distribution", default="competition", help="sampler distribution: competition or uniform")
parser.add_argument("--space", default="resnet48")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


def main() -> None:
    space = SPACES.get(args.space)
    if args.hist is None:
        if len(args.codes) != 2:
            parser.error("give two arch codes, or --hist N")
        for code in args.codes:
            space.decode(code)  # digits, length, depths and widths; raises ArchCodeError
        print(distance.hamming_distance(args.codes[0], args.codes[1], space))
        return
    if args.hist < 1:
        raise HnasError(f"--hist must be >= 1 pairs, got {args.hist}")
    check_output_file(args.out, [args.json], args.force, what="--out")
    if args.json:
        codes = [entry.arch for entry in load_arch_file(args.json, space).values()]
    else:
        codes = sampling.sample_codes(space, 2 * args.hist, args.seed, args.distribution, unique=False)
    print(f"wrote {distance_histogram(random_pair_distances(codes, args.hist, args.seed, space), args.out)}")


try:
    main()
except HnasError as error:
    print(f"distance_calc.py: error: {error}", file=sys.stderr)
    sys.exit(2)
