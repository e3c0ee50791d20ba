import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP

from diemcau.core import two_factor
from diemcau.core.models import User
from diemcau.directory.demo import DEMO_PASSWORD, DemoAccount, is_demo_account, load_demo
from diemcau.rulebooks import active_rulebook


class Command(BaseCommand):
    help = (
        "Load the demo: the province's agencies, one user per role, a few endpoints. "
        "`--code USER` prints the current two-factor code of a demo account instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--code", metavar="USER",
            help="print the two-factor code a demo account's authenticator would show now "
                 "(demo accounts only; for trying the demo without a phone)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["code"]:
            self._print_code(options["code"])
            return
        accounts = load_demo()
        rulebook = active_rulebook()
        self.stdout.write(self.style.SUCCESS(f"Demo ready — {rulebook.title} ({rulebook.name})"))
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for account in accounts:
            self.stdout.write(f"  {account.username:<10} {account.role:<28} {account.agency}")
        with_code = [account for account in accounts if account.device is not None]
        if with_code:
            self._print_keys(with_code)

    def _print_keys(self, accounts: list[DemoAccount]) -> None:
        names = ", ".join(account.username for account in accounts)
        self.stdout.write(
            f"Two-factor sign-in (required for {names}): after the password, type the 6-digit "
            "code of an authenticator app (Google Authenticator, Microsoft Authenticator, "
            "FreeOTP…) holding the key below; without a phone, print the current code with\n"
            "  .venv/bin/diemcau demo --code USER"
        )
        for account in accounts:
            assert account.device is not None
            key = two_factor.manual_key(account.device)
            self.stdout.write(f"  {account.username:<10} key {key}")
            self.stdout.write(f"             {account.device.config_url}")
            if account.device_is_new:
                import io

                import segno

                picture = io.StringIO()
                segno.make(account.device.config_url, error="m").terminal(
                    out=picture, compact=True, border=2
                )
                self.stdout.write(picture.getvalue(), ending="")

    def _print_code(self, username: str) -> None:
        user = User.objects.filter(username=username).first()
        if user is None or not is_demo_account(user):
            raise CommandError(f"{username} is not an account of the demo")
        device = two_factor.confirmed_device(user)
        if device is None:
            raise CommandError(f"{username} has no two-factor device")
        generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        generator.time = time.time()
        left = device.step - int(generator.time - device.t0) % device.step
        self.stdout.write(f"{generator.token():0{device.digits}d}")
        self.stderr.write(f"(valid for {left} more second(s), and the next 30)")
