"""hnas: one-shot NAS supernets on PaddlePaddle whose output is a ranking of architectures."""

__version__ = "0.1.0"
