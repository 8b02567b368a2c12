"""Ranking fidelity of a submission: ``hnas score`` under the reference script's name.

    python utils/kendall.py PRED.json GT.json [--top-k 10 0.2] [--plot scatter.png] [--json out.json]

Prints n, Kendall tau-b, Pearson, Spearman (scipy.stats), top-k precision, missing/extra keys.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hnas.cli import main  # noqa: E402

sys.exit(main(["score", *sys.argv[1:]]))
