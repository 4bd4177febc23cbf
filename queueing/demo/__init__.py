"""The demo city behind `manage.py load_demo`: three halls, their services, windows
and logins (queueing.demo.city), and a day of history made through the real services
(queueing.demo.day)."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from queueing.demo.city import (
    DEMO_PASSWORD,
    HALL_CODES,
    LOGINS,
    DemoError,
    Login,
    build_city,
    start_page,
    wipe_demo,
)
from queueing.demo.day import DemoDay, HallDay, demo_day, national_id
from queueing.models import Hall, Ticket, Window

DEMO_TIME_ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_TIME_ZONE",
    "LOGINS",
    "DemoError",
    "DemoResult",
    "HallSummary",
    "Login",
    "load_demo",
    "national_id",
    "start_page",
]


@dataclass(frozen=True)
class HallSummary:
    code: str
    name: str
    tickets: int
    waiting: int
    windows_open: int
    windows_serving: int


@dataclass(frozen=True)
class DemoResult:
    loaded: bool  # False: today's demo was there already and nothing changed
    wiped: int  # tickets deleted by --reset
    day: DemoDay
    halls: list[HallSummary]


def load_demo(*, seed: int = 1, now: dt.datetime | None = None, reset: bool = False) -> DemoResult:
    """Build the demo city and today's history up to `now` (default: the clock).

    Without `reset`, a demo that already has today's tickets is left as it is; a demo
    from an earlier day gets today's history added. The same seed and `now` give the
    same tickets.
    """
    local_now = (now or timezone.now()).astimezone(DEMO_TIME_ZONE).replace(microsecond=0)
    day = demo_day(local_now)
    with transaction.atomic():
        wiped = wipe_demo() if reset else 0
        loaded = not Ticket.objects.filter(
            hall__code__in=HALL_CODES, business_date=day.date
        ).exists()
        if loaded:
            for hall in build_city(opens_at=day.opens_at, closes_at=day.closes_at):
                HallDay(hall, day, random.Random(f"{seed}/{hall.code}")).run()
    return DemoResult(loaded=loaded, wiped=wiped, day=day, halls=_summaries(day))


def _summaries(day: DemoDay) -> list[HallSummary]:
    summaries = []
    for hall in Hall.objects.filter(code__in=HALL_CODES).order_by("code"):
        today = Ticket.objects.filter(hall=hall, business_date=day.date)
        summaries.append(
            HallSummary(
                code=hall.code,
                name=hall.name,
                tickets=today.count(),
                waiting=today.filter(status=Ticket.Status.WAITING).count(),
                windows_open=hall.windows.filter(status=Window.Status.OPEN).count(),
                windows_serving=today.filter(status__in=Ticket.CURRENT_STATUSES).count(),
            )
        )
    return summaries
