"""What a regulator can set, as data: policy levers, named presets and their text forms.

No economics lives here; the engine's transmission turns a `PolicyRegime` into model parameters.
"""

from policy.io import RegimeInputError, load_regime_file, regime_to_json
from policy.presets import PRESET_DESCRIPTIONS, get_preset, preset_names
from policy.regime import (
    ClearingRule,
    DealerRule,
    FedBackstop,
    ForeignDemand,
    FuturesMargin,
    LeverageCap,
    LeverageRatioRelief,
    PolicyRegime,
    StandingRepo,
)
from policy.spec import LeverSpec, lever_specs, regime_value, with_changes

__all__ = [
    "PRESET_DESCRIPTIONS",
    "ClearingRule",
    "DealerRule",
    "FedBackstop",
    "ForeignDemand",
    "FuturesMargin",
    "LeverSpec",
    "LeverageCap",
    "LeverageRatioRelief",
    "PolicyRegime",
    "RegimeInputError",
    "StandingRepo",
    "get_preset",
    "lever_specs",
    "load_regime_file",
    "preset_names",
    "regime_to_json",
    "regime_value",
    "with_changes",
]
