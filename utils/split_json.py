"""Split an arch file into N contiguous parts: ``hnas split`` under the reference script's name.

    python utils/split_json.py FILE --parts N --out DIR [--force]

Writes DIR/<stem>_part{i}of{N}.json (i = 0..N-1), the archs ``hnas eval --shard i/N`` evaluates.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hnas.cli import main  # noqa: E402

sys.exit(main(["split", *sys.argv[1:]]))
