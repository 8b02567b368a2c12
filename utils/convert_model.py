"""Convert checkpoint keys between multi-GPU (``paddle.DataParallel``: ``_layers.`` prefix) and
single-process form. Never overwrites its input; prints what it did.

    python utils/convert_model.py IN.pdparams OUT.pdparams --to single   # strip "_layers."
    python utils/convert_model.py IN.pdparams OUT.pdparams --to multi    # add "_layers."
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hnas.errors import HnasError  # noqa: E402
from hnas.nn.state_dict import CONVERSIONS, convert_checkpoint_file  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("source", type=Path)
parser.add_argument("target", type=Path)
parser.add_argument("--to", choices=sorted(CONVERSIONS), required=True, help="single: strip _layers.; multi: add it")
parser.add_argument("--force", action="store_true", help="overwrite an existing output (never the input)")
args = parser.parse_args()
try:
    print(convert_checkpoint_file(args.source, args.target, args.to, args.force).describe())
except HnasError as error:
    print(f"convert_model.py: error: {error}", file=sys.stderr)
    sys.exit(2)
