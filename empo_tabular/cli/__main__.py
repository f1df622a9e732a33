"""``python -m empo_tabular.cli``: the command line."""
import sys

from . import main

sys.exit(main())
