"""Page: compare regimes (see ui/compare.py)."""

from ui import compare

compare.page()
