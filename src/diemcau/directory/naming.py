"""Endpoint names from the rulebook's naming rule (KH Đ6.4, R3).

The rulebook gives one pattern per agency kind ("UBND.{name_spaced}"); this module fills it
from the agency and checks a proposed name, allowing the device suffix (".01", ".02"…).
"""

from __future__ import annotations

import unicodedata

from diemcau.rulebooks import Rulebook

from .models import Agency

# Words that name the division type, not the place: "Thành phố Nha Trang" → "Nha Trang".
_DIVISION_WORDS = (
    "ủy ban nhân dân",
    "ubnd",
    "thành phố",
    "thị xã",
    "thị trấn",
    "huyện",
    "quận",
    "phường",
    "xã",
    "đặc khu",
)


def ascii_fold(text: str) -> str:
    """Vietnamese text without diacritics: "Xương Huân" → "Xuong Huan", "Đồng" → "Dong"."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def proper_name(agency_name: str) -> str:
    """The place's own name, without the leading division words."""
    name = agency_name.strip()
    changed = True
    while changed:
        changed = False
        for word in _DIVISION_WORDS:
            if name.lower().startswith(word + " "):
                name = name[len(word) + 1 :].strip()
                changed = True
    return name


def name_spaced(agency: Agency) -> str:
    return " ".join(ascii_fold(proper_name(agency.name)).split())


def name_camel(agency: Agency) -> str:
    return "".join(word[:1].upper() + word[1:] for word in name_spaced(agency).split())


def initials(agency_name: str) -> str:
    """District abbreviation for commune names: "Thành phố Nha Trang" → "NT"."""
    return "".join(word[0].upper() for word in ascii_fold(proper_name(agency_name)).split())


def expected_base_name(agency: Agency, rulebook: Rulebook) -> str | None:
    """The name the rule requires for this agency's endpoint, or None if the rule is silent."""
    parent = agency.parent
    return rulebook.endpoint_name(
        agency.kind,
        abbreviation=agency.abbreviation or initials(agency.name),
        name_spaced=name_spaced(agency),
        name_camel=name_camel(agency),
        parent_abbreviation=(parent.abbreviation or initials(parent.name)) if parent else "",
    )


def name_matches(name: str, agency: Agency, rulebook: Rulebook) -> bool:
    base = expected_base_name(agency, rulebook)
    if base is None or rulebook.naming is None:
        return True
    return rulebook.naming.split_device_suffix(name)[0] == base or name == base


def suggest_name(agency: Agency, rulebook: Rulebook, taken: set[str]) -> str:
    """A free, valid name: the base name, or base.01, base.02… when several devices exist."""
    base = expected_base_name(agency, rulebook)
    if base is None or rulebook.naming is None:
        base = ascii_fold(agency.abbreviation or proper_name(agency.name)).replace(" ", "")
        candidates = (f"{base}-{index}" for index in range(1, 1000))
    else:
        naming_rule = rulebook.naming
        candidates = (naming_rule.device_name(base, index) for index in range(1, 1000))
    if base not in taken:
        return base
    return next(name for name in candidates if name not in taken)
