"""The channels of the daily stress step, one module each, in the order they act within a day.

margins (what funds must post) -> deleverage (what funds sell) -> failures (who cannot meet margin,
and how their collateral is sold) -> fed (purchases by rule or schedule) -> clearing (dealers and
value buyers absorb the net sales at a price) -> prices (spreads, losses, volatility feedback).
"""
