"""A regime from what a caller gives: a preset name, a `.json`/`.toml` file, or an object.

Its own module so the CLI's `regime` command loads only `policy` (no model, no numpy).
"""

from pathlib import Path

from engine.errors import InputError
from policy import PolicyRegime, RegimeInputError, get_preset, load_regime_file


def resolve_regime(regime: str | Path | PolicyRegime) -> PolicyRegime:
    """A regime from a preset name, a `.json`/`.toml` file, or an object."""
    if isinstance(regime, PolicyRegime):
        return regime
    text = str(regime)
    path = Path(text)
    if path.suffix.lower() in (".json", ".toml") and path.is_file():
        try:
            return load_regime_file(path)
        except RegimeInputError as err:
            raise InputError(str(err)) from None
    try:
        return get_preset(text)
    except KeyError as err:
        raise InputError(f"regime: {err.args[0]}, or an existing .json/.toml file") from None
