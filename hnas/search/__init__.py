"""Search over a space's subnets with a trained supernet: choice-view operators, evolution / random
search (resumable), and plots. The ``hnas search`` command wires them to a checkpoint."""
