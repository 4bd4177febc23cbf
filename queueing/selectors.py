"""Reads that several places need: the hall's live state, a window's queue, the
calling display. Each runs a fixed number of queries, whatever the size of the hall."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from queueing.estimation import Estimate, estimate_hall
from queueing.estimation.neighbours import Neighbour, best_alternative, nearby_halls
from queueing.models import ApiToken, Hall, Service, Ticket, TicketEvent, Window
from queueing.tokens import LAST_USED_RESOLUTION, SIMULATOR_TOKEN_NAME


@dataclass
class ServiceQueue:
    service: Service
    waiting: int
    longest_wait_s: int
    served_today: int
    issued_today: int


@dataclass
class WindowState:
    window: Window
    ticket: Ticket | None
    skills: list[Service] = field(default_factory=list)
    seconds_in_state: int = 0


@dataclass
class HallState:
    hall: Hall
    at: dt.datetime
    business_date: dt.date
    services: list[ServiceQueue]
    windows: list[WindowState]

    @property
    def waiting(self) -> int:
        return sum(q.waiting for q in self.services)


def hall_services(hall: Hall) -> list[Service]:
    return list(
        Service.objects.filter(hall_services__hall=hall, hall_services__enabled=True).order_by(
            "prefix"
        )
    )


def hall_state(hall: Hall, *, at: dt.datetime | None = None) -> HallState:
    """Queues per service and every window with what it holds (5 queries)."""
    now = at or timezone.now()
    day = hall.business_date(now)
    services = hall_services(hall)
    today = Ticket.objects.filter(hall=hall, business_date=day)
    per_service = {
        row["service_id"]: row
        for row in today.values("service_id").annotate(
            waiting=Count("id", filter=Q(status=Ticket.Status.WAITING)),
            oldest=Min("issued_at", filter=Q(status=Ticket.Status.WAITING)),
            served=Count("id", filter=Q(status=Ticket.Status.COMPLETED)),
            issued=Count("id"),
        )
    }
    queues = []
    for service in services:
        row: Any = per_service.get(service.pk, {})
        oldest = row.get("oldest")
        queues.append(
            ServiceQueue(
                service=service,
                waiting=row.get("waiting", 0),
                longest_wait_s=int((now - oldest).total_seconds()) if oldest else 0,
                served_today=row.get("served", 0),
                issued_today=row.get("issued", 0),
            )
        )
    windows = list(Window.objects.filter(hall=hall).prefetch_related("skills").order_by("label"))
    current = {
        t.window_id: t for t in Ticket.objects.current().filter(hall=hall).select_related("service")
    }
    states = [
        WindowState(
            window=w,
            ticket=current.get(w.pk),
            skills=list(w.skills.all()),
            seconds_in_state=_seconds_in_state(w, current.get(w.pk), now),
        )
        for w in windows
    ]
    return HallState(hall=hall, at=now, business_date=day, services=queues, windows=states)


def _seconds_in_state(window: Window, ticket: Ticket | None, now: dt.datetime) -> int:
    since = window.status_changed_at
    if ticket is not None:
        since = ticket.started_at or ticket.called_at or since
    return max(0, int((now - since).total_seconds()))


def window_queue(window: Window, *, limit: int = 50, at: dt.datetime | None = None) -> list[Ticket]:
    """The waiting tickets this window could call, in the order it would call them."""
    day = window.hall.business_date(at)
    qs = (
        Ticket.objects.waiting()
        .filter(hall_id=window.hall_id, business_date=day, service__in=window.skills.all())
        .select_related("service")
        .in_call_order()
    )
    tickets = list(qs[:limit])
    if window.is_priority:
        # a priority window takes waiting priority tickets first (see the calling policy)
        tickets.sort(key=lambda t: (not t.is_priority, t.queue_key, t.pk))
    return tickets


def position_in_queue(ticket: Ticket) -> int:
    """How many waiting tickets of the same service are ahead of this one."""
    return (
        Ticket.objects.waiting()
        .filter(
            hall_id=ticket.hall_id,
            business_date=ticket.business_date,
            service_id=ticket.service_id,
        )
        .filter(Q(queue_key__lt=ticket.queue_key) | Q(queue_key=ticket.queue_key, id__lt=ticket.pk))
        .count()
    )


def recent_calls(hall: Hall, *, limit: int = 8, at: dt.datetime | None = None) -> list[TicketEvent]:
    """The latest calls and recalls of today, newest first, for the calling display."""
    day = hall.business_date(at)
    return list(
        TicketEvent.objects.filter(
            hall=hall,
            kind__in=[TicketEvent.Kind.CALLED, TicketEvent.Kind.RECALLED],
            ticket__business_date=day,
        )
        .select_related("ticket", "window")
        .order_by("-at", "-id")[:limit]
    )


def arrival_estimates(
    hall: Hall, *, services: list[Service], at: dt.datetime | None = None
) -> dict[int, Estimate | None]:
    """The wait a regular visitor taking a number of each of `services` now can expect,
    by service id: one simulation of the hall (see queueing.estimation), 2 queries
    (5 when the hall's model is relearned, at most every two minutes)."""
    return estimate_hall(hall, at=at, tickets=False, service_ids=[s.pk for s in services]).arrivals


@dataclass
class ServiceOutlook:
    """One service's queue with the wait for a person arriving now, and the quickest
    nearby hall when it is much shorter there."""

    queue: ServiceQueue
    estimate: Estimate | None
    alternative: Neighbour | None


def service_outlook(state: HallState) -> list[ServiceOutlook]:
    """The hall's queues with estimates: one simulation of the hall (2 queries) and its
    neighbours' cached estimates (1 or 2 queries; see queueing.estimation.neighbours)."""
    estimates = arrival_estimates(
        state.hall, services=[q.service for q in state.services], at=state.at
    )
    nearby = nearby_halls(state.hall, here=estimates, at=state.at)
    return [
        ServiceOutlook(
            queue=q,
            estimate=estimates.get(q.service.pk),
            alternative=best_alternative(nearby.get(q.service.pk, [])),
        )
        for q in state.services
    ]


def hall_simulated(hall: Hall, *, at: dt.datetime | None = None) -> bool:
    """Whether the demo's simulator drives this hall now: a live token of its name,
    for the hall, used within the last few minutes."""
    since = (at or timezone.now()) - 3 * LAST_USED_RESOLUTION
    return ApiToken.objects.filter(
        name=SIMULATOR_TOKEN_NAME, revoked_at=None, halls=hall, last_used_at__gte=since
    ).exists()
