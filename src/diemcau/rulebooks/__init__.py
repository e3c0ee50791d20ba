"""Province rulebooks: each regulation's numbers and rules as data, with their articles.

A rulebook is a TOML file in `data/`; a new province needs only a new file. Nothing here needs
a database.
"""

from .loader import (
    DATA_DIR,
    RulebookError,
    active_rulebook,
    available_rulebooks,
    get_rulebook,
    load_rulebook,
)
from .rulebook import SECTION_KEYS, Rulebook
from .schema import LeadTime, Level, Naming, Quotas, Section

__all__ = [
    "DATA_DIR",
    "SECTION_KEYS",
    "LeadTime",
    "Level",
    "Naming",
    "Quotas",
    "Rulebook",
    "RulebookError",
    "Section",
    "active_rulebook",
    "available_rulebooks",
    "get_rulebook",
    "load_rulebook",
]
