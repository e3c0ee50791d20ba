from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diemcau.core.audit import Checkpoint, make_checkpoint, verify_chain
from diemcau.core.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Audit log tools: `verify` checks the hash chain (and the checkpoints given); "
        "`checkpoint` exports a signed checkpoint of the chains' heads; `tail` prints the "
        "newest events."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="recompute every hash and check the chain")
        verify.add_argument(
            "--checkpoint", action="append", default=[], metavar="FILE", type=Path,
            help="a checkpoint exported earlier; the chain must still contain its head "
                 "(catches removed newest events and a rewritten chain); may be repeated",
        )
        checkpoint = sub.add_parser(
            "checkpoint",
            help="verify the chain, then export its head (count, hash, time) signed with the "
                 "audit key; keep the file away from the database server",
        )
        checkpoint.add_argument("-o", "--output", type=Path, metavar="FILE",
                                help="write to FILE (default: print it)")
        tail = sub.add_parser("tail", help="print the newest events")
        tail.add_argument("-n", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self._verify(options["checkpoint"])
        elif options["subcommand"] == "checkpoint":
            self._checkpoint(options["output"])
        else:
            for event in AuditEvent.objects.select_related("actor")[: options["n"]]:
                self.stdout.write(
                    f"#{event.seq} {event.at:%Y-%m-%d %H:%M:%S} {event.actor_username or '-'} "
                    f"{event.ip or '-'} {event.action} {event.object_type}:{event.object_id} "
                    f"{event.object_repr}"
                )

    def _verify(self, files: list[Path]) -> None:
        checkpoints = []
        for path in files:
            try:
                checkpoints.append(Checkpoint.from_json(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as error:
                raise CommandError(f"{path}: {error}") from error
        report = verify_chain(checkpoints=checkpoints)
        if not report.ok:
            raise CommandError(
                f"audit chain BROKEN after {report.checked} good event(s): {report.problem}"
            )
        against = f", matches {report.checkpoints} checkpoint(s)" if report.checkpoints else ""
        chains = f" (in {report.chains} chains, each whole)" if report.chains > 1 else ""
        self.stdout.write(self.style.SUCCESS(f"audit chain OK: {report.checked} event(s)"
                                             f"{against}{chains}"))

    def _checkpoint(self, output: Path | None) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"no checkpoint of a broken chain: {report.problem}")
        text = make_checkpoint().to_json()
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        self.stderr.write(f"checkpoint of {report.checked} event(s) written to {output}")
