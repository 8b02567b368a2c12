"""Search over a space's subnets with a trained supernet: choice-view operators, evolution / random
search (resumable), plots, and :mod:`hnas.search.run`, one ``hnas search`` run from a checkpoint to a
search folder."""
