"""Close a business day by hand: every ticket still open on or before the day is
cancelled with the reason "business day closed". The periodic job
queueing.close_finished_days does the same for each hall once it has closed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from queueing.models import Hall
from queueing.services import business_day_close


class Command(BaseCommand):
    help = "Cancel the tickets still open on a business day (default: each hall's today)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hall", metavar="CODE", help="one hall's code (default: all)")
        parser.add_argument(
            "--date",
            metavar="YYYY-MM-DD",
            help="close this day and any earlier one left open (default: the hall's today)",
        )

    def handle(self, *args: Any, hall: str | None, date: str | None, **options: Any) -> None:
        day = _parse_date(date) if date else None
        if hall:
            try:
                halls = [Hall.objects.get(code=hall)]
            except Hall.DoesNotExist:
                known = ", ".join(Hall.objects.values_list("code", flat=True)) or "none"
                raise CommandError(f"--hall: no hall with code {hall!r} (known: {known})") from None
        else:
            halls = list(Hall.objects.all())
        plan = []
        for each in halls:
            today = each.business_date()
            closing = day or today
            if closing > today:
                raise CommandError(
                    f"--date: {closing} has not begun yet at {each.code} (today is {today})"
                )
            plan.append((each, closing))
        total = 0
        for each, closing in plan:
            closed = business_day_close(hall=each, business_date=closing)
            total += closed
            self.stdout.write(f"{each.code}: closed {closed} ticket(s) up to {closing}")
        self.stdout.write(self.style.SUCCESS(f"Closed {total} ticket(s) in {len(halls)} hall(s)."))


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date: expected YYYY-MM-DD, got {value!r}") from None
