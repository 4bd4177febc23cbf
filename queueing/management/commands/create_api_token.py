"""`manage.py create_api_token NAME --hall h1 [--hall h2]`: a token for an external
system. The key is printed once; only its hash is kept."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from queueing.models import Hall
from queueing.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for some halls and print its key (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who uses it, e.g. 'hall 1 queue system'")
        parser.add_argument(
            "--hall",
            dest="halls",
            action="append",
            default=[],
            metavar="CODE",
            help="A hall the token may act on (repeat for several)",
        )

    def handle(self, *args: Any, name: str, halls: list[str], **options: Any) -> None:
        if not halls:
            raise CommandError("Name at least one hall with --hall CODE.")
        found = {h.code: h for h in Hall.objects.filter(code__in=halls)}
        unknown = sorted(set(halls) - set(found))
        if unknown:
            known = ", ".join(Hall.objects.values_list("code", flat=True)) or "none"
            raise CommandError(f"Unknown hall: {', '.join(unknown)} (known: {known}).")
        token, key = api_token_create(name=name, halls=found.values())
        self.stdout.write(
            f"Created API token {token.name!r} (prefix {token.key_prefix}) "
            f"for {', '.join(sorted(found))}. Its key:"
        )
        self.stdout.write(key)
        self.stdout.write(
            self.style.WARNING("Keep it now: it will not be shown again (only its hash is kept).")
        )
