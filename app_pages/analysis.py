"""Page: policy analysis (see ui/analysis.py)."""

from ui import analysis

analysis.page()
