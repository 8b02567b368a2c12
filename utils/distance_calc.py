"""Hamming distance of arch codes: the number of differing characters of code[5:] (stem and
block width codes; depth digits excluded, but an active block vs a "00" pad differs in both).

    python utils/distance_calc.py CODE_A CODE_B
    python utils/distance_calc.py --hist 1000 --out hamming.png [--json FILE | --distribution uniform]
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hnas.evaluation.distances import distance_histogram, random_pair_distances  # noqa: E402
from hnas.io.archs import load_arch_file  # noqa: E402
from hnas.search_spaces import SPACES, distance, sampling  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("codes", nargs="*", help="two arch codes")
parser.add_argument("--hist", type=int, metavar="N", help="histogram of N random pairs")
parser.add_argument("--out", type=Path, default=Path("hamming_dis.png"), help="histogram image")
parser.add_argument("--json", type=Path, help="draw the pairs from this arch file (default: the sampler)")
parser.add_argument("--distribution", default="competition", help="sampler distribution: competition or uniform")
parser.add_argument("--space", default="resnet48")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
space = SPACES.get(args.space)
if args.hist is None:
    if len(args.codes) != 2:
        parser.error("give two arch codes, or --hist N")
    print(distance.hamming_distance(args.codes[0], args.codes[1], space))
else:
    if args.json:
        codes = [entry.arch for entry in load_arch_file(args.json, space).values()]
    else:
        codes = sampling.sample_codes(space, 2 * args.hist, args.seed, args.distribution, unique=False)
    print(f"wrote {distance_histogram(random_pair_distances(codes, args.hist, args.seed, space), args.out)}")
