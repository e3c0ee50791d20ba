"""`diemcau import_agencies [--rulebook NAME]`: create the province's real agencies (R1)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diemcau.rulebooks import RulebookError, active_rulebook, get_rulebook

from ...choices import AgencyKind
from ...importer import AgencyImportError, import_agencies


class Command(BaseCommand):
    help = (
        "Create the province's standard bodies, districts and communes for the rulebook. "
        "Safe to run again: existing agencies are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rulebook",
            help="rulebook name (default: the active rulebook, DIEMCAU_RULEBOOK)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options.get("rulebook")
        try:
            rulebook = get_rulebook(name) if name else active_rulebook()
        except RulebookError as error:
            raise CommandError(str(error)) from error
        try:
            report = import_agencies(rulebook)
        except AgencyImportError as error:
            raise CommandError(str(error)) from error

        self.stdout.write(
            f"Rulebook {report.rulebook} ({report.province}, {report.admin_data} "
            "administrative data)"
        )
        labels = dict(AgencyKind.choices)
        for kind in report.kinds():
            self.stdout.write(
                f"  {labels.get(kind, kind)} [{kind}]: "
                f"{report.created[kind]} created, {report.existing[kind]} existing"
            )
        for name_skipped in report.skipped:
            self.stdout.write(
                self.style.WARNING(f"  skipped (kind has no level in the rulebook): {name_skipped}")
            )
        for note in report.notes:
            self.stdout.write(self.style.WARNING(f"  {note}"))
        self.stdout.write(self.style.SUCCESS(f"Total: {report.summary()}"))
