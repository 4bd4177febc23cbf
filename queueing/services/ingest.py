"""Events from an external queue system, applied through the same services as ours.

A hall that keeps its own ticket machine and calling system sends us what happened
there (the replay vocabulary: window_open / window_pause / window_close, issued,
called, completed, no_show, cancelled, transferred). Each event is applied by the
service that makes that change here, at the event's own time, so waits, KPIs and
alerts come out as if the hall ran on hall-ops.

Idempotent by the external event id: a ticket event keeps it on its TicketEvent row
(unique per hall), a window event on an IngestedEvent row, each written in the same
transaction as the change itself. A retried batch changes nothing and says which
events it had already seen. We never invent an event to make a batch fit: one the
state forbids is rejected with the reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.db import IntegrityError, OperationalError, transaction
from django.utils.translation import gettext as _

from queueing.models import (
    Hall,
    IngestedEvent,
    Outcome,
    Service,
    Ticket,
    TicketEvent,
    Window,
)
from queueing.services.errors import QueueError
from queueing.services.numbers import same_number
from queueing.services.tickets import (
    ticket_call,
    ticket_cancel,
    ticket_complete,
    ticket_issue,
    ticket_no_show,
    ticket_transfer,
)
from queueing.services.windows import window_set_status

log = logging.getLogger(__name__)

WINDOW_EVENTS = {
    "window_open": Window.Status.OPEN,
    "window_pause": Window.Status.PAUSED,
    "window_close": Window.Status.CLOSED,
}

IngestStatus = Literal["applied", "duplicate", "rejected"]


@dataclass(frozen=True)
class ExternalEvent:
    """One event as the external system reports it. `ticket` is a number, unique within
    the hall's business day of `at`; `window` a window label; `service` a prefix.

    `priority` has no reason attached, so an issued priority ticket is kept as an
    appointment (a priority ticket that is neither elderly nor disabled)."""

    external_id: str
    kind: str
    at: dt.datetime
    ticket: str = ""
    window: str = ""
    service: str = ""
    priority: bool = False
    outcome: str = Outcome.DONE
    missing_documents: str = ""
    reason: str = ""


@dataclass(frozen=True)
class IngestResult:
    index: int
    external_id: str
    status: IngestStatus
    ticket_id: int | None = None
    field: str | None = None
    reason: str = ""


def ingest_events(*, hall: Hall, events: Sequence[ExternalEvent]) -> list[IngestResult]:
    """Apply `events` in the order given; return one result per event: applied,
    duplicate (its id was applied before) or rejected (with the field and the reason).

    Each event commits on its own (a savepoint, when the caller holds a transaction),
    so row locks are held for one event, not for the batch: a long batch does not stall
    the hall's kiosks and windows. A batch cut short is simply sent again: what was
    applied comes back as duplicates.
    """
    results: list[IngestResult] = []
    seen = _ingested_ids(hall, [e.external_id for e in events])
    lookup = _Lookup(hall)
    for index, event in enumerate(events):
        if event.external_id in seen:
            results.append(IngestResult(index, event.external_id, "duplicate"))
            continue
        try:
            with transaction.atomic():
                ticket = _apply(hall, event, lookup)
        except (QueueError, IntegrityError, OperationalError) as exc:
            results.append(_failed(hall, index, event, exc))
            continue
        seen.add(event.external_id)
        ticket_id = ticket.pk if ticket else None
        results.append(IngestResult(index, event.external_id, "applied", ticket_id=ticket_id))
    counts = {s: sum(r.status == s for r in results) for s in ("applied", "duplicate", "rejected")}
    log.info("ingest hall=%s %s", hall.code, " ".join(f"{k}={v}" for k, v in counts.items()))
    return results


def _ingested_ids(hall: Hall, ids: list[str]) -> set[str]:
    ticket_ids = TicketEvent.objects.filter(hall=hall, external_id__in=ids).values_list(
        "external_id", flat=True
    )
    window_ids = IngestedEvent.objects.filter(hall=hall, external_id__in=ids).values_list(
        "external_id", flat=True
    )
    return {i for i in ticket_ids if i is not None} | set(window_ids)


def _failed(hall: Hall, index: int, event: ExternalEvent, exc: Exception) -> IngestResult:
    # A concurrent retry of the same batch may have applied this event a moment ago: the
    # state then forbids it, or a unique constraint caught it. Either way, say so.
    if _ingested_ids(hall, [event.external_id]):
        return IngestResult(index, event.external_id, "duplicate")
    if isinstance(exc, QueueError):
        return IngestResult(
            index, event.external_id, "rejected", field=exc.field, reason=exc.message
        )
    log.warning("ingest hall=%s event %s: %s", hall.code, index, type(exc).__name__)
    return IngestResult(
        index,
        event.external_id,
        "rejected",
        reason=_("A concurrent change got in the way; send the event again."),
    )


class _Lookup:
    """The hall's windows and services by label and prefix, read once per batch."""

    def __init__(self, hall: Hall) -> None:
        self.hall = hall
        self.windows = {w.label: w for w in Window.objects.filter(hall=hall)}
        self.services = {s.prefix: s for s in Service.objects.all()}

    def window(self, label: str) -> Window:
        try:
            return self.windows[label]
        except KeyError:
            raise QueueError(
                _("This hall has no window labelled %(label)s.") % {"label": label},
                field="window",
            ) from None

    def service(self, prefix: str) -> Service:
        try:
            return self.services[prefix]
        except KeyError:
            raise QueueError(
                _("No service has the prefix %(prefix)s.") % {"prefix": prefix}, field="service"
            ) from None

    def ticket(self, number: str, at: dt.datetime) -> Ticket:
        day = self.hall.business_date(at)
        # the services lock and re-read the ticket: its id (and number) are enough here
        ticket = (
            Ticket.objects.filter(same_number(number), hall=self.hall, business_date=day)
            .only("pk", "number", "issued_at", "called_at", "started_at", "ended_at")
            .first()
        )
        if ticket is None:
            raise QueueError(
                _("No ticket %(number)s was issued on %(day)s.")
                % {"number": number, "day": day.isoformat()},
                field="ticket",
            )
        return ticket


def _not_before(at: dt.datetime, last: dt.datetime | None, field: str, what: str) -> None:
    """Refuse an event that goes back in time for its ticket or window."""
    if last is not None and at < last:
        raise QueueError(
            _("The event is stamped %(at)s, before the %(what)s's last change at %(last)s.")
            % {"at": at.isoformat(), "what": what, "last": last.isoformat()},
            field=field,
        )


def _apply(hall: Hall, event: ExternalEvent, lookup: _Lookup) -> Ticket | None:
    kind, at, eid = event.kind, event.at, event.external_id
    if kind in WINDOW_EVENTS:
        window = lookup.window(event.window)
        window.refresh_from_db(fields=["status_changed_at"])
        # time order within the window's business day; a past day's events (import_history,
        # replays) are history and may come after today's changes
        changed = window.status_changed_at
        if changed is not None and hall.business_date(changed) == hall.business_date(at):
            _not_before(at, changed, "at", _("window"))
        window_set_status(window=window, status=WINDOW_EVENTS[kind], at=at)
        IngestedEvent.objects.create(hall=hall, external_id=eid, kind=kind, at=at)
        return None
    if kind == "issued":
        return ticket_issue(
            hall=hall,
            service=lookup.service(event.service),
            has_appointment=event.priority,
            at=at,
            external_id=eid,
            number=event.ticket,
        )
    ticket = lookup.ticket(event.ticket, at)
    last = max(
        (t for t in (ticket.issued_at, ticket.called_at, ticket.started_at, ticket.ended_at) if t),
        default=None,
    )
    _not_before(at, last, "at", _("ticket"))
    if kind == "called":
        return ticket_call(
            ticket=ticket, window=lookup.window(event.window), at=at, external_id=eid
        )
    if kind == "completed":
        return ticket_complete(
            ticket=ticket,
            outcome=event.outcome,
            missing_documents=event.missing_documents,
            at=at,
            external_id=eid,
        )
    if kind == "no_show":
        return ticket_no_show(ticket=ticket, at=at, external_id=eid)
    if kind == "cancelled":
        return ticket_cancel(ticket=ticket, reason=event.reason, at=at, external_id=eid)
    if kind == "transferred":
        return ticket_transfer(
            ticket=ticket, service=lookup.service(event.service), at=at, external_id=eid
        )
    raise QueueError(_("Unknown event."), field="event")
