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
    service_mean = service_mean or hall_mean or DEFAULT_SERVICE_S
    hall_mean = hall_mean or DEFAULT_SERVICE_S

    skills = list(
        Window.skills.through.objects.filter(
            window__hall_id=ticket.hall_id, window__status=Window.Status.OPEN
        ).values_list("window_id", "service_id")
    )
    windows = {w for w, s in skills if s == ticket.service_id}
    pool = {s for w, s in skills if w in windows}
    counts = (
        Ticket.objects.waiting()
        .filter(hall_id=ticket.hall_id, business_date=ticket.business_date)
        .filter(Q(queue_key__lt=ticket.queue_key) | Q(queue_key=ticket.queue_key, id__lt=ticket.pk))
        .aggregate(
            same=Count("id", filter=Q(service_id=ticket.service_id)),
            pooled=Count("id", filter=Q(service_id__in=pool or [0])),
        )
    )
    same, pooled = counts["same"], counts["pooled"]
    n_windows = max(1, len(windows))

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
    return Baselines(
        ql_s=round((same + 1) * service_mean / n_windows),
        qlpool_s=round((pooled + 1) * hall_mean / n_windows),
        les_s=round(les),
    )
