"""Which rule a refusal stands on (R21: refusals by rule and article).

An operator refuses a registration with a reason; the refusals the services raise start with
the article they apply ("Điều 12.4a Quy chế KH: …", `core.errors.RuleViolation`), and
operators cite the article the same way. The articles a reason cites are read from its text
and matched with the rulebook's sections, so "Điều 12.4a" reads as the MCU capacity rule in
Khánh Hòa. A reason that cites several articles counts under each; one that cites none is
counted as such.

The reasons are grouped in the database first (one row per distinct text), so reading them
costs one row per distinct reason, never one per meeting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from diemcau.rulebooks import Rulebook

_CITATION = re.compile(r"Điều\s+(\d+(?:\.\d+[a-zđ]?)?)", re.IGNORECASE)
_PART = re.compile(r"^Điều (\d+(?:\.\d+[a-zđ]?)?)")
NONE_CITED = ""


def cited(reason: str) -> list[str]:
    """The articles a text cites, in order, each once: ["Điều 12.4a", "Điều 13.2"]."""
    found: list[str] = []
    for number in _CITATION.findall(reason or ""):
        article = f"Điều {number.lower()}"
        if article not in found:
            found.append(article)
    return found


@lru_cache(maxsize=8)
def _sections_by_article(rulebook: Rulebook) -> dict[str, str]:
    """"Điều 12.4a" → "capacity": each article part of each section (the first section to
    cite an article names it)."""
    found: dict[str, str] = {}
    for key, section in rulebook.sections().items():
        if section is None or not section.article:
            continue
        for part in section.article.split(", "):
            match = _PART.match(part.strip())
            if match:
                found.setdefault(f"Điều {match[1]}", key)
    return found


def rule_of(article: str, rulebook: Rulebook) -> str:
    """The rulebook section an article belongs to ("" when none): the section citing exactly
    that article, else the one citing its clause ("Điều 12.4" for "Điều 12.4a")."""
    sections = _sections_by_article(rulebook)
    if article in sections:
        return sections[article]
    clause = re.sub(r"[a-zđ]$", "", article)
    return sections.get(clause, "")


def tally(reasons: Iterable[tuple[str, int, int]]) -> tuple[dict[str, list[int]], list[int]]:
    """From (reason, current count, previous count) rows: article → [current, previous], and
    the counts of reasons citing no article."""
    by_article: dict[str, list[int]] = {}
    none = [0, 0]
    for reason, current, previous in reasons:
        articles = cited(reason)
        if not articles:
            none[0] += current
            none[1] += previous
        for article in articles:
            counts = by_article.setdefault(article, [0, 0])
            counts[0] += current
            counts[1] += previous
    return by_article, none


def reasons_citing(reasons: Iterable[str], article: str) -> list[str]:
    """The texts among `reasons` that cite `article` (NONE_CITED: that cite none)."""
    if article == NONE_CITED:
        return [r for r in reasons if not cited(r)]
    return [r for r in reasons if article in cited(r)]
