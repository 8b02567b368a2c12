"""Channel-count rounding shared by every family."""

from __future__ import annotations


def make_divisible(value: float, divisor: int, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor`` without dropping below 90 %.

    The rule of the MobileNet reference code, PaddleSlim's OFA layers and PSS-Net's width
    lists: at least ``min_value`` (default ``divisor``); if rounding lost more than 10 % of
    ``value``, one more ``divisor`` is added.
    """
    min_value = divisor if min_value is None else min_value
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value
