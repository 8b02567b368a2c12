"""Slot: the largest and smallest value of a domain, by value or by an explicit size order."""

from __future__ import annotations

import pytest

from hnas.search_spaces.slots import Slot


def test_values_order_and_its_reverse() -> None:
    assert (Slot("k", (3, 5, 7), "kernel").largest(), Slot("k", (3, 5, 7), "kernel").smallest()) == (7, 3)
    width = Slot("w", (1, 2, 3), "width", increasing=False)
    assert (width.largest(), width.smallest((2, 3))) == (1, 3)


def test_explicit_order_ranks_the_domain_and_its_subsets() -> None:
    op = Slot("op", (0, 1, 2, 3), "op", order=(3, 0, 1, 2))
    assert (op.largest(), op.smallest()) == (2, 3)
    assert (op.largest((0, 3)), op.smallest((0, 1))) == (0, 0)


def test_an_order_must_list_the_domain() -> None:
    with pytest.raises(ValueError, match="order"):
        Slot("op", (0, 1, 2, 3), "op", order=(0, 1, 2))
