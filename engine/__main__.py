"""Entry point of `python -m engine`."""

import sys

from engine.cli import main

# Guarded: Dask's spawned worker processes re-import the main module (as __mp_main__), and must
# not run the CLI again there.
if __name__ == "__main__":
    sys.exit(main())
