"""Copy the observed series the backtest needs from ../shared/data into scenarios/history/.

Run once by hand (`python tools/extract_history.py`); the outputs are committed with their source
lines, so the engine never reads ../shared at run time.
"""

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "scenarios" / "history"

# Interest on reserves (IOER/IORB), the policy-rate floor repo trades against, in percent.
# Fed implementation notes: IOER 1.60 from 30 Jan to 3 Mar 2020, 1.10 from 4 Mar, 0.10 from 16 Mar 2020;
# IORB 4.40 from 19 Dec 2024 through April 2025.
POLICY_RATE_STEPS = [
    ("2020-01-30", 1.60), ("2020-03-04", 1.10), ("2020-03-16", 0.10),
    ("2024-12-19", 4.40), ("2025-05-30", 4.40),
]

EPISODES = {
    "march_2020": ("2020-02-10", "2020-05-29"),
    "april_2025": ("2025-03-07", "2025-05-30"),
}

HEADER = (
    "# Observed daily series for the {name} backtest.\n"
    "# dgs10_pct, dgs30_pct: FRED DGS10/DGS30 (Board of Governors H.15), percent, via ../shared/data "
    "(see shared/data/SOURCES.md for the copies and checks).\n"
    "# sofr_pct: FRED SOFR (NY Fed), percent. policy_rate_pct: IOER/IORB from Fed implementation notes.\n"
    "# fed_treasuries_usd_bn: FRED TREAST (H.4.1, Wednesday level), $bn, carried forward to the next week.\n"
)


def _long(name: str, series: str) -> pd.Series:
    frame = pd.read_csv(SHARED / name)
    frame = frame[frame["series"] == series].dropna(subset=["value"])
    return frame.set_index(pd.to_datetime(frame["date"]))["value"].astype(float)


def main() -> int:
    dgs10 = _long("ust_cmt_yields_daily.csv", "DGS10")
    dgs30 = _long("ust_cmt_yields_daily.csv", "DGS30")
    sofr = _long("sofr_daily.csv", "SOFR")
    treast = _long("fed_balance_sheet_weekly.csv", "TREAST") / 1000.0
    steps = pd.Series({pd.Timestamp(d): v for d, v in POLICY_RATE_STEPS})
    for name, (start, end) in EPISODES.items():
        days = dgs10.loc[start:end].index
        frame = pd.DataFrame(index=days)
        frame["dgs10_pct"] = dgs10.reindex(days)
        frame["dgs30_pct"] = dgs30.reindex(days)
        frame["sofr_pct"] = sofr.reindex(days)
        frame["policy_rate_pct"] = steps.reindex(days.union(steps.index)).ffill().reindex(days)
        frame["fed_treasuries_usd_bn"] = treast.reindex(days.union(treast.index)).ffill().reindex(days)
        frame.index.name = "date"
        path = OUT / f"{name}.csv"
        path.write_text(HEADER.format(name=name) + frame.round(4).to_csv())
        print(f"wrote {path.relative_to(ROOT)}: {len(frame)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
