"""Explanations shown in more than one place of the app (one wording, so the pages agree)."""

# Lever groups and their titles come from the policy spec (policy.regime), in its order.
from policy.regime import GROUP_TITLES, GROUPS  # noqa: F401 - re-exported for the UI


def plain(text: object) -> str:
    """Text shown literally inside Markdown (st.markdown, st.caption, st.error, ...): names, titles,
    labels and messages may come from a link or a file, so no link, image, emphasis, colour or LaTeX
    they contain may render."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-!|<>~$:" else c for c in str(text))

FED_NOTE = (
    "A dated (historical) Fed purchase schedule, as in the as-it-happened presets, is scaled with the shock "
    "severity. The rule-based backstop is not scaled: it responds by itself to the dislocation the shock causes."
)
FUNCTIONING_NOTE = (
    "Dysfunction: the 10y dislocation and dealer utilization are both past their thresholds on the same day, "
    "as on 10-18 March 2020. Breakdown: beyond anything observed (the 10y dislocation or depth past the breakdown "
    "thresholds on two trading days running). The market always clears at a price; these classify the priced paths."
)

