"""Pydantic models of every policy lever (MODEL.md section 4).

Each group is frozen, forbids unknown fields and rejects NaN or infinity, so the same validation
serves scenario files, CLI flags, URL parameters and the app's widgets. Defaults are the rules in
force on 1 December 2026 (`status_quo`); a group's `enabled` flag switches the whole rule.
"""

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from policy.fields import lever

SEC_CLEARING = "SEC Rel. 34-99149 (89 FR 2714, 16 Jan 2024); compliance dates per Rel. 34-102487"
SEC_DEALER = "SEC Rel. 34-99477 (89 FR 14938, 29 Feb 2024); vacated N.D. Tex. 21 Nov 2024"
RULE_15C3_1 = "SEC Rule 15c3-1(c)(2)(vi)(A) haircut schedule: 4% for 5-10y Treasuries (25x)"


class _Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class ClearingRule(_Group):
    """SEC Treasury central clearing mandate for cash and repo trades."""

    title: ClassVar[str] = "SEC central clearing rule"
    short_title: ClassVar[str] = "Clearing"

    enabled: bool = lever(
        False,
        label="SEC central clearing rule in force",
        unit="on/off",
        description="Mandatory clearing of eligible Treasury repo and cash trades at a CCP (FICC).",
        source=f"{SEC_CLEARING}; cash 31 Dec 2026, repo 30 Jun 2027: not yet in force on 1 Dec 2026",
    )
    repo_cleared_share_pct: float = lever(
        85.0,
        label="Cleared share of RV repo",
        unit="%",
        ge=0,
        le=100,
        step=5,
        description="Share of relative-value funds' repo borrowing that is centrally cleared under the rule.",
        source="Rule scope: repo with a FICC member; inter-affiliate trades exempt (about half of "
        "zero-haircut NCCBR is inter-affiliate, OFR 2025); 35% cleared before the rule (BNP 2023)",
    )
    cash_cleared_share_pct: float = lever(
        70.0,
        label="Cleared share of cash trades",
        unit="%",
        ge=0,
        le=100,
        step=5,
        description="Share of dealers' outright cash Treasury trades that settle through the CCP.",
        source="Final rule covers IDB and broker-dealer cash trades of FICC members; "
        "direct HF cash trades dropped (Debevoise; NatLawReview 2023)",
    )
    haircut_floor_pct: float = lever(
        0.0,
        label="Regulatory haircut floor on cleared repo",
        unit="% of notional",
        ge=0,
        le=10,
        step=0.25,
        description="A minimum margin on cleared repo set by regulation, on top of the CCP's VaR "
        "margin (the margin is the larger of the two). The SEC rule sets none: 0 means the CCP's "
        "model alone sets the margin.",
        source="SEC Rel. 34-99149 sets no haircut floor; a 2% floor was discussed by SEC/FSOC "
        "officials (Bloomberg via Hedgeweek) and minimum haircuts by the FSB (2025)",
    )
    cross_margin_offset_pct: float = lever(
        0.0,
        label="Cross-margining with futures (offset)",
        unit="% of the smaller margin",
        ge=0,
        le=100,
        step=5,
        description="Share of the smaller of repo margin and futures margin that FICC-CME "
        "cross-margining offsets on a basis trade (0 = no recognition).",
        source="Patel, Chicago Fed Letter 517 (2026): basis-trade cost under the mandate "
        "depends on cross-margin recognition",
    )
    margin_anti_procyclicality_pct: float = lever(
        25.0,
        label="CCP margin anti-procyclicality",
        unit="% of VaR response damped",
        ge=0,
        le=100,
        step=5,
        description="Share of the VaR margin's response to recent volatility that the CCP's "
        "anti-procyclicality tools remove (0 = the margin follows recent volatility above its "
        "long look-back level; 100 = it stays at the look-back level).",
        source="CPMI-IOSCO PFMI 6.e anti-procyclicality options; FICC VaR margin (OFR pilot brief)",
    )


class DealerRule(_Group):
    """SEC dealer rule: large principal-trading funds registered as dealers (net capital)."""

    title: ClassVar[str] = "SEC dealer rule"
    short_title: ClassVar[str] = "Dealer rule"

    enabled: bool = lever(
        False,
        label="SEC dealer rule in force",
        unit="on/off",
        description="Covered funds register as dealers and hold net capital against their book.",
        source=f"{SEC_DEALER}; not in force on 1 Dec 2026",
    )
    covered_share_pct: float = lever(
        60.0,
        label="Share of RV book covered",
        unit="%",
        ge=0,
        le=100,
        step=5,
        description="Share of the relative-value book held by funds the rule would cover.",
        source="Top-50 funds hold 83-85% of HF gross Treasuries (Banegas & Monin 2023); "
        "final rule kept only qualitative tests, so coverage is uncertain",
    )
    net_capital_leverage_limit_x: float = lever(
        25.0,
        label="Net-capital leverage limit",
        unit="x equity",
        ge=5,
        le=100,
        step=1,
        description="Largest cash Treasury position per dollar of net capital (trade-level leverage: "
        "a 4% haircut allows 25x; hedge offsets under 15c3-1 are not modelled, so this is an upper "
        "bound on the capital needed).",
        source=RULE_15C3_1 + "; compare aggregate hedge-fund repo leverage of about 56x (553bn on "
        "9.9bn, Banegas & Monin 2023)",
    )
    extra_buffer_pct: float = lever(
        25.0,
        label="Extra capital buffer",
        unit="% of required capital",
        ge=0,
        le=200,
        step=5,
        description="Capital a covered fund holds above its net-capital requirement (early-warning level).",
        source="Rule 17a-11 early-warning level: 120% of minimum net capital (20% buffer)",
    )
    compliance_exit_pct: float = lever(
        10.0,
        label="Compliance exit",
        unit="% of covered book",
        ge=0,
        le=50,
        step=1,
        description="Share of the covered book that leaves the market rather than register.",
        source="Assumption (no published estimate); SEC economic analysis 89 FR 14938 sec. V not quantified",
    )


class LeverageCap(_Group):
    """A cap on relative-value funds' position-to-equity leverage."""

    title: ClassVar[str] = "Leverage cap on RV funds"
    short_title: ClassVar[str] = "Leverage cap"

    enabled: bool = lever(
        False,
        label="Leverage cap on RV funds",
        unit="on/off",
        description="Funds may not hold more than the cap times their equity in RV positions.",
        source="Policy option (FSB Jul 2025 NBFI leverage recommendations); no US rule in force",
    )
    max_gross_leverage_x: float = lever(
        20.0,
        label="Maximum gross leverage",
        unit="x net assets (GNE/NAV)",
        ge=5,
        le=100,
        step=1,
        description="Largest gross notional exposure per dollar of net assets, as Form PF measures "
        "it (both legs of a hedged trade count: cash, futures and swap notional).",
        source="Form PF gross notional exposure / NAV, the OFR Hedge Fund Monitor's gross leverage; "
        "policy option of the FSB NBFI leverage recommendations (Jul 2025); no US rule in force",
    )
    covered_share_pct: float = lever(
        85.0,
        label="Share of RV books covered",
        unit="%",
        ge=0,
        le=100,
        step=5,
        description="Share of the relative-value books held by funds the cap applies to (e.g. large "
        "Form PF filers); the rest, and part of what covered funds give up, stays outside the cap.",
        source="Top-50 funds hold 85% of hedge funds' gross Treasury exposure (Banegas, Monin & "
        "Petrasek 2021; 83% in Dec 2022, Banegas & Monin 2023)",
    )
    enforcement: Literal["daily", "averaged", "released"] = lever(
        "averaged",
        label="Enforcement",
        unit="choice",
        description="daily: binds every day on marked equity (pro-cyclical); averaged: binds on "
        "equity averaged over a trailing window; released: suspended during stress.",
        source="Design choice studied in MODEL.md section 4",
    )
    averaging_window_days: int = lever(
        20,
        label="Averaging window",
        unit="trading days",
        ge=2,
        le=60,
        step=1,
        description="Window of the trailing equity average used when enforcement is 'averaged'.",
        source="Assumption: one month of trading days, as in quarterly-average leverage reporting",
    )


class LeverageRatioRelief(_Group):
    """Dealer leverage-ratio relief: eSLR buffer cut and/or Treasury exclusion."""

    title: ClassVar[str] = "Leverage-ratio (SLR) relief"
    short_title: ClassVar[str] = "SLR relief"

    enabled: bool = lever(
        True,
        label="Leverage-ratio relief for dealers",
        unit="on/off",
        description="Relief from the supplementary leverage ratio for bank-affiliated dealers.",
        source="eSLR final rule adopted 25 Nov 2025, effective 1 Apr 2026 (Chapman; DWT)",
    )
    buffer_reduction_pp: float = lever(
        1.0,
        label="eSLR buffer reduction",
        unit="pp of exposure",
        ge=0,
        le=3,
        step=0.25,
        description="Cut in the leverage buffer above the 3% minimum (2% GSIB holding-company buffer "
        "replaced by half the method-1 surcharge: about 1pp).",
        source="eSLR final rule, FR 1 Dec 2025: HC buffer = 50% of method-1 surcharge",
    )
    treasury_exclusion_pct: float = lever(
        0.0,
        label="Treasury exclusion from leverage exposure",
        unit="%",
        ge=0,
        le=100,
        step=10,
        description="Share of Treasuries and reserves excluded from total leverage exposure (2020 rule: 100).",
        source="Fed interim final rule FR 2020-07345 (1 Apr 2020 to 31 Mar 2021)",
    )
    effective_day: int = lever(
        0,
        label="Takes effect on day",
        unit="trading days after day 0",
        ge=0,
        le=250,
        step=1,
        description="Day of the stress window from which the relief applies (0 = already in force).",
        source="March 2020: announced 1 Apr 2020, trading day 17 after 9 Mar",
    )


class StandingRepo(_Group):
    """The Fed's Standing Repo Facility (SRF)."""

    title: ClassVar[str] = "Standing repo facility"
    short_title: ClassVar[str] = "Standing repo"

    enabled: bool = lever(
        True,
        label="Standing repo facility",
        unit="on/off",
        description="The Fed lends against Treasuries at a set rate, capping repo funding stress.",
        source="SRF est. Jul 2021; full allotment from Dec 2025 (NY Fed SRF FAQ 251210)",
    )
    rate_spread_bp: float = lever(
        10.0,
        label="SRF rate over calm repo",
        unit="bp",
        ge=0,
        le=100,
        step=1,
        description="Minimum bid rate above the calm repo rate; funding stress is capped here.",
        source="SRF minimum bid = top of the fed funds range, about 5-15bp over SOFR (NY Fed 2025)",
    )
    daily_limit_usd_bn: float = lever(
        500.0,
        label="Daily limit",
        unit="$bn/day",
        ge=0,
        le=2000,
        step=50,
        description="Aggregate daily SRF capacity; funding needs beyond it are not capped.",
        source="Aggregate limit $500bn/day (NY Fed operating statements Mar/May 2025)",
    )
    funds_access: bool = lever(
        False,
        label="RV funds reach the SRF",
        unit="on/off",
        description="Whether the cap also reaches RV funds' repo (central clearing of SRF trades "
        "or pass-through), not only dealers.",
        source="Counterparties: primary dealers and depository institutions (NY Fed SRF FAQ)",
    )


class FedBackstop(_Group):
    """A rule for Fed market-functioning purchases, or a historical purchase schedule."""

    title: ClassVar[str] = "Fed backstop"
    short_title: ClassVar[str] = "Fed backstop"

    enabled: bool = lever(
        True,
        label="Fed market-functioning backstop",
        unit="on/off",
        description="The Fed buys Treasuries when the 10y cash dislocation exceeds a threshold, "
        "and tapers rather than stops once it has started.",
        source="FOMC 15 and 23 Mar 2020 statements (purchases 'to support smooth market "
        "functioning'); Logan & Hauser, BIS Markets Committee 2023",
    )
    threshold_bp: float = lever(
        25.0,
        label="Dislocation threshold",
        unit="bp",
        ge=0,
        le=200,
        step=1,
        description="10y cash cheapening beyond fundamentals (as seen the day the Fed decides) at "
        "which purchases start. Drawn per path around this value (assumption "
        "fed_threshold_deviation_bp): how the Fed would read the next episode is uncertain.",
        source="Calibrated: run on March 2020 the rule first buys on 12-13 Mar, as the Fed did "
        "(NY Fed schedule), and buys nothing in April 2025 or the placebo episodes",
    )
    slope_usd_bn_per_bp: float = lever(
        5.0,
        label="Purchase slope",
        unit="$bn/day per bp",
        ge=0,
        le=50,
        step=0.5,
        description="Daily purchases per bp of dislocation above the threshold.",
        source="Calibrated: on March 2020 the rule reaches about $75bn a day by 19 Mar, as the Fed "
        "did (Bloomberg schedule table, V2)",
    )
    max_pace_usd_bn_per_day: float = lever(
        75.0,
        label="Maximum pace",
        unit="$bn/day",
        ge=0,
        le=200,
        step=5,
        description="Largest daily purchase.",
        source="Peak 2020 pace $75bn/day, 19 Mar to 1 Apr 2020 (Bloomberg schedule)",
    )
    lag_days: int = lever(
        1,
        label="Reaction lag",
        unit="trading days",
        ge=0,
        le=10,
        step=1,
        description="Trading days between the dislocation the Fed sees and its purchases (0 = the "
        "same day). Drawn per path around this value (assumption fed_lag_deviation_days).",
        source="2020: dysfunction from 10-12 Mar, first larger purchases 12-13 Mar, $500bn "
        "announced Sun 15 Mar (FOMC; NY Fed)",
    )
    persistence_pct: float = lever(
        97.0,
        label="Purchase persistence",
        unit="% of yesterday's purchases",
        ge=0,
        le=100,
        step=1,
        description="Once buying, the Fed buys at least this share of the previous day's amount, "
        "so purchases taper rather than stop when the dislocation falls (0 = purely rule-driven).",
        source="Calibrated: with 97% the rule run on March 2020 buys about the $837bn the Fed bought "
        "from 10 Mar to 1 Apr (Bloomberg schedule table, V2); the Fed then tapered by about 10% a day",
    )
    purchase_schedule_usd_bn_per_day: tuple[float, ...] = Field(
        default=(),
        max_length=250,
        description="Historical purchases by trading day (day 1 first), used by as-it-happened "
        "regimes instead of the rule. Scaled by the shock scale.",
        json_schema_extra={
            "label": "Historical purchase schedule",
            "unit": "$bn/day",
            "source": "Bloomberg schedule table; Fleming & Ruela, LSE 17 Apr 2020",
        },
    )

    @field_validator("purchase_schedule_usd_bn_per_day")
    @classmethod
    def _schedule_in_range(cls, schedule: tuple[float, ...]) -> tuple[float, ...]:
        for day, amount in enumerate(schedule, start=1):
            if not 0 <= amount <= 200:
                raise ValueError(f"day {day}: {amount} outside 0 to 200 $bn/day")
        return schedule


class FuturesMargin(_Group):
    """CME Treasury futures initial margin and its response to volatility."""

    title: ClassVar[str] = "Futures margin"
    short_title: ClassVar[str] = "Futures margin"

    initial_margin_pct: float = lever(
        1.0,
        label="Futures initial margin (calm)",
        unit="% of notional",
        ge=0.5,
        le=10,
        step=0.25,
        description="Initial margin on the short-futures leg in calm markets.",
        source="CME performance bonds by contract weighted by leveraged funds' shorts (2y/5y/10y/long "
        "40/30/20/10%, Glicoes et al. 2024): 2y about 0.3%, 5y 0.65% ($650 per $100k, CME page, "
        "date not shown), 10y 1.5-2%, bonds 3%+: about 1% (U)",
    )
    anti_procyclicality_pct: float = lever(
        0.0,
        label="Futures margin anti-procyclicality",
        unit="% of volatility response damped",
        ge=0,
        le=100,
        step=5,
        description="Share of the margin's response to volatility removed by anti-procyclicality tools.",
        source="Abruzzo & Park, FEDS 2014-86: CME margins rise fast after volatility spikes",
    )


class ForeignDemand(_Group):
    """Calm-period foreign demand (stress sales belong to the scenario)."""

    title: ClassVar[str] = "Foreign demand"
    short_title: ClassVar[str] = "Foreign demand"

    calm_shift_usd_bn: float = lever(
        0.0,
        label="Calm-period foreign demand shift",
        unit="$bn",
        ge=-2000,
        le=2000,
        step=50,
        description="Change in foreign holdings before the shock; negative means foreign holders "
        "step back and others must absorb the difference.",
        source="Foreign holdings about $9.2tn (CRS RS22331, Dec 2025); China -113bn Mar-Dec 2025 (TIC)",
    )


class PolicyRegime(BaseModel):
    """A complete set of policy settings, named: the name is its key in every result."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_ .\-]*$",
        description="Key of the regime in every result (letters, digits, space, _ . -).",
    )
    description: str = Field(default="", max_length=500, description="One line for people.")
    clearing: ClearingRule = ClearingRule()
    dealer_rule: DealerRule = DealerRule()
    leverage_cap: LeverageCap = LeverageCap()
    leverage_ratio_relief: LeverageRatioRelief = LeverageRatioRelief()
    standing_repo: StandingRepo = StandingRepo()
    fed_backstop: FedBackstop = FedBackstop()
    futures_margin: FuturesMargin = FuturesMargin()
    foreign_demand: ForeignDemand = ForeignDemand()


# The lever groups in the order of PolicyRegime's fields, with their titles: the app's group pills,
# the CLI's params and the docs read them from here.
GROUPS: tuple[str, ...] = tuple(
    name for name, field in PolicyRegime.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, _Group)
)
GROUP_TITLES: dict[str, tuple[str, str]] = {
    name: (PolicyRegime.model_fields[name].annotation.title, PolicyRegime.model_fields[name].annotation.short_title)
    for name in GROUPS
}
