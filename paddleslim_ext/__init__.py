"""Small, documented extensions of PaddleSlim used by hnas.

Policy:

* hnas targets PaddlePaddle 3.x. PaddleSlim 2.6.0, the last release, is partly broken on
  Paddle 3.x, so hnas does not depend on it: the elastic supernet lives in
  :mod:`hnas.search_spaces` and works on plain Paddle.
* Where PaddleSlim interoperability is wanted (for example its OFA API), the shim or
  subclass lives here, states the PaddleSlim version it supports and explains each
  deviation in one line.
* Nothing is vendored: no PaddleSlim source is copied into this package.
"""
