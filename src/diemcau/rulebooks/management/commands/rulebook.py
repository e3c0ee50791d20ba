"""`diemcau rulebook show|check|list [NAME]`: read, validate and list province rulebooks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from diemcau.rulebooks import RulebookError, available_rulebooks, load_rulebook
from diemcau.rulebooks.citations import citation_problems
from diemcau.rulebooks.render import format_rulebook


class Command(BaseCommand):
    help = (
        "Show a rulebook with every rule and its article, check that it is valid, or list "
        "the shipped rulebooks. NAME is a rulebook name or a path to a .toml file "
        "(default: settings.RULEBOOK)."
    )
    # A diagnostic tool: it must work even while other apps fail their checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["show", "check", "list"])
        parser.add_argument("name", nargs="?", help="rulebook name or path to a .toml file")

    def handle(self, *args: Any, **options: Any) -> None:
        action: str = options["action"]
        if action == "list":
            self._list()
            return
        name: str = options["name"] or settings.RULEBOOK
        try:
            rulebook = load_rulebook(name)
        except RulebookError as exc:
            raise CommandError(str(exc)) from exc
        if action == "show":
            self.stdout.write(format_rulebook(rulebook))
            return
        # Every article, clause and point cited must exist in the regulation's text, kept
        # beside the rulebook (data/regulations/NAME.txt).
        problems = citation_problems(rulebook)
        if problems:
            raise CommandError(f"{rulebook.name}: citations the regulation's text lacks: "
                               + "; ".join(problems))
        checked = "" if problems is not None else " (no regulation text beside it to check)"
        self.stdout.write(f"OK: {rulebook.name} ({rulebook.short}, {rulebook.decision}){checked}")

    def _list(self) -> None:
        active = getattr(settings, "RULEBOOK", "")
        for name in available_rulebooks():
            mark = "*" if name == active else " "
            try:
                rulebook = load_rulebook(name)
            except RulebookError as exc:
                self.stdout.write(f"{mark} {name}  INVALID: {exc}")
                continue
            self.stdout.write(
                f"{mark} {name}  {rulebook.short}  {rulebook.decision}  {rulebook.title}"
            )
        self.stdout.write("(* = settings.RULEBOOK)")
