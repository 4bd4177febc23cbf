"""The three quotes today's systems give, for comparison (issue 6), read at one instant
from the hall's rows, for a ticket that was just issued.

- QL: (waiting tickets of its service ahead of it + 1) × recent mean service time of
  its service ÷ open windows skilled for its service.
- QL-pool: (waiting tickets ahead of it that any of those windows could serve + 1) ×
  recent mean service time of all services ÷ the same windows.
- LES: the wait (issue → first call) of the last ticket of its service to be called
  that business day; 0 when none has been called yet.

"Ahead" is the calling order (queue key, id). "Recent mean service time" is the mean
of started_at → ended_at over the last RECENT completed tickets of the past day (of
the service, or of the hall), falling back to the hall's and then to DEFAULT_SERVICE_S. With no open
window skilled for the service, both QL figures divide by 1.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q

from queueing.models import Ticket, TicketEvent, Window

RECENT = 20
RECENT_WITHIN = dt.timedelta(days=1)
DEFAULT_SERVICE_S = 300.0


@dataclass(frozen=True)
class Baselines:
    ql_s: int
    qlpool_s: int
    les_s: int


def _mean_service(hall_id: int, at: dt.datetime, service_id: int | None = None) -> float | None:
    qs = Ticket.objects.filter(
        hall_id=hall_id,
        status=Ticket.Status.COMPLETED,
        ended_at__lte=at,
        ended_at__gte=at - RECENT_WITHIN,
        started_at__isnull=False,
    )
    if service_id is not None:
        qs = qs.filter(service_id=service_id)
    rows = list(qs.order_by("-ended_at", "-id").values_list("started_at", "ended_at")[:RECENT])
    if not rows:
        return None
    seconds = [(end - start).total_seconds() for start, end in rows if start and end]
    return sum(seconds) / len(seconds) if seconds else None


def baselines_for(ticket: Ticket, *, at: dt.datetime) -> Baselines:
    hall_mean = _mean_service(ticket.hall_id, at)
    service_mean = _mean_service(ticket.hall_id, at, ticket.service_id)
    last_call = (
        TicketEvent.objects.filter(
            hall_id=ticket.hall_id,
            kind=TicketEvent.Kind.CALLED,
            service_id=ticket.service_id,
            at__lte=at,
            ticket__business_date=ticket.business_date,
        )
        .order_by("-at", "-id")
        .values_list("at", "ticket__issued_at")
        .first()
    )
    les = (last_call[0] - last_call[1]).total_seconds() if last_call else 0.0
    return _combine(ticket, hall_mean, service_mean, les)


def _combine(
    ticket: Ticket, hall_mean: float | None, service_mean: float | None, les: float
) -> Baselines:
    """The queue-length part (2 queries: open windows' skills, tickets ahead)."""
    counts = (
        Ticket.objects.waiting()
        .filter(hall_id=ticket.hall_id, business_date=ticket.business_date)
        .filter(Q(queue_key__lt=ticket.queue_key) | Q(queue_key=ticket.queue_key, id__lt=ticket.pk))
        .values("service_id")
        .annotate(n=Count("id"))
    )
    ahead = {row["service_id"]: row["n"] for row in counts}
    return _queue_length(ticket, _open_skills(ticket.hall_id), ahead, hall_mean, service_mean, les)


def _open_skills(hall_id: int) -> list[tuple[int, int]]:
    """(window, service) for every skill of the hall's open windows."""
    return list(
        Window.skills.through.objects.filter(
            window__hall_id=hall_id, window__status=Window.Status.OPEN
        ).values_list("window_id", "service_id")
    )


def _queue_length(
    ticket: Ticket,
    skills: list[tuple[int, int]],
    ahead: dict[int, int],
    hall_mean: float | None,
    service_mean: float | None,
    les: float,
) -> Baselines:
    """QL and QL-pool from the open windows' skills and the waiting tickets ahead of
    `ticket` per service; LES as given."""
    service_mean = service_mean or hall_mean or DEFAULT_SERVICE_S
    hall_mean = hall_mean or DEFAULT_SERVICE_S
    windows = {w for w, s in skills if s == ticket.service_id}
    pool = {s for w, s in skills if w in windows}
    same = ahead.get(ticket.service_id, 0)
    pooled = sum(n for s, n in ahead.items() if s in pool)
    n_windows = max(1, len(windows))
    return Baselines(
        ql_s=round((same + 1) * service_mean / n_windows),
        qlpool_s=round((pooled + 1) * hall_mean / n_windows),
        les_s=round(les),
    )


class BaselineTracker:
    """`baselines_for` for a replay, which sees every ticket event of one hall as it
    commits and in order: the recent service times, each service's last call and the
    waiting tickets are kept from the events, and the open windows' skills until the
    replay says a window changed (`windows_changed`), instead of read back: no query
    in the common case. The same numbers (tests/test_replay.py compares them)."""

    def __init__(self) -> None:
        # (ended_at, seconds) of the last RECENT completions: the hall's, by service
        self._hall: deque[tuple[dt.datetime, float]] = deque(maxlen=RECENT)
        self._service: dict[int, deque[tuple[dt.datetime, float]]] = {}
        # (service, business date) -> (called at, issued at) of the last first call
        self._last_call: dict[tuple[int, dt.date], tuple[dt.datetime, dt.datetime]] = {}
        # waiting tickets: id -> (business date, service, calling-order key)
        self._waiting: dict[int, tuple[dt.date, int, tuple[dt.datetime, int]]] = {}
        self._skills: list[tuple[int, int]] | None = None

    def windows_changed(self) -> None:
        self._skills = None

    def observe(self, event: TicketEvent) -> None:
        ticket = event.ticket
        if ticket.status == Ticket.Status.WAITING:
            key = (ticket.queue_key, ticket.pk)
            self._waiting[ticket.pk] = (ticket.business_date, ticket.service_id, key)
        else:
            self._waiting.pop(ticket.pk, None)
        if event.kind == TicketEvent.Kind.CALLED:
            self._last_call[(ticket.service_id, ticket.business_date)] = (
                event.at,
                ticket.issued_at,
            )
        elif (
            event.kind == TicketEvent.Kind.COMPLETED
            and ticket.status == Ticket.Status.COMPLETED
            and ticket.started_at is not None
            and ticket.ended_at is not None
        ):
            item = (ticket.ended_at, (ticket.ended_at - ticket.started_at).total_seconds())
            self._hall.append(item)
            self._service.setdefault(ticket.service_id, deque(maxlen=RECENT)).append(item)

    def baselines(self, ticket: Ticket, *, at: dt.datetime) -> Baselines:
        last_call = self._last_call.get((ticket.service_id, ticket.business_date))
        les = (last_call[0] - last_call[1]).total_seconds() if last_call else 0.0
        if self._skills is None:
            self._skills = _open_skills(ticket.hall_id)
        mine = (ticket.queue_key, ticket.pk)
        ahead: dict[int, int] = {}
        for day, service_id, key in self._waiting.values():
            if day == ticket.business_date and key < mine:
                ahead[service_id] = ahead.get(service_id, 0) + 1
        return _queue_length(
            ticket,
            self._skills,
            ahead,
            _mean(self._hall, at),
            _mean(self._service.get(ticket.service_id, ()), at),
            les,
        )


def _mean(recent: Iterable[tuple[dt.datetime, float]], at: dt.datetime) -> float | None:
    seconds = [s for ended, s in recent if at - RECENT_WITHIN <= ended <= at]
    return sum(seconds) / len(seconds) if seconds else None
