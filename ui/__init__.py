"""The Streamlit front end: layout, widgets, session state and caching only (no economics, no charts).

Pages: `ui.compare` (the regime comparison) and `ui.methodology` (equations, calibration, levers,
metrics, backtest, limits). `ui.state` keeps the view (a `policy.query.ViewState`) in the session and
the URL; `ui.runner` caches engine runs.
"""
