"""OFA's accuracy predictor: an MLP on one-hot features of a space's choice view.

A predictor is fitted on archs whose supernet accuracy was measured (the output of
``hnas eval`` or a search history) and then ranks candidates at a fraction of a supernet
evaluation's cost (``hnas search --predictor``). Modules: :mod:`~hnas.predictor.features`
(the feature layout and encoding), :mod:`~hnas.predictor.model` (the MLP),
:mod:`~hnas.predictor.fit` (training and validation), :mod:`~hnas.predictor.store` (the file).
"""
