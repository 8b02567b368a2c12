"""Interop with PaddleSlim 2.6.0, hnas's optional extra (``pip install -e '.[paddleslim]'``).

Policy:

* hnas targets PaddlePaddle 3.x and does not need PaddleSlim: the elastic supernet lives in
  :mod:`hnas.search_spaces`, and ``hnas convert-ckpt --from paddleslim`` (key mapping only) works
  without it. Importing this package imports neither PaddleSlim nor any shim.
* PaddleSlim 2.6.0, the last release, is partly broken on Paddle 3.x; :mod:`paddleslim_ext.compat`
  is the scoped shim that makes its OFA and FLOPs counter run, each deviation stated in one line.
* :mod:`paddleslim_ext.baseline` is the official baseline's ResNet under its own layer names
  (plain Paddle); :mod:`paddleslim_ext.ofa` converts it into PaddleSlim's OFA supernet, as the
  baseline did, and activates hnas subnets in it (tests and ``benchmarks/bench_vs_paddleslim.py``).
* Nothing is vendored: no PaddleSlim source is copied into this package.
"""
