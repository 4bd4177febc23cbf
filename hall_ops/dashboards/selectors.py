"""Reads behind the operations screens: today's arrivals against served visitors per
quarter hour for the board's chart, the headline figures of many halls at once for the
director's overview, and a hall's weekly report. Each runs a fixed number of queries,
whatever the number of tickets or halls."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q
from django.db.models.functions import ExtractHour, ExtractMinute, Floor
from django.utils import timezone

from hall_ops.models import Alert
from queueing.models import Hall, HallService, Service, Ticket, TicketEvent, Window

BUCKET_MIN = 15


@dataclass
class Throughput:
    """Arrivals (tickets issued) and visitors served (tickets completed) per quarter hour
    of the hall's business day, in its local time."""

    labels: list[str]
    arrivals: list[int]
    served: list[int]

    def as_dict(self) -> dict[str, list[str] | list[int]]:
        return {"labels": self.labels, "arrivals": self.arrivals, "served": self.served}


def arrivals_and_served(hall: Hall, *, at: dt.datetime | None = None) -> Throughput:
    """Today's issued and completed events per 15 minutes (1 query).

    The axis runs over the opening hours, widened to any quarter with events outside
    them (a hall that opened early), so the chart keeps its shape through the day.
    """
    now = at or timezone.now()
    day = hall.business_date(now)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=hall.tz)
    # Grouped in the database by local hour and quarter: a busy day is thousands of
    # events, the answer at most 2 x 96 rows.
    rows = (
        TicketEvent.objects.filter(
            hall=hall,
            at__gte=start,
            at__lt=start + dt.timedelta(days=1),
            kind__in=[TicketEvent.Kind.ISSUED, TicketEvent.Kind.COMPLETED],
        )
        .annotate(
            hour=ExtractHour("at", tzinfo=hall.tz),
            quarter=Floor(ExtractMinute("at", tzinfo=hall.tz) / BUCKET_MIN),
        )
        .values("kind", "hour", "quarter")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, dict[int, int]] = {
        TicketEvent.Kind.ISSUED: {},
        TicketEvent.Kind.COMPLETED: {},
    }
    for row in rows:
        slot = int(row["hour"]) * 4 + int(row["quarter"])
        counts[row["kind"]][slot] = row["n"]
    first = (hall.opens_at.hour * 60 + hall.opens_at.minute) // BUCKET_MIN
    last = (hall.closes_at.hour * 60 + hall.closes_at.minute - 1) // BUCKET_MIN
    seen = [*counts[TicketEvent.Kind.ISSUED], *counts[TicketEvent.Kind.COMPLETED]]
    if seen:
        first, last = min(first, *seen), max(last, *seen)
    slots = range(first, last + 1)
    return Throughput(
        labels=[f"{s // 4:02d}:{(s % 4) * BUCKET_MIN:02d}" for s in slots],
        arrivals=[counts[TicketEvent.Kind.ISSUED].get(s, 0) for s in slots],
        served=[counts[TicketEvent.Kind.COMPLETED].get(s, 0) for s in slots],
    )


@dataclass
class HallHeadline:
    hall: Hall
    waiting: int = 0
    longest_wait_s: int = 0
    served_today: int = 0
    windows_open: int = 0
    windows_total: int = 0
    # active alerts (open or acknowledged) per severity, and how many nobody has taken
    alerts_by_severity: dict[int, int] = field(default_factory=dict)
    alerts_untaken: int = 0

    @property
    def alerts_active(self) -> int:
        return sum(self.alerts_by_severity.values())

    @property
    def severities(self) -> list[tuple[int, str, int]]:
        """(severity, label, count) from the most severe down, zeros included."""
        return [
            (value, str(label), self.alerts_by_severity.get(value, 0))
            for value, label in reversed(Alert.Severity.choices)
        ]


def hall_headlines(halls: list[Hall], *, at: dt.datetime | None = None) -> list[HallHeadline]:
    """Each hall's live headline figures, in the order given (3 queries for any number of
    halls: tickets, windows, alerts)."""
    now = at or timezone.now()
    heads = {hall.pk: HallHeadline(hall=hall) for hall in halls}
    if not heads:
        return []
    days = {hall.pk: hall.business_date(now) for hall in halls}
    for row in (
        Ticket.objects.filter(hall_id__in=heads, business_date__in=set(days.values()))
        .values("hall_id", "business_date")
        .annotate(
            waiting=Count("id", filter=Q(status=Ticket.Status.WAITING)),
            oldest=Min("issued_at", filter=Q(status=Ticket.Status.WAITING)),
            served=Count("id", filter=Q(status=Ticket.Status.COMPLETED)),
        )
        .order_by()
    ):
        # halls in different time zones may be on different business days
        if row["business_date"] != days[row["hall_id"]]:
            continue
        head = heads[row["hall_id"]]
        head.waiting, head.served_today = row["waiting"], row["served"]
        if row["oldest"] is not None:
            head.longest_wait_s = max(0, int((now - row["oldest"]).total_seconds()))
    for windows in (
        Window.objects.filter(hall_id__in=heads)
        .values("hall_id")
        .annotate(total=Count("id"), open=Count("id", filter=Q(status=Window.Status.OPEN)))
        .order_by()
    ):
        heads[windows["hall_id"]].windows_open = windows["open"]
        heads[windows["hall_id"]].windows_total = windows["total"]
    untaken: dict[int, int] = defaultdict(int)
    for alerts in (
        Alert.objects.filter(hall_id__in=heads, state__in=Alert.ACTIVE_STATES)
        .values("hall_id", "severity", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        by_severity = heads[alerts["hall_id"]].alerts_by_severity
        by_severity[alerts["severity"]] = by_severity.get(alerts["severity"], 0) + alerts["n"]
        if alerts["state"] == Alert.State.OPEN:
            untaken[alerts["hall_id"]] += alerts["n"]
    for hall_id, n in untaken.items():
        heads[hall_id].alerts_untaken = n
    return list(heads.values())


# --------------------------------------------------------------------------- weekly report


@dataclass
class WaitFigures:
    """Issued, served and waits of a set of tickets, and how well their quotes held."""

    target_min: int | None = None
    issued: int = 0
    served: int = 0
    no_shows: int = 0
    cancelled: int = 0
    waits: list[float] = field(default_factory=list)  # seconds, tickets called
    past_target: int = 0
    quote_errors: list[float] = field(default_factory=list)  # |actual - quoted|, seconds
    quotes_inside: int = 0

    def add(self, status: str, wait_s: float | None, quote: tuple[int | None, ...]) -> None:
        self.issued += 1
        self.served += status == Ticket.Status.COMPLETED
        self.no_shows += status == Ticket.Status.NO_SHOW
        self.cancelled += status == Ticket.Status.CANCELLED
        if wait_s is None:
            return
        self.waits.append(wait_s)
        if self.target_min is not None and wait_s > self.target_min * 60:
            self.past_target += 1
        quoted, low, high = quote
        if quoted is not None and low is not None and high is not None:
            self.quote_errors.append(abs(wait_s - quoted))
            self.quotes_inside += low <= wait_s <= high

    @property
    def mean_wait_s(self) -> float | None:
        return sum(self.waits) / len(self.waits) if self.waits else None

    @property
    def p90_wait_s(self) -> float | None:
        """The 90th percentile by the nearest-rank method (a wait someone really had)."""
        if not self.waits:
            return None
        ordered = sorted(self.waits)
        return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]

    @property
    def share_past_target(self) -> float | None:
        return self.past_target / len(self.waits) if self.waits else None

    @property
    def quote_mae_s(self) -> float | None:
        return sum(self.quote_errors) / len(self.quote_errors) if self.quote_errors else None

    @property
    def share_inside_quote(self) -> float | None:
        return self.quotes_inside / len(self.quote_errors) if self.quote_errors else None


@dataclass
class WeeklyReport:
    hall: Hall
    start: dt.date  # a Monday
    services: list[tuple[Service, WaitFigures]]
    total: WaitFigures
    busiest: list[tuple[dt.datetime, int]]  # local hour start, tickets issued

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)


def weekly_report(hall: Hall, *, start: dt.date, busiest: int = 5) -> WeeklyReport:
    """The figures of the week (Monday `start`, local days) per service and in total
    (2 queries). Waits run from issue to first call; tickets are counted by the day they
    were issued. The week's tickets come back as rows (a busy hall's week is some tens of
    thousands) because a percentile is not portable SQL."""
    services = [
        hs.service
        for hs in HallService.objects.filter(hall=hall)
        .select_related("service")
        .order_by("service__prefix")
    ]
    figures = {s.pk: WaitFigures(target_min=s.target_wait_min) for s in services}
    total = WaitFigures()
    hours: dict[dt.datetime, int] = defaultdict(int)
    tz = hall.tz
    for sid, status, issued_at, called_at, *quote in Ticket.objects.filter(
        hall=hall, business_date__gte=start, business_date__lt=start + dt.timedelta(days=7)
    ).values_list(
        "service_id",
        "status",
        "issued_at",
        "called_at",
        "quoted_wait_s",
        "quoted_low_s",
        "quoted_high_s",
    ):
        wait = (called_at - issued_at).total_seconds() if called_at else None
        service_figures = figures.get(sid)
        if service_figures is None:  # a service the hall no longer offers
            continue
        service_figures.add(status, wait, tuple(quote))
        target = service_figures.target_min
        total.add(status, wait, tuple(quote))
        if wait is not None and target is not None and wait > target * 60:
            total.past_target += 1  # the total has no target of its own: each service's
        local = issued_at.astimezone(tz)
        hours[local.replace(minute=0, second=0, microsecond=0)] += 1
    top = sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:busiest]
    return WeeklyReport(
        hall=hall,
        start=start,
        services=[(s, figures[s.pk]) for s in services],
        total=total,
        busiest=top,
    )
