"""`manage.py load_demo [--reset] [--seed N] [--now ISO]`: the demo city, with today's
history up to now, and a table of its logins. Details in queueing.demo."""

from __future__ import annotations

import datetime as dt
import os
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from django.utils import translation

from queueing.demo import (
    DEMO_PASSWORD,
    DEMO_TIME_ZONE,
    LOGINS,
    DemoError,
    DemoResult,
    Login,
    load_demo,
    start_page,
)
from queueing.demo.day import CLOSES_AT, OPENS_AT
from queueing.models import StaffRole


class Command(BaseCommand):
    help = "Load the demo city (3 halls, logins, today's tickets). Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="delete the demo's rows first and load afresh"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--now",
            metavar="YYYY-MM-DDTHH:MM",
            help="pretend it is this moment, Asia/Shanghai time (reproducible demos, tests)",
        )

    def handle(self, *args: Any, reset: bool, seed: int, now: str | None, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "load_demo creates logins whose password is published; it runs with DEBUG on only"
            )
        began = time.monotonic()
        try:
            with _no_query_log():
                result = load_demo(seed=seed, now=_parse_now(now) if now else None, reset=reset)
        except DemoError as exc:
            raise CommandError(str(exc)) from None
        self._report(result, seed, time.monotonic() - began)

    def _report(self, result: DemoResult, seed: int, seconds: float) -> None:
        day = result.day
        total = sum(h.tickets for h in result.halls)
        if result.wiped:
            self.stdout.write(f"Deleted the old demo ({result.wiped} tickets).")
        if result.loaded:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo city loaded for {day.date}, simulated up to {day.now:%H:%M:%S} "
                    f"(seed {seed}) in {seconds:.1f} s: {total} tickets today."
                )
            )
        else:
            self.stdout.write(
                f"The demo for {day.date} is loaded already ({total} tickets today); nothing "
                "changed. `manage.py load_demo --reset` loads it afresh."
            )
        for hall in result.halls:
            self.stdout.write(
                f"  {hall.code:<8} {_pad(hall.name, 20)} {hall.tickets:>4} tickets, "
                f"{hall.waiting:>3} waiting, {hall.windows_open:>2} windows open, "
                f"{hall.windows_serving:>2} with a visitor"
            )
        if day.shifted and result.loaded:
            self.stdout.write(
                f"\nThe halls open {OPENS_AT:%H:%M}-{CLOSES_AT:%H:%M}; it is {day.now:%H:%M} in "
                f"Shanghai, so the demo moved today's hours to {day.opens_at:%H:%M}-"
                f"{day.closes_at:%H:%M} to show a living hall."
            )
        port = os.environ.get("PORT") or "8000"
        self.stdout.write(
            f"\nOpen http://127.0.0.1:{port}/ and log in; every demo password is "
            f'"{DEMO_PASSWORD}":\n'
        )
        rows = [("user", "password", "role", "hall", "open")]
        rows += [
            (login.username, DEMO_PASSWORD, _role(login), login.hall, start_page(login))
            for login in LOGINS
        ]
        widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True))
            )
        display = reverse("queueing:display", kwargs={"code": LOGINS[0].hall})
        self.stdout.write(
            f"\nA TV shows the calls at {display} (log in as the hall's kiosk or staff).\n"
        )


@contextmanager
def _no_query_log() -> Iterator[None]:
    # With DEBUG on, Django logs every query, and on SQLite quotes each one's parameters
    # with one more query: a third of the demo's ~15,000 queries' time. Nothing else
    # reads DEBUG while the demo loads.
    debug = settings.DEBUG
    settings.DEBUG = False
    try:
        yield
    finally:
        settings.DEBUG = debug


def _parse_now(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--now: expected YYYY-MM-DDTHH:MM, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=DEMO_TIME_ZONE)


def _role(login: Login) -> str:
    if login.role == "admin":
        return "administrator"
    with translation.override("en"):
        return str(StaffRole.Role(login.role).label)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))
