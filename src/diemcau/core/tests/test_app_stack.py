"""The apps form one stack: each app imports only the apps below it, so none can grow a cycle
and the dashboard can sit on top of the domain apps that sit on the UI toolkit.

    rulebooks ← core ← ui ← notifications ← directory ← mcu ← scheduling ← media ← proceedings
    ← web

Every import counts: at module level, inside functions and under `if TYPE_CHECKING:`, absolute
or relative. Tests, migrations, test helpers (`testing/`) and demo data are left out: they may
arrange what they need from any app.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import diemcau

STACK = [
    "rulebooks",
    "core",
    "ui",
    "notifications",
    "directory",
    "mcu",
    "scheduling",
    "media",
    "proceedings",
    "archive",
    "reports",
    "web",
]
ROOT = Path(diemcau.__file__).resolve().parent
LEFT_OUT_FOLDERS = {"tests", "migrations", "testing"}
LEFT_OUT_FILES = {"demo.py"}


def installed_apps() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir() if (p / "apps.py").is_file())


def app_modules(app: str) -> Iterator[tuple[Path, str]]:
    """(file, dotted package the file's relative imports start from) of each module."""
    for path in sorted((ROOT / app).rglob("*.py")):
        inside = path.relative_to(ROOT)
        if LEFT_OUT_FOLDERS & set(inside.parts[:-1]) or path.name in LEFT_OUT_FILES:
            continue
        package = ["diemcau", *inside.parts[:-1]]
        yield path, ".".join(package)


def imported_modules(path: Path, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute dotted name) of everything the file imports, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            # `from diemcau import scheduling` names the app in the imported names
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def app_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) > 1 and parts[0] == "diemcau" and parts[1] in STACK:
        return parts[1]
    return None


def test_every_app_has_its_place_in_the_stack():
    assert sorted(STACK) == installed_apps(), (
        "an app was added or removed: give it its place in STACK (above every app it imports)"
    )


@pytest.mark.parametrize("app", STACK)
def test_an_app_imports_only_apps_below_it(app):
    below = set(STACK[: STACK.index(app)])
    wrong: set[str] = set()
    for path, package in app_modules(app):
        for line, module in imported_modules(path, package):
            other = app_of(module)
            if other is not None and other != app and other not in below:
                wrong.add(f"{path.relative_to(ROOT)}:{line} imports {other}")
    assert not wrong, f"{app} may import only {sorted(below) or 'no app'}:\n" + "\n".join(
        sorted(wrong)
    )


def test_the_walk_sees_imports_in_functions_type_checking_blocks_and_relative_ones(tmp_path):
    source = tmp_path / "module.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from diemcau.media.models import Participation\n"
        "def later():\n"
        "    import diemcau.web.views\n"
        "    from ..scheduling import models\n"
        "    from diemcau import mcu\n",
        encoding="utf-8",
    )
    seen = {app_of(m) for _, m in imported_modules(source, "diemcau.notifications")}
    assert {"media", "web", "scheduling", "mcu"} <= seen
