"""RSS: one subnet per epoch, from (seed, epoch) alone; the anchor variant alternates min and max."""

from __future__ import annotations

from hnas.samplers import SAMPLERS
from hnas.search_spaces import SPACES

SPACE = SPACES.get("resnet48_tiny")


def test_every_step_of_an_epoch_trains_the_same_subnet_on_the_labels() -> None:
    sampler = SAMPLERS.build("rss", space=SPACE, seed=0)
    for epoch in range(3):
        nets = [sampler.sample(step, epoch) for step in range(epoch * 50, epoch * 50 + 50)]
        assert all(len(step) == 1 and step[0].role == "single" for step in nets)
        assert len({step[0].spec for step in nets}) == 1
    per_epoch = [sampler.sample(0, epoch)[0].spec for epoch in range(6)]
    assert len(set(per_epoch)) == 6  # a new subnet each epoch


def test_the_subnet_depends_on_seed_and_epoch_not_on_history() -> None:
    first = SAMPLERS.build("rss", space=SPACE, seed=4)
    for epoch in range(5):
        first.sample(3, epoch)
    fresh = SAMPLERS.build("rss", space=SPACE, seed=4)
    assert first.sample(7, 2) == fresh.sample(0, 2)
    assert SAMPLERS.build("rss", space=SPACE, seed=5).sample(0, 2) != fresh.sample(0, 2)


def test_anchor_alternates_smallest_and_largest() -> None:
    sampler = SAMPLERS.build("rss", space=SPACE, seed=0, anchor=True)
    assert [sampler.sample(9, epoch)[0].spec for epoch in range(4)] == [
        SPACE.min_spec(), SPACE.max_spec(), SPACE.min_spec(), SPACE.max_spec()]
