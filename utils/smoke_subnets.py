"""Build a few subnets of a search space and run one forward pass through each.

A quick end-to-end check that the space, the arch-code codec and the stand-alone builder
agree: ``python utils/smoke_subnets.py --space resnet48_tiny --n 4``.
"""

from __future__ import annotations

import argparse
import random

import paddle

from hnas.search_spaces import SPACES
from hnas.search_spaces.sampling import sample_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="resnet48_tiny", help="search space name (default: %(default)s)")
    parser.add_argument("--n", type=int, default=4, help="subnets: max, min and n-2 random (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    paddle.set_device("cpu")
    paddle.seed(args.seed)
    space = SPACES.get(args.space)
    rng = random.Random(args.seed)
    specs = [space.max_spec(), space.min_spec()] + [sample_spec(space, rng) for _ in range(max(args.n - 2, 0))]
    for spec in specs[: args.n]:
        model = space.build_standalone(spec)
        model.eval()
        images = paddle.randn([args.batch_size, space.in_channels, spec.resolution, spec.resolution])
        with paddle.no_grad():
            logits = model(images)
        params = sum(int(p.size) for p in model.parameters())
        print(f"{space.encode(spec)}  params {params:>9,}  logits {list(logits.shape)}")


if __name__ == "__main__":
    main()
