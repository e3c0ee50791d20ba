"""The documents stay true to the code (no database needed).

- Every requirement number the code cites ("R11", "R23–R25") has its anchor in
  docs/requirements.md, and every requirement there has one.
- Every environment variable the code, the scripts and the Makefile read is in both halves of
  the README's settings tables (Vietnamese, then English after the `---` line).
- The READMEs point only inside the repository, and the documents' relative links resolve to
  files that exist.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
SRC = ROOT / "src"
REQUIREMENTS = ROOT / "docs" / "requirements.md"
README = ROOT / "README.md"
BENCH_README = ROOT / "bench" / "README.md"

pytestmark = pytest.mark.skipif(
    not (ROOT / "pyproject.toml").is_file() or not (ROOT / "docs").is_dir(),
    reason="not running from a checkout of the repository (no pyproject.toml and docs/)",
)

# The briefing numbers the requirements R1..R27; each has an anchor `<a id="rN"></a>`.
REQUIREMENT_COUNT = 27
ANCHOR = re.compile(r'<a id="r(\d+)"></a>')
CITATION = re.compile(r"\bR(\d{1,2})\b")
CITED_RANGE = re.compile(r"\bR(\d{1,2})\s*[–-]\s*R(\d{1,2})\b")  # "R23–R25", "R1-R6"


def _text(path: Path) -> str | None:
    """A file's text, or None for a binary file (NUL bytes or not UTF-8)."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _cited_files() -> Iterator[Path]:
    for top in (SRC, ROOT / "bench"):
        for path in sorted(top.rglob("*")):
            parts = path.relative_to(ROOT).parts
            if path.is_file() and "vendor" not in parts and "__pycache__" not in parts:
                yield path
    yield README


def _citations() -> dict[int, list[str]]:
    """{requirement number: ["path:line", …]} for every R-number cited."""
    found: dict[int, list[str]] = {}
    for path in _cited_files():
        text = _text(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            cited = {int(n) for n in CITATION.findall(line)}
            for low, high in CITED_RANGE.findall(line):
                cited.update(range(int(low), int(high) + 1))
            for requirement in cited:
                found.setdefault(requirement, []).append(f"{path.relative_to(ROOT)}:{number}")
    return found


def _anchors() -> list[int]:
    return [int(n) for n in ANCHOR.findall(REQUIREMENTS.read_text(encoding="utf-8"))]


def test_every_cited_requirement_has_an_anchor_in_the_requirements():
    anchors = set(_anchors())
    citations = _citations()
    assert citations, "no R-number found in the code: the scan is broken"
    missing = {f"R{n}": places[:3] for n, places in sorted(citations.items()) if n not in anchors}
    assert not missing, f'cited but without <a id="rN"></a> in docs/requirements.md: {missing}'


def test_the_requirements_have_one_anchor_each():
    anchors = _anchors()
    duplicates = sorted({n for n in anchors if anchors.count(n) > 1})
    assert not duplicates, f"anchors defined twice: {duplicates}"
    absent = sorted(set(range(1, REQUIREMENT_COUNT + 1)) - set(anchors))
    assert not absent, f"requirements without an anchor: {absent}"


# ------------------------------------------------------------------ environment variables

ENVIRON_METHODS = {"get", "setdefault"}


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _reads_environ(function: ast.FunctionDef) -> bool:
    return any(_is_os_environ(node) for node in ast.walk(function))


def _reads_its_argument(func: ast.expr, helpers: set[str]) -> bool:
    """Whether a call to `func` reads the variable named by its first argument."""
    if isinstance(func, ast.Name):
        return func.id in helpers  # the module's own env_bool(name, default) and the like
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in ENVIRON_METHODS:
        return _is_os_environ(func.value)  # os.environ.get / os.environ.setdefault
    return func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os"


def python_environment_reads(source: str) -> set[str]:
    """Variable names a module reads: `os.environ.get("X")`, `os.environ["X"]`,
    `os.environ.setdefault("X", …)`, `os.getenv("X")`, and calls with a literal name to the
    module's own helpers that read `os.environ` (`env_bool("X", …)`). A name held in a
    module-level string constant counts too (`os.environ.get(TOKEN_VARIABLE)`)."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    helpers = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and _reads_environ(node)
    }

    def name_of(arg: ast.expr) -> str | None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        if isinstance(arg, ast.Name):
            return constants.get(arg.id)
        return None

    names: set[str] = set()
    for node in ast.walk(tree):
        argument: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args and _reads_its_argument(node.func, helpers):
            argument = node.args[0]
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and _is_os_environ(node.value)
        ):
            argument = node.slice
        name = name_of(argument) if argument is not None else None
        if name:
            names.add(name)
    return names


# ${NAME:-default}: upper-case names only (lower-case ones are the scripts' own variables)
SHELL_DEFAULT = re.compile(r"\$\{([A-Z_][A-Z0-9_]*):?-")
MAKE_DEFAULT = re.compile(r"^([A-Z_][A-Z0-9_]*)\s*\?=", re.MULTILINE)  # NAME ?= default


def _readme_halves() -> tuple[str, str]:
    """The Vietnamese half and the English half of the README (split at the `---` line)."""
    text = README.read_text(encoding="utf-8")
    vietnamese, separator, english = text.partition("\n---\n")
    assert separator, "README.md: the `---` line between the two languages is missing"
    return vietnamese, english


def _missing_from_readme(names: set[str]) -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    for language, half in zip(("Vietnamese", "English"), _readme_halves(), strict=True):
        absent = sorted(name for name in names if f"`{name}`" not in half)
        if absent:
            missing[language] = absent
    return missing


def test_python_environment_reads_are_found():
    source = 'import os\nX = "C"\ndef env_flag(name):\n    return os.environ.get(name)\n' + (
        'os.environ.get("A", "")\nos.environ["B"]\nos.getenv(X)\nenv_flag("D")\n'
        'os.environ.setdefault("E", "1")\nos.environ.pop("F", None)\n'
    )
    assert python_environment_reads(source) == {"A", "B", "C", "D", "E"}


def test_every_setting_read_by_settings_py_is_in_both_readme_tables():
    names = python_environment_reads((SRC / "diemcau" / "settings.py").read_text("utf-8"))
    assert {"DIEMCAU_RULEBOOK", "DATABASE_URL", "DIEMCAU_JANUS_RTP_PORT_RANGE"} <= names, (
        "settings.py reads its variables in a way this test no longer recognises"
    )
    missing = _missing_from_readme(names)
    assert not missing, f"read in settings.py, not in README.md's settings table: {missing}"


def test_every_variable_read_elsewhere_is_in_both_readme_tables():
    """The rest of src/ (tests included), the scripts, CI and the Makefile."""
    names: set[str] = set()
    for path in sorted(SRC.rglob("*.py")):
        if "vendor" not in path.relative_to(ROOT).parts:
            names |= python_environment_reads(path.read_text(encoding="utf-8"))
    for path in [*sorted((ROOT / "scripts").glob("*.sh")), ROOT / ".ci" / "run"]:
        if path.is_file():
            names |= set(SHELL_DEFAULT.findall(path.read_text(encoding="utf-8")))
    names |= set(MAKE_DEFAULT.findall((ROOT / "Makefile").read_text(encoding="utf-8")))
    assert {"DIEMCAU_JANUS", "HOST", "PORT"} <= names, "the scan of the scripts is broken"
    missing = _missing_from_readme(names)
    assert not missing, f"read from the environment, not in README.md's settings table: {missing}"


# ------------------------------------------------------------------------------- links

LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")  # [text](target "title")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|#)", re.IGNORECASE)  # https:, mailto:, #anchor


@pytest.mark.parametrize("readme", [README, BENCH_README], ids=lambda p: str(p.relative_to(ROOT)))
def test_the_readmes_point_only_inside_the_repository(readme: Path):
    text = readme.read_text(encoding="utf-8")
    upward = [n for n, line in enumerate(text.splitlines(), 1) if "../" in line or "..\\" in line]
    assert not upward, f"{readme.relative_to(ROOT)}: '../' on lines {upward}"
    absolute = [t for t in LINK.findall(text) if t.startswith(("/", "~", "file:"))]
    assert not absolute, f"{readme.relative_to(ROOT)}: links outside the repository: {absolute}"


@pytest.mark.parametrize(
    "document",
    [README, BENCH_README, REQUIREMENTS, ROOT / "docs" / "design.md"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_relative_links_resolve_inside_the_repository(document: Path):
    anchors = {f"r{n}" for n in _anchors()}

    def resolves(target: str) -> bool:
        path, _, fragment = target.partition("#")
        resolved = (document.parent / path).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            return False
        # A requirement's anchor must exist: docs link to "requirements.md#r11".
        return (
            resolved != REQUIREMENTS or not re.fullmatch(r"r\d+", fragment) or (fragment in anchors)
        )

    links = LINK.findall(document.read_text(encoding="utf-8"))
    broken = [target for target in links if not EXTERNAL.match(target) and not resolves(target)]
    assert not broken, f"{document.relative_to(ROOT)}: links that do not resolve: {broken}"
