import sys

from hnas.cli import main

sys.exit(main())
