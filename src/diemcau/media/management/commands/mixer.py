"""`diemcau mixer run|check|addresses --node NAME`: the mixer agent of one MCU node.

- `run` runs the agent in the foreground (for systemd or scripts/run.sh), on the node's
  machine beside its Janus: it calls, answers and mixes the node's SIP terminals and upstream
  links as the database says (`diemcau.media.agent`);
- `check` says whether this machine can run it;
- `addresses` prints what a terminal dials for each open meeting on the node
  (`sip:<meeting code>@<node address>`; the code is a secret, R13: for the node's operators).
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from diemcau.mcu.models import McuNode


class Command(BaseCommand):
    help = ("The node's mixer agent: dials the SIP calls the consoles and the session's start "
            "request, answers dial-ins, and composes each room's picture and sound for them.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, text in (("run", "run the agent in the foreground"),
                           ("check", "say whether the agent can run here, and exit"),
                           ("addresses", "print what terminals dial for the open meetings")):
            cmd = sub.add_parser(name, help=text)
            cmd.add_argument("--node", default=settings.JANUS_NODE_NAME,
                             help=f"MCU node name (default {settings.JANUS_NODE_NAME})")
            cmd.add_argument("--wait", type=float, default=0.0,
                             help="seconds to wait for the node to be registered with its "
                                  "SIP address (scripts/run.sh starts Janus at the same time)")
        sub.choices["run"].add_argument(  # type: ignore[attr-defined]
            "--interval", type=float, default=0.5, help="seconds between two reconciliations")

    def handle(self, *args: Any, **options: Any) -> None:
        addresses = options["subcommand"] == "addresses"
        node = self._node(options["node"], options["wait"], managed=not addresses)
        if addresses:
            self._addresses(node)
            return
        from diemcau.mixer.gst import unavailable_reason

        reason = unavailable_reason()
        if reason:
            raise CommandError(f"the mixer cannot run here: {reason}")
        if options["subcommand"] == "check":
            self.stdout.write(f"MCU node {node.name}: the mixer can run; terminals dial "
                              f"<meeting code>@{node.sip_address}")
            return
        self._run(node, options["interval"])

    def _node(self, name: str, wait: float, *, managed: bool) -> McuNode:
        deadline = time.monotonic() + wait
        while True:
            node = McuNode.objects.filter(name=name).first()
            if node is not None and node.sip_address and (node.is_managed or not managed):
                return node
            if time.monotonic() >= deadline:
                break
            time.sleep(1)
        if node is None:
            raise CommandError(f"no MCU node named {name!r} "
                               "(register it: diemcau janus run --register)")
        if node.sip_address:
            raise CommandError(f"MCU node {node.name} has no Janus API URL")
        raise CommandError(f"MCU node {node.name} has no SIP address: set it (the address "
                           "terminals reach) before running its mixer")

    def _addresses(self, node: McuNode) -> None:
        from diemcau.scheduling.choices import HOLDING_STATUSES
        from diemcau.scheduling.models import Meeting

        port = "" if node.sip_port == 5060 else f":{node.sip_port}"
        meetings = Meeting.objects.filter(node=node, status__in=HOLDING_STATUSES,
                                          code__isnull=False).order_by("starts_at")
        for meeting in meetings:
            self.stdout.write(f"sip:{meeting.code}@{node.sip_host}{port}  {meeting.title}")

    def _run(self, node: McuNode, interval: float) -> None:
        from diemcau.media.agent import MixerAgent

        try:
            agent = MixerAgent(node, poll_seconds=interval)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        def stop(signum: int, frame: Any) -> None:
            agent.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"mixer agent of MCU node {node.name}: terminals dial "
                          f"<meeting code>@{node.sip_address} (Ctrl+C to stop)")
        sys.stdout.flush()
        agent.run()
        self.stdout.write("mixer agent stopped")
