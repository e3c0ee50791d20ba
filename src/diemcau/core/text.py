"""Text as people type it: one Unicode form, search without accents, no hidden characters.

Vietnamese can be typed in two Unicode forms: "ệ" as one code point (NFC, what Windows
keyboards send) or as "e" plus two combining marks (NFD, what macOS and some Unikey settings
send). Both look the same, but compare, sort and search differently. So:

* everything that comes in is turned into NFC (`nfc`, `nfc_data`): the middleware does it for
  forms and query strings, the API's parser for JSON bodies;
* searching compares `fold()`ed text — lower case, no diacritics, "đ" as "d" — so "khanh hoa",
  "KHÁNH HÒA" and a decomposed "Khánh Hòa" find the same agencies. The database side of it is
  the `folded` transform (`name__folded__contains=fold(q)`), the same function on SQLite and
  a `translate()` on PostgreSQL (no extension needed);
* names and titles may not carry zero-width or bidirectional control characters
  (`refuse_hidden_characters`): they make two names that look alike differ, or make a title
  read in another order than it is stored (R22: what the log and the lists show must be what
  was stored).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler
from django.utils.translation import gettext as _

from .errors import InvalidInput


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def nfc_data(value: Any) -> Any:
    """`value` with every string in it (dict keys and values, list items) in NFC."""
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, dict):
        return {nfc_data(k): nfc_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc_data(item) for item in value]
    return value


def fold(text: str) -> str:
    """The form text is compared in by searches: "Khánh Hòa" → "khanh hoa", "Đồng" → "dong".

    "đ" has no decomposition in Unicode, so it is mapped by hand; every other Vietnamese
    letter loses its marks through NFD.
    """
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# ---------------------------------------------------------------- hidden characters

# Zero-width characters and the bidirectional controls (Trojan Source, CVE-2021-42574).
HIDDEN_CHARACTERS = frozenset(
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space, non-joiner, joiner; LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2060\u2061\u2062\u2063\u2064"  # word joiner, invisible operators
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
    "\u061c\u180e\ufeff"  # Arabic letter mark, Mongolian vowel separator, BOM / ZWNBSP
)


def hidden_characters(text: str) -> list[str]:
    """The code points (as U+XXXX) of the hidden characters in `text`, in order, once each."""
    found: list[str] = []
    for char in text:
        if char in HIDDEN_CHARACTERS or (
            unicodedata.category(char) in {"Cc", "Cf"} and char not in "\t\n\r"
        ):
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found


def hidden_character_errors(fields: Mapping[str, str | None]) -> dict[str, list[str]]:
    """{field: [message]} for each field (a name, a title) that holds a hidden character."""
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        found = hidden_characters(value or "")
        if found:
            errors[name] = [
                _("Remove the invisible or text-direction characters (%(codes)s): they make "
                  "the text look different from what is stored.") % {"codes": ", ".join(found)}
            ]
    return errors


def refuse_hidden_characters(fields: Mapping[str, str | None]) -> None:
    """Raise InvalidInput naming each field that holds a hidden character."""
    errors = hidden_character_errors(fields)
    if errors:
        raise InvalidInput(errors)


# ---------------------------------------------------------------- search in the database

SQLITE_FOLD_FUNCTION = "diemcau_fold"


def _translate_maps() -> tuple[str, str]:
    """`translate(text, from, to)` arguments that do on PostgreSQL what `fold` does.

    Every precomposed Latin letter whose fold is one ASCII letter is mapped to it (upper case
    included: lower() is not sure to know them under the C collation); the combining marks
    come last in `from`, with nothing in `to`, so translate() drops them (decomposed text).
    """
    sources, targets = [], []
    for code in list(range(0x00C0, 0x0250)) + list(range(0x1E00, 0x1F00)):
        char = chr(code)
        folded = fold(char)
        if len(folded) == 1 and folded.isascii() and folded != char:
            sources.append(char)
            targets.append(folded)
    marks = [chr(code) for code in range(0x0300, 0x0370)]
    return "".join(sources + marks), "".join(targets)


_PG_FROM, _PG_TO = _translate_maps()


class Folded(models.Transform):
    """`field__folded`: the field's text as `fold()` makes it, inside the database."""

    lookup_name = "folded"
    output_field = models.TextField()

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        # Any other database: lower case only (accents then still count).
        sql, params = compiler.compile(self.lhs)
        return f"LOWER({sql})", params

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        sql, params = compiler.compile(self.lhs)
        return f"{SQLITE_FOLD_FUNCTION}({sql})", params

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, Any]:
        sql, params = compiler.compile(self.lhs)
        return f"LOWER(TRANSLATE({sql}, %s, %s))", (*params, _PG_FROM, _PG_TO)


def _sqlite_fold(value: str | None) -> str | None:
    return None if value is None else fold(value)


def install_sqlite_function(connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: SQLite learns `diemcau_fold()` on every new connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            SQLITE_FOLD_FUNCTION, 1, _sqlite_fold, deterministic=True
        )


def register_lookups() -> None:
    models.CharField.register_lookup(Folded)
    models.TextField.register_lookup(Folded)


def text_search(text: str, *fields: str) -> models.Q:
    """Rows where any of `fields` contains `text`, ignoring case and diacritics."""
    needle = fold(nfc(text.strip()))
    condition = models.Q()
    for name in fields:
        condition |= models.Q(**{f"{name}__folded__contains": needle})
    return condition
