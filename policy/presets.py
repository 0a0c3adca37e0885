"""Named regimes: today's rules, each reform on its own, all of them, and the rules as they were.

A preset is a validated set of changes applied to a copy of the `status_quo` baseline (never a
mutation), as policyengine-core applies reforms.
"""

from policy.regime import PolicyRegime
from policy.spec import with_changes

STATUS_QUO = PolicyRegime(
    name="status_quo",
    description="Rules in force on 1 Dec 2026: eSLR reform in effect, clearing mandate not yet in "
    "force, dealer rule vacated, no leverage cap, SRF and a Fed market-functioning backstop.",
)

# Fed purchases by trading day after 9 Mar 2020 (day 1 = 10 Mar), $bn/day.
# Bloomberg schedule table (V2): 13 Mar 37; 16-17 Mar 40; 18 Mar 45; 19 Mar-1 Apr 75;
# 2-3 Apr 60; 6-9 Apr 50; 13-17 Apr 30; 20-24 Apr 15; 27 Apr-1 May 10; 4-8 May 8; 11-15 May 7.
# Trading days: 10 Apr 2020 (Good Friday) was a bond-market holiday.
_MARCH_2020_FED_SCHEDULE = (
    (0.0,) * 3
    + (37.0,)
    + (40.0, 40.0, 45.0)
    + (75.0,) * 10
    + (60.0,) * 2
    + (50.0,) * 4
    + (30.0,) * 5
    + (15.0,) * 5
    + (10.0,) * 5
    + (8.0,) * 5
    + (7.0,) * 5
)

_CHANGES: dict[str, tuple[str, dict[str, object]]] = {
    "clearing_rule": (
        "Status quo plus the SEC central clearing mandate fully in force (cash and repo).",
        {"clearing.enabled": True},
    ),
    "dealer_rule": (
        "Status quo plus the SEC dealer rule reinstated: covered funds hold net capital.",
        {"dealer_rule.enabled": True},
    ),
    "leverage_cap": (
        "Status quo plus a cap of 20x gross notional exposure per dollar of net assets (Form PF "
        "measure) on the RV funds it covers, enforced on a 20-day average.",
        {"leverage_cap.enabled": True, "leverage_cap.enforcement": "averaged"},
    ),
    "all_guardrails": (
        "Clearing mandate, dealer rule and averaged leverage cap together, with cross-margining.",
        {
            "clearing.enabled": True,
            "clearing.cross_margin_offset_pct": 50.0,
            "dealer_rule.enabled": True,
            "leverage_cap.enabled": True,
            "leverage_cap.enforcement": "averaged",
        },
    ),
    "no_fed_backstop": (
        "Status quo without the Fed's market-functioning backstop: no purchases, whatever happens.",
        {"fed_backstop.enabled": False},
    ),
    "as_of_september_2019": (
        "Rules as they were in September 2019: no clearing mandate, eSLR binding, no standing repo "
        "facility (the Fed's ad hoc repo operations from 17 Sep are in the observed SOFR), no "
        "backstop.",
        {
            "leverage_ratio_relief.enabled": False,
            "leverage_ratio_relief.buffer_reduction_pp": 0.0,
            "standing_repo.enabled": False,
            "fed_backstop.enabled": False,
        },
    ),
    "as_of_march_2020": (
        "Rules as they were in March 2020: no clearing mandate, eSLR binding until the 1 Apr "
        "Treasury exclusion, Fed repo operations, the Fed's actual purchase schedule.",
        {
            "leverage_ratio_relief.buffer_reduction_pp": 0.0,
            "leverage_ratio_relief.treasury_exclusion_pct": 100.0,
            "leverage_ratio_relief.effective_day": 17,
            "standing_repo.daily_limit_usd_bn": 1000.0,
            "fed_backstop.enabled": False,
            "fed_backstop.purchase_schedule_usd_bn_per_day": _MARCH_2020_FED_SCHEDULE,
        },
    ),
    "as_of_april_2025": (
        "Rules as they were in April 2025: no clearing mandate, eSLR reform not yet proposed, "
        "SRF with a $500bn limit, no Fed purchases.",
        {
            "leverage_ratio_relief.enabled": False,
            "leverage_ratio_relief.buffer_reduction_pp": 0.0,
            "fed_backstop.enabled": False,
        },
    ),
}

PRESETS: dict[str, PolicyRegime] = {"status_quo": STATUS_QUO}
for _name, (_description, _changes) in _CHANGES.items():
    PRESETS[_name] = with_changes(STATUS_QUO, _changes, name=_name, description=_description)

PRESET_DESCRIPTIONS: dict[str, str] = {name: r.description for name, r in PRESETS.items()}


def preset_names() -> list[str]:
    """Names of all presets, policy presets first, then the as-it-happened regimes."""
    return list(PRESETS)


def get_preset(name: str) -> PolicyRegime:
    """The preset called `name` (frozen, so callers cannot alter the shared copy)."""
    try:
        return PRESETS[name]
    except KeyError:
        allowed = ", ".join(PRESETS)
        raise KeyError(f"unknown regime preset '{name}'; allowed: {allowed}") from None
