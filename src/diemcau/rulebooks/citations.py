"""Citations checked against the regulation's own text.

Each rulebook's regulation is kept beside it (`data/regulations/<name>.txt`, unchanged). This
module reads that text into its articles, clauses (khoản) and points (điểm), and parses the
short citations the rulebooks use ("Điều 13.2a", "Điều 11.2b–c", "Điều 6.1–4",
"Điều 8 (đoạn cuối)"), so a test can say that every article, clause and point a rulebook
cites exists in the text it cites.

Reading of the texts, stated once:
- The regulation starts at the line "QUY CHẾ"; the decision's own "Điều 1…3" before it are
  not the regulation's.
- An article starts a line with "Điều N."; a clause with "N. "; a point with "a) " (possibly
  after a dash, as in KH Đ10.2).
- KH Đ3.2 lists the kinds of endpoint as bullets ("- "), yet Đ6.3 and Đ6.5 refer to them by
  letter ("điểm b, c, d khoản 2 Điều 3", "điểm đ"): a clause whose points are bullets only
  gets the letters a, b, c… in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .loader import DATA_DIR
from .rulebook import Rulebook

REGULATIONS_DIR = DATA_DIR / "regulations"

# The Vietnamese alphabet's order of point letters (no f, j, w, z; đ after d).
POINT_LETTERS = "abcdđeghiklmnopqrstuvxy"

_ARTICLE = re.compile(r"^\s*Điều (\d+)\.")
_CLAUSE = re.compile(r"^\s*(\d+)\.\s")
_POINT = re.compile(r"^\s*(?:-\s*)?([a-zđ])\)\s")
_BULLET = re.compile(r"^\s*-\s")
_CITATION = re.compile(
    r"^Điều (?P<article>\d+)"
    r"(?:\.(?P<clause>\d+)(?P<point>[a-zđ])?(?:[–-](?P<to>[0-9a-zđ]+))?)?"
    r"(?: \((?P<note>[^()]+)\))?$"
)
# A citation inside prose: "Điều 13.2c", "(Điều 10.3)".
_IN_TEXT = re.compile(r"Điều \d+(?:\.\d+[a-zđ]?(?:[–-][0-9a-zđ]+)?)?")


@dataclass
class Article:
    clauses: dict[int, set[str]] = field(default_factory=dict)
    bullets: dict[int, int] = field(default_factory=dict)

    def points(self, clause: int) -> set[str]:
        lettered = self.clauses.get(clause, set())
        if lettered:
            return lettered
        return set(POINT_LETTERS[: self.bullets.get(clause, 0)])


def regulation_path(rulebook_name: str) -> Path:
    return REGULATIONS_DIR / f"{rulebook_name}.txt"


def parse_regulation(text: str) -> dict[int, Article]:
    """The articles of a regulation's text, with their clauses and points."""
    articles: dict[int, Article] = {}
    started = False
    current: Article | None = None
    clause: int | None = None
    for line in text.splitlines():
        if not started:
            started = line.strip() == "QUY CHẾ"
            continue
        if match := _ARTICLE.match(line):
            current = articles.setdefault(int(match.group(1)), Article())
            clause = None
            continue
        if current is None:
            continue
        if match := _CLAUSE.match(line):
            number = int(match.group(1))
            if clause is None or number > clause:
                clause = number
                current.clauses.setdefault(clause, set())
            continue
        if clause is None:
            continue
        if match := _POINT.match(line):
            current.clauses[clause].add(match.group(1))
        elif _BULLET.match(line):
            current.bullets[clause] = current.bullets.get(clause, 0) + 1
    return articles


def load_regulation(rulebook_name: str) -> dict[int, Article]:
    return parse_regulation(regulation_path(rulebook_name).read_text(encoding="utf-8"))


def _point_range(first: str, last: str) -> list[str]:
    a, b = POINT_LETTERS.index(first), POINT_LETTERS.index(last)
    return list(POINT_LETTERS[a : b + 1])


def missing(citation: str, articles: dict[int, Article]) -> list[str]:
    """What `citation` (one or several, "Điều 8.3c, Điều 16.5") names that the text lacks;
    empty when everything it names exists."""
    problems = []
    for part in [p for p in citation.split(", ") if p]:
        match = _CITATION.match(part)
        if match is None:
            problems.append(f"{part!r} is not a citation")
            continue
        number = int(match["article"])
        article = articles.get(number)
        if article is None:
            problems.append(f"{part}: there is no Điều {number}")
            continue
        if match["clause"] is None:
            continue
        clause, point, to = int(match["clause"]), match["point"], match["to"]
        clauses = [clause]
        if to is not None and point is None:
            if not to.isdigit():
                problems.append(f"{part}: a range of clauses ends with a clause")
                continue
            clauses = list(range(clause, int(to) + 1))
        for number_ in clauses:
            if number_ not in article.clauses:
                problems.append(f"{part}: Điều {number} has no khoản {number_}")
        if point is None:
            continue
        points = [point] if to is None else _point_range(point, to)
        have = article.points(clause)
        for letter in points:
            if letter not in have:
                problems.append(f"{part}: khoản {clause} Điều {number} has no điểm {letter}")
    return problems


def rulebook_citations(data: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every citation a rulebook's data holds, with its dotted key: the values of keys named
    `article` or `…_article`, every value of a table named `…_articles`/`…_article`, and
    each "Điều N…" written inside a text or note."""
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{where}.{key}" if where else key
            if isinstance(value, str) and (key == "article" or key.endswith("_article")):
                if value:
                    yield here, value
            elif isinstance(value, dict) and (key.endswith("_articles")
                                              or key.endswith("_article")):
                for inner, cited in value.items():
                    yield f"{here}.{inner}", cited
            elif isinstance(value, str) and key in ("text_vi", "note_vi"):
                for found in _IN_TEXT.findall(value):
                    yield here, found
            else:
                yield from rulebook_citations(value, here)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from rulebook_citations(item, f"{where}[{index}]")


def citation_problems(rulebook: Rulebook, text_path: Path | None = None) -> list[str] | None:
    """Every citation of `rulebook` that its regulation's text lacks ("key: problem"); None
    when there is no text to check against (a rulebook outside `data/` without one)."""
    path = text_path or regulation_path(rulebook.name)
    if not path.is_file():
        return None
    articles = parse_regulation(path.read_text(encoding="utf-8"))
    return [f"{where}: {problem}"
            for where, cited in rulebook_citations(rulebook.model_dump())
            for problem in missing(cited, articles)]
