from typing import Any

from django.core.management.base import BaseCommand

from diemcau.directory.demo import DEMO_PASSWORD, load_demo
from diemcau.rulebooks import active_rulebook


class Command(BaseCommand):
    help = "Load the demo: the province's agencies, one user per role, a few endpoints."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = load_demo()
        rulebook = active_rulebook()
        self.stdout.write(self.style.SUCCESS(f"Demo ready — {rulebook.title} ({rulebook.name})"))
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for account in accounts:
            self.stdout.write(f"  {account.username:<10} {account.role:<28} {account.agency}")
