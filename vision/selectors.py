"""Reads of the camera counts: occupancy and congestion per zone and per hall, and the
hall's people waiting beside its tickets waiting (for the manager board).

Occupancy is the time-weighted mean of the zone's latest minute, if that minute is
fresh (within FRESH); otherwise it is unknown (None), never zero. Congestion compares
occupancy with the zone's capacity through a small state machine with hysteresis, so a
zone hovering at a threshold does not flip level every minute:

    ok → busy at ≥ 80 % of capacity, busy → ok below 70 %;
    busy/ok → congested at ≥ 100 %, congested → busy below 90 %.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from queueing.models import Hall, Ticket
from vision.models import Camera, LineCrossing, Zone, ZoneMinute

MINUTE = dt.timedelta(minutes=1)
# The latest minute counts as "now" while it started within this: the running minute
# and the one before it, with a margin for a worker that posts every few seconds.
FRESH = dt.timedelta(minutes=3)
# How far back the congestion state machine reads the zone's minutes.
LOOKBACK = dt.timedelta(minutes=30)
# Arrival rate at the entrances, for the wait of lines without tickets.
THROUGHPUT_WINDOW = dt.timedelta(minutes=15)

OK, BUSY, CONGESTED = "ok", "busy", "congested"
BUSY_AT, BUSY_CLEAR = 0.8, 0.7
CONGESTED_AT, CONGESTED_CLEAR = 1.0, 0.9

# The board flags a gap between people waiting and tickets waiting when it holds, the
# same way round, in each of the last GAP_MINUTES minutes and is at least
# GAP_MIN_PEOPLE people and GAP_SHARE of the larger figure (companions, counting noise).
GAP_MINUTES = 5
GAP_MIN_PEOPLE = 5
GAP_SHARE = 0.3
WAITING_KINDS = (Zone.Kind.WAITING_AREA, Zone.Kind.QUEUE_LINE)


def next_level(level: str, ratio: float) -> str:
    """The congestion level after a minute at `ratio` (occupancy / capacity)."""
    if ratio >= CONGESTED_AT or (level == CONGESTED and ratio >= CONGESTED_CLEAR):
        return CONGESTED
    if ratio >= BUSY_AT or (level != OK and ratio >= BUSY_CLEAR):
        return BUSY
    return OK


@dataclass
class ZoneOccupancy:
    zone: Zone
    people: float | None = None  # mean of the latest fresh minute; None: unknown
    peak: int | None = None
    minute: dt.datetime | None = None
    level: str | None = None  # None while unknown
    # consecutive observed minutes, up to the latest, at the current level
    level_minutes: int = 0
    # a queue line without tickets (no service): people in it ÷ entrance throughput
    estimated_wait_min: float | None = None

    @property
    def ratio(self) -> float | None:
        return None if self.people is None else self.people / self.zone.capacity


def zone_occupancy(zones: Iterable[Zone], *, at: dt.datetime | None = None) -> list[ZoneOccupancy]:
    """Occupancy and congestion level of each zone, in the order given. One query."""
    now = at or timezone.now()
    zones = list(zones)
    by_zone: dict[int, list[ZoneMinute]] = defaultdict(list)
    for row in ZoneMinute.objects.filter(
        zone__in=zones, minute__gt=now - LOOKBACK, minute__lte=now
    ).order_by("minute"):
        by_zone[row.zone_id].append(row)
    result = []
    for zone in zones:
        occupancy = ZoneOccupancy(zone=zone)
        rows = by_zone.get(zone.pk, [])
        if rows and rows[-1].minute > now - FRESH:
            latest = rows[-1]
            occupancy.people, occupancy.peak, occupancy.minute = (
                latest.mean,
                latest.peak,
                latest.minute,
            )
            level = OK
            # A missing minute is unknown: it neither moves the level nor counts.
            for row in rows:
                new = next_level(level, row.mean / zone.capacity)
                occupancy.level_minutes = occupancy.level_minutes + 1 if new == level else 1
                level = new
            occupancy.level = level
        result.append(occupancy)
    return result


def camera_is_offline(camera: Camera, *, at: dt.datetime) -> bool:
    """No report for `offline_after_s` (since it was added, if it never reported), or
    its worker said it sees no frames."""
    seen = camera.last_seen_at or camera.created_at
    if (at - seen).total_seconds() >= camera.offline_after_s:
        return True
    return camera.last_seen_at is not None and camera.last_health.get("online") is False


@dataclass
class HallOccupancy:
    zones: list[ZoneOccupancy]
    # people in the waiting areas and queue lines now; None: none of them reports
    people_waiting: float | None
    tickets_waiting: int
    # "people_without_tickets", "tickets_without_people", or "" when none is sustained
    sustained_gap: str
    cameras_offline: list[Camera] = field(default_factory=list)
    # people coming in per minute lately (entrance lines); None: no entrance counted
    arrivals_per_min: float | None = None

    @property
    def gap(self) -> float | None:
        """People counted waiting less tickets waiting (positive: more people)."""
        if self.people_waiting is None:
            return None
        return self.people_waiting - self.tickets_waiting


def hall_occupancy(hall: Hall, *, at: dt.datetime | None = None) -> HallOccupancy:
    """Zones of the hall's enabled cameras with their occupancy, people waiting beside
    tickets waiting, whether a gap between them held for GAP_MINUTES, and which
    cameras are dark. A fixed number of queries."""
    now = at or timezone.now()
    cameras = list(Camera.objects.filter(hall=hall, enabled=True).order_by("name"))
    zones = list(
        Zone.objects.filter(camera__in=cameras)
        .select_related("camera", "service")
        .order_by("camera__name", "name")
    )
    occupancy = zone_occupancy(zones, at=now)
    waiting = [o for o in occupancy if o.zone.kind in WAITING_KINDS and o.people is not None]
    people = round(sum(o.people or 0.0 for o in waiting), 1) if waiting else None
    tickets = (
        Ticket.objects.waiting()
        .filter(hall=hall, business_date=hall.business_date(now), issued_at__lte=now)
        .count()
    )
    arrivals = arrivals_per_minute([z for z in zones if z.kind == Zone.Kind.ENTRANCE], at=now)
    for row in occupancy:
        # A line with no tickets (the ticket machine's, a consultation desk's) has no
        # queue to read a wait from: in a steady hall everyone who comes in passes it,
        # so the entrance's arrival rate is its throughput (Little's law).
        ticketless = row.zone.kind == Zone.Kind.QUEUE_LINE and row.zone.service_id is None
        if ticketless and row.people is not None and arrivals:
            row.estimated_wait_min = round(row.people / arrivals, 1)
    return HallOccupancy(
        zones=occupancy,
        people_waiting=people,
        tickets_waiting=tickets,
        sustained_gap=_sustained_gap(hall, [z for z in zones if z.kind in WAITING_KINDS], now),
        cameras_offline=[c for c in cameras if camera_is_offline(c, at=now)],
        arrivals_per_min=arrivals,
    )


def arrivals_per_minute(
    entrances: Sequence[Zone], *, at: dt.datetime, window: dt.timedelta = THROUGHPUT_WINDOW
) -> float | None:
    """People crossing the entrance lines inwards per minute, over the complete
    minutes of `window` that were counted (a minute not counted is left out, not taken
    as nobody coming). None without counts. One query."""
    if not entrances:
        return None
    current = at.replace(second=0, microsecond=0)
    rows = LineCrossing.objects.filter(
        zone__in=entrances, minute__gte=current - window, minute__lt=current
    ).values_list("minute", "in_count")
    minutes = {minute for minute, _n in rows}
    if not minutes:
        return None
    return round(sum(n for _m, n in rows) / len(minutes), 2)


def _tickets_waiting_at(hall: Hall, instants: Sequence[dt.datetime]) -> list[int]:
    """How many of the hall's tickets were waiting at each instant (issued, not yet
    called or ended). One query."""
    first, last = min(instants), max(instants)
    rows = (
        Ticket.objects.filter(hall=hall, issued_at__lte=last)
        .filter(Q(called_at__isnull=True) | Q(called_at__gt=first))
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=first))
        .values_list("issued_at", "called_at", "ended_at")
    )
    spans = [
        (issued, min(filter(None, [called, ended]), default=None)) for issued, called, ended in rows
    ]
    return [
        sum(1 for start, end in spans if start <= t and (end is None or end > t)) for t in instants
    ]


def _sustained_gap(hall: Hall, zones: list[Zone], now: dt.datetime) -> str:
    """Whether people waiting and tickets waiting differed the same way in each of the
    last GAP_MINUTES complete minutes; a minute a waiting zone did not report breaks it."""
    if not zones:
        return ""
    current = now.replace(second=0, microsecond=0)
    minutes = [current - MINUTE * i for i in range(GAP_MINUTES, 0, -1)]
    people: dict[dt.datetime, float] = defaultdict(float)
    reported: dict[dt.datetime, int] = defaultdict(int)
    for minute, mean in ZoneMinute.objects.filter(zone__in=zones, minute__in=minutes).values_list(
        "minute", "mean"
    ):
        people[minute] += mean
        reported[minute] += 1
    if any(reported[m] < len(zones) for m in minutes):
        return ""
    # tickets at the middle of each minute, as the mean people are over the minute
    tickets = _tickets_waiting_at(hall, [m + MINUTE / 2 for m in minutes])
    signs = set()
    for minute, waiting in zip(minutes, tickets, strict=True):
        gap = people[minute] - waiting
        if abs(gap) < max(GAP_MIN_PEOPLE, GAP_SHARE * max(people[minute], waiting)):
            return ""
        signs.add(gap > 0)
    if len(signs) != 1:
        return ""
    return "people_without_tickets" if signs.pop() else "tickets_without_people"
