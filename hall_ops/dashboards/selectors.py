"""Reads behind the operations screens: today's arrivals against served visitors per
quarter hour for the board's chart, and the headline figures of many halls at once for
the director's overview. Each runs a fixed number of queries, whatever the number of
tickets or halls."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q
from django.db.models.functions import ExtractHour, ExtractMinute, Floor
from django.utils import timezone

from hall_ops.models import Alert
from queueing.models import Hall, Ticket, TicketEvent, Window

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
