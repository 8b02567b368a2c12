"""Arch codes that share prefixes, for the shared-prefix evaluation tests (:mod:`hnas.nn.shared_prefix`)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from hnas.search_spaces.sampling import sample_codes

REAL_TEST_FILE = Path(
    os.environ.get("HNAS_TEST_JSON", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
                   / "CVPR_2022_NAS_Track1_test.json")
)


def prefix_sharing_codes(space, groups: int = 3, per_group: int = 4, singles: int = 2, seed: int = 0) -> list[str]:
    """``groups`` x ``per_group`` codes sharing a prefix key per group, then ``singles`` codes of their own.

    For a space reading the competition's 52-character codes, drawn from the real test file when it
    is present (its most frequent prefixes among the first 5,000 archs); otherwise sampled, with the
    prefix part of the group's first spec copied into the others.
    """
    rng = random.Random(seed)
    if REAL_TEST_FILE.is_file() and space.family == "resnet" and space.code_length == 52:
        codes = [entry["arch"] for entry in list(json.loads(REAL_TEST_FILE.read_text()).values())[:5000]]
        by_key: dict[object, list[str]] = {}
        for code in codes:
            by_key.setdefault(space.prefix_key(space.decode(code)), []).append(code)
        common = sorted(by_key.values(), key=len, reverse=True)[:groups]
        single = [group[0] for group in by_key.values() if len(group) == 1]
        return [code for group in common for code in rng.sample(group, per_group)] + rng.sample(single, singles)
    specs = [space.decode(code) for code in sample_codes(space, groups * per_group + singles, seed=seed)]
    out = []
    for index, spec in enumerate(specs[: groups * per_group]):
        head = specs[index - index % per_group]
        out.append(space.encode(with_prefix(space, spec, head)))
    return out + [space.encode(spec) for spec in specs[groups * per_group:]]


def with_prefix(space, spec, head):
    """``spec`` with ``head``'s prefix (the fields its family's prefix key reads)."""
    import dataclasses

    if space.family == "resnet":
        return dataclasses.replace(
            spec, resolution=head.resolution, depths=(head.depths[0], *spec.depths[1:]),
            out_codes=(head.out_codes[0], *spec.out_codes[1:]), mid_codes=(head.mid_codes[0], *spec.mid_codes[1:]),
        )
    if space.family == "mbv2" and spec.widths:  # elastic widths: the stem and first-block widths too
        return dataclasses.replace(spec, resolution=head.resolution, widths=(*head.widths[:2], *spec.widths[2:]))
    return dataclasses.replace(spec, resolution=head.resolution)
