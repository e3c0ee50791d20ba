from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diemcau.core.audit import verify_chain
from diemcau.core.models import AuditEvent


class Command(BaseCommand):
    help = "Audit log tools: `verify` checks the hash chain; `tail` prints the newest events."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="recompute every hash and check the chain")
        tail = sub.add_parser("tail", help="print the newest events")
        tail.add_argument("-n", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            report = verify_chain()
            if not report.ok:
                raise CommandError(
                    f"audit chain BROKEN after {report.checked} good event(s): {report.problem}"
                )
            self.stdout.write(self.style.SUCCESS(f"audit chain OK: {report.checked} event(s)"))
        else:
            for event in AuditEvent.objects.select_related("actor")[: options["n"]]:
                self.stdout.write(
                    f"#{event.seq} {event.at:%Y-%m-%d %H:%M:%S} {event.actor_username or '-'} "
                    f"{event.ip or '-'} {event.action} {event.object_type}:{event.object_id} "
                    f"{event.object_repr}"
                )
