"""Finding, parsing and validating rulebook files. Needs no database and no Django settings
(except `active_rulebook`, which reads `settings.RULEBOOK`)."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .rulebook import Rulebook
from .schema import KeyedValueError

DATA_DIR = Path(__file__).resolve().parent / "data"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Keys the loader fills in from the file itself.
_LOADER_KEYS = ("name", "source")


class RulebookError(Exception):
    """A rulebook that cannot be used: which file, which key (dotted path), what is wrong."""

    def __init__(self, file: str, key: str, message: str) -> None:
        super().__init__(file, key, message)
        self.file = file
        self.key = key
        self.message = message

    def __str__(self) -> str:
        if self.key:
            return f"{self.file}: {self.key}: {self.message}"
        return f"{self.file}: {self.message}"


def available_rulebooks() -> list[str]:
    """Names of the rulebooks shipped with the project."""
    return sorted(path.stem for path in DATA_DIR.glob("*.toml"))


def _resolve(name_or_path: str | Path) -> tuple[Path, str]:
    """The file to read and how to name it in messages."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        return Path(name_or_path), text
    if not _NAME.match(text) or not (DATA_DIR / f"{text}.toml").is_file():
        raise RulebookError(
            text,
            "",
            f"no rulebook named {text!r}; available: {', '.join(available_rulebooks()) or 'none'}",
        )
    return DATA_DIR / f"{text}.toml", f"{text}.toml"


def load_rulebook(name_or_path: str | Path) -> Rulebook:
    """Read and validate a rulebook by name (a file stem in data/) or path.

    Raises RulebookError naming the file, the dotted key and what is wrong.
    """
    path, shown = _resolve(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulebookError(shown, "", f"cannot read the file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RulebookError(shown, "", f"not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulebookError(shown, "", f"TOML syntax error: {exc}") from exc
    for key in _LOADER_KEYS:
        if key in data:
            raise RulebookError(shown, key, "unknown key (it is taken from the file name)")
    data.update(name=path.stem, source=str(path.resolve()))
    try:
        return Rulebook.model_validate(data)
    except ValidationError as exc:
        raise _to_rulebook_error(exc, shown) from exc


@functools.cache  # = lru_cache(maxsize=None)
def get_rulebook(name: str) -> Rulebook:
    """The named rulebook, loaded once per process."""
    return load_rulebook(name)


def active_rulebook() -> Rulebook:
    """The rulebook this deployment runs under (settings.RULEBOOK)."""
    from django.conf import settings

    return get_rulebook(settings.RULEBOOK)


# -- turning pydantic's errors into one readable line ------------------------------------------

_MESSAGES = {
    "missing": "required key is missing",
    "extra_forbidden": "unknown key",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "tuple_type": "must be a list",
    "string_pattern_mismatch": "must match {pattern}",
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} item(s)",
    "literal_error": "must be one of {expected}",
}
_SHOW_INPUT = frozenset(
    (
        "int_type",
        "float_type",
        "bool_type",
        "string_type",
        "literal_error",
        "string_pattern_mismatch",
    )
)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _to_rulebook_error(exc: ValidationError, file: str) -> RulebookError:
    first = exc.errors()[0]
    loc = tuple(first["loc"])
    ctx = first.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, KeyedValueError):
        loc, message = loc + cause.key, cause.message
    elif first["type"] in ("value_error", "assertion_error") and cause is not None:
        message = str(cause)
    elif first["type"] in _MESSAGES:
        message = _MESSAGES[first["type"]].format(**ctx)
    else:
        message = first["msg"]
    if first["type"] in _SHOW_INPUT and isinstance(first.get("input"), str | int | float | bool):
        message += f" (got {first['input']!r})"
    more = exc.error_count() - 1
    if more:
        message += f" [and {more} more error{'s' if more > 1 else ''}]"
    return RulebookError(file, _dotted(loc), message)
