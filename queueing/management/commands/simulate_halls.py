"""`manage.py simulate_halls`: the demo halls' visitors and clerks, simulated.

Two ways to run (details in queueing.simulation):

    simulate_halls --days 14 [--first 2026-03-02] [--export DIR]
        whole business days through the services (`at=` timestamps) into this
        database; with --export, DIR/<hall>/HALL.json + EVENTS.csv in the replay format
        (`manage.py replay_events` reads them).

    simulate_halls --live --url http://127.0.0.1:8000 [--speed 2] [--for 600]
        the running demo: visitors and clerks act now, through the server's HTTP API,
        and the halls' cameras report counts through the vision API.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from queueing.demo.city import HALL_CODES, build_city
from queueing.demo.day import CLOSES_AT, OPENS_AT
from queueing.models import Hall, TicketEvent, Window


class Command(BaseCommand):
    help = "Simulate the demo halls: days of history (--days) or the live demo (--live)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hall",
            dest="halls",
            action="append",
            choices=HALL_CODES,
            help="a demo hall (repeat for several; default: all)",
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--days", type=int, help="simulate this many calendar days")
        parser.add_argument(
            "--first",
            type=dt.date.fromisoformat,
            metavar="YYYY-MM-DD",
            help="the first day (default: --days days before today)",
        )
        parser.add_argument("--export", type=Path, metavar="DIR", help="write replay files")
        parser.add_argument("--live", action="store_true", help="drive a running server")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the server (--live)")
        parser.add_argument(
            "--speed", type=float, default=1.0, help="simulated seconds per real second (--live)"
        )
        parser.add_argument(
            "--for", dest="duration", type=float, help="stop after this many seconds (--live)"
        )
        parser.add_argument(
            "--camera-port",
            type=int,
            help="also serve each hall's rendered camera as MJPEG on this port (--live)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        halls = options["halls"] or list(HALL_CODES)
        if options["live"] == (options["days"] is not None):
            raise CommandError("Give either --days N or --live.")
        if options["speed"] <= 0:
            raise CommandError("--speed must be above 0.")
        if options["days"] is not None and not 1 <= options["days"] <= 366:
            raise CommandError("--days must be 1 to 366.")
        if options["export"] is not None:
            if options["live"]:
                raise CommandError("--export goes with --days.")
            try:  # before hours of simulation, not after
                options["export"].mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CommandError(f"{options['export']}: cannot be written ({exc})") from None
        self._ensure_city(halls)
        if options["live"]:
            from queueing.simulation.live import run_live

            try:
                run_live(
                    halls=halls,
                    url=options["url"].rstrip("/"),
                    seed=options["seed"],
                    speed=options["speed"],
                    duration=options["duration"],
                    camera_port=options["camera_port"],
                    log=self.stdout.write,
                )
            except KeyboardInterrupt:
                self.stdout.write("Stopped.")
            return
        self._days(halls, options)

    def _ensure_city(self, halls: list[str]) -> None:
        if Hall.objects.filter(code__in=halls).count() == len(halls):
            return
        if not settings.DEBUG:
            raise CommandError("The demo halls are missing: run `manage.py load_demo` first.")
        build_city(opens_at=OPENS_AT, closes_at=CLOSES_AT)

    def _check_after_recorded(self, halls: list[str], first: dt.date) -> None:
        """Simulated days are played through the services, which only move forward: a day
        before what a hall already holds (tickets of a live demo's today or of an earlier
        run, windows open since) would contradict it, so it is refused before anything
        is written."""
        for hall in Hall.objects.filter(code__in=halls).order_by("code"):
            starts = dt.datetime.combine(first, dt.time(0), tzinfo=hall.tz)
            moments = [
                TicketEvent.objects.filter(hall=hall)
                .order_by("-at")
                .values_list("at", flat=True)
                .first(),
                Window.objects.filter(hall=hall, status_changed_at__isnull=False)
                .exclude(status=Window.Status.CLOSED)
                .order_by("-status_changed_at")
                .values_list("status_changed_at", flat=True)
                .first(),
            ]
            latest = max((m for m in moments if m is not None), default=None)
            if latest is not None and latest >= starts:
                raise CommandError(
                    f"Hall {hall.code} already holds activity up to "
                    f"{latest.astimezone(hall.tz):%Y-%m-%d %H:%M}: simulated days must come "
                    f"after it. Give a later --first, or use an empty database."
                )

    def _days(self, halls: list[str], options: dict[str, Any]) -> None:
        from queueing.simulation.days import export, simulate_days

        days = options["days"]
        today = timezone.localdate()
        first = options["first"] or today - dt.timedelta(days=days)
        self._check_after_recorded(halls, first)
        began = time.monotonic()
        debug = settings.DEBUG
        settings.DEBUG = False  # no query log: weeks of days make millions of queries
        try:
            runs = simulate_days(
                halls=halls,
                first=first,
                days=days,
                seed=options["seed"],
                record=options["export"] is not None,
                progress=lambda code, day, n: self.stderr.write(f"{code} {day}: {n} tickets"),
            )
        finally:
            settings.DEBUG = debug
        seconds = time.monotonic() - began
        total = sum(run.tickets for run in runs)
        last = first + dt.timedelta(days=days - 1)
        self.stdout.write(
            self.style.SUCCESS(
                f"Simulated {first} to {last} for {', '.join(halls)}: {total} tickets "
                f"in {seconds:.1f} s ({total / max(seconds, 1e-9):.0f} tickets/s)."
            )
        )
        if options["export"] is not None:
            try:
                folders = export(runs, options["export"])
            except OSError as exc:
                raise CommandError(f"{options['export']}: cannot be written ({exc})") from None
            for folder in folders:
                self.stdout.write(f"  {folder}/HALL.json, {folder}/EVENTS.csv")
