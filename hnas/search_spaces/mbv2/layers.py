"""The elastic layers the mbv2 family builds on, all shared with the other families.

The depthwise conv with an elastic kernel (OFA's kernel centres and optional learned transforms)
and the conv + BN pairs live in :mod:`hnas.search_spaces.ops`; they are named here for code that
imports them from the family.
"""

from __future__ import annotations

from hnas.search_spaces.ops import ElasticConvBN, ElasticDepthwiseBN, ElasticDepthwiseConv2D, centre, leading_block

__all__ = ["ElasticConvBN", "ElasticDepthwiseBN", "ElasticDepthwiseConv2D", "centre", "leading_block"]
