"""Briefing exports: chart builders (shared with the app), static chart files, the PDF/ZIP pack."""
