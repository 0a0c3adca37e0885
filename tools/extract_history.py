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

# Interest on reserves (IOER, and from 29 Jul 2021 IORB), the policy-rate floor repo trades against, in percent,
# as (effective date, rate); each rate holds until the next step. Source: Federal Reserve implementation notes
# issued with the FOMC statements (the rate is effective the day after the FOMC decision, 16 Mar 2020 for the
# Sunday 15 Mar 2020 decision). 2 May 2019 and 30 Jan 2020 are technical adjustments (no change in the target
# range). Checked against SOFR in ../shared/data: SOFR steps on the effective date at every step from
# 2019-08-01 on, and by +5bp on 2020-01-30 (ON RRP moved with IOER). 2018-12-20 predates the data, and the
# 2019-05-02 cut moved IOER alone, so SOFR shows no clean step; both are as in the Regulation D notices
# (Federal Register: IOER 2.40 as of 20 Dec 2018; 84 FR 20541, IOER 2.35 applicable 2 May 2019).
POLICY_RATE_STEPS = [
    ("2018-12-20", 2.40), ("2019-05-02", 2.35), ("2019-08-01", 2.10), ("2019-09-19", 1.80),
    ("2019-10-31", 1.55), ("2020-01-30", 1.60), ("2020-03-04", 1.10), ("2020-03-16", 0.10),
    ("2021-06-17", 0.15),  # IOER 0.15 from 17 Jun 2021; renamed IORB, still 0.15, from 29 Jul 2021
    ("2022-03-17", 0.40), ("2022-05-05", 0.90), ("2022-06-16", 1.65), ("2022-07-28", 2.40),
    ("2022-09-22", 3.15), ("2022-11-03", 3.90), ("2022-12-15", 4.40), ("2023-02-02", 4.65),
    ("2023-03-23", 4.90), ("2023-05-04", 5.15), ("2023-07-27", 5.40), ("2024-09-19", 4.90),
    ("2024-11-08", 4.65), ("2024-12-19", 4.40),  # 4.40 held through the end of June 2025
]

# (start, end) of each window; the long pre-windows carry the year before day 0 that the 10y-on-2y beta
# and the realized volatility are estimated over.
EPISODES = {
    "march_2020": ("2019-02-01", "2020-06-30"),
    "april_2025": ("2024-03-01", "2025-06-30"),
    # Wanted from 2018-09-04, but ../shared/data start on 2019-01-01: the window starts at the first
    # trading day there, 2019-01-02, so the year before day 0 (2019-09-13) is only partly covered.
    "repo_spike_2019": ("2019-01-02", "2019-10-31"),
    "term_premium_2023": ("2022-07-01", "2023-12-29"),
}

HEADER = (
    "# Observed daily series for the {name} backtest.\n"
    "# dgs2_pct, dgs5_pct, dgs10_pct, dgs30_pct: FRED DGS2/DGS5/DGS10/DGS30 (Board of Governors H.15), percent, "
    "via ../shared/data (see shared/data/SOURCES.md for the copies and checks).\n"
    "# sofr_pct: FRED SOFR (NY Fed), percent. policy_rate_pct: IOER/IORB from Fed implementation notes.\n"
    "# fed_treasuries_usd_bn: FRED TREAST (H.4.1, Wednesday level), $bn, carried forward to the next week.\n"
)


def _long(name: str, series: str) -> pd.Series:
    frame = pd.read_csv(SHARED / name)
    frame = frame[frame["series"] == series].dropna(subset=["value"])
    return frame.set_index(pd.to_datetime(frame["date"]))["value"].astype(float)


def main() -> int:
    yields = {s: _long("ust_cmt_yields_daily.csv", s) for s in ("DGS2", "DGS5", "DGS10", "DGS30")}
    dgs10 = yields["DGS10"]
    sofr = _long("sofr_daily.csv", "SOFR")
    treast = _long("fed_balance_sheet_weekly.csv", "TREAST") / 1000.0
    steps = pd.Series({pd.Timestamp(d): v for d, v in POLICY_RATE_STEPS})
    for name, (start, end) in EPISODES.items():
        days = dgs10.loc[start:end].index
        frame = pd.DataFrame(index=days)
        for series, values in yields.items():
            frame[f"{series.lower()}_pct"] = values.reindex(days)
        frame["sofr_pct"] = sofr.reindex(days)
        frame["policy_rate_pct"] = steps.reindex(days.union(steps.index)).ffill().reindex(days)
        frame["fed_treasuries_usd_bn"] = treast.reindex(days.union(treast.index)).ffill().reindex(days)
        frame.index.name = "date"
        path = OUT / f"{name}.csv"
        path.write_text(HEADER.format(name=name) + frame.round(4).to_csv())
        print(f"wrote {path.relative_to(ROOT)}: {len(frame)} rows, {frame.index[0].date()}..{frame.index[-1].date()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
