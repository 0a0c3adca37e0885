"""Page: methodology (see ui/methodology.py)."""

from ui import methodology

methodology.page()
