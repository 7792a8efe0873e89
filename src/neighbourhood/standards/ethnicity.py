"""Ethnic category: the NHS Data Dictionary's codes and the ONS 2021 census wording.

Partners record ethnicity either as the NHS Data Dictionary ``ETHNIC CATEGORY`` code
(one letter, what FHIR UK Core's ethnic category extension carries) or as the ONS
2021 census label ("Asian or Asian British: Indian"). Figures are shown by the five
broad groups both share, plus "Not stated" (code Z, or nothing recorded).
"""

from __future__ import annotations

NOT_STATED = "Not stated"
GROUPS = (
    "Asian or Asian British",
    "Black, Black British, Caribbean or African",
    "Mixed or Multiple",
    "White",
    "Other ethnic group",
    NOT_STATED,
)
# NHS Data Dictionary, ETHNIC CATEGORY (2001 census categories, still the national code).
NHS_CODES = {
    "A": "White",
    "B": "White",
    "C": "White",
    "D": "Mixed or Multiple",
    "E": "Mixed or Multiple",
    "F": "Mixed or Multiple",
    "G": "Mixed or Multiple",
    "H": "Asian or Asian British",
    "J": "Asian or Asian British",
    "K": "Asian or Asian British",
    "L": "Asian or Asian British",
    "R": "Asian or Asian British",  # Chinese: Asian in the 2021 census, "Other" in 2001
    "M": "Black, Black British, Caribbean or African",
    "N": "Black, Black British, Caribbean or African",
    "P": "Black, Black British, Caribbean or African",
    "S": "Other ethnic group",
    "Z": NOT_STATED,
    "99": NOT_STATED,
}
# The inclusion health group one can read from ethnicity: only the ONS 2021 label
# separates Gypsy or Irish Traveller and Roma people from other White backgrounds
# (NHS code C covers all three).
GYPSY_ROMA_TRAVELLER = ("White: Gypsy or Irish Traveller", "White: Roma")


def broad_group(recorded: str | None) -> str:
    """The broad group of a code or a label; anything unrecognised counts as not stated."""
    if recorded is None or not recorded.strip():
        return NOT_STATED
    text = recorded.strip()
    if text.upper() in NHS_CODES:
        return NHS_CODES[text.upper()]
    group = text.split(":", 1)[0].strip()
    return group if group in GROUPS else NOT_STATED


def lookup_rows() -> list[dict[str, str]]:
    """Every recognised recording with its broad group, for joining in SQL."""
    rows = [{"recorded": code, "ethnic_group": group} for code, group in NHS_CODES.items()]
    return rows
