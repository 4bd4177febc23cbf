"""Every state change of a ticket is one function here; views, the API, commands and
tasks all call these. Each runs in one transaction, appends a TicketEvent and pushes
only after commit.

Locking order, to stay free of deadlocks: a ticket row before its window row. `call
next` locks its window and then only *skips* locked tickets, so it never waits on one.
A lock takes only its own row (`of=("self",)`): a bare FOR UPDATE with select_related
also locks the joined hall and service rows, and every call, start and completion in
the hall then queued behind one another and behind each kiosk's insert.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.debug import sensitive_variables

from queueing.estimation import Estimate, estimate_arrival
from queueing.events import publish_ticket_event_on_commit, publish_window_change_on_commit
from queueing.models import (
    Hall,
    HallService,
    Outcome,
    Service,
    Ticket,
    TicketEvent,
    Visitor,
    Window,
)
from queueing.national_id import NationalIdError, parse_national_id
from queueing.services.errors import QueueError
from queueing.services.numbers import claim_number, next_number

log = logging.getLogger(__name__)

Actor = User | None
S = Ticket.Status


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def queue_key_for(ticket: Ticket, hall: Hall) -> dt.datetime:
    """Call order: issue time, less the hall's head start for priority visitors."""
    if ticket.is_priority:
        return ticket.issued_at - dt.timedelta(minutes=hall.priority_head_start_min)
    return ticket.issued_at


def _record(
    ticket: Ticket,
    kind: str,
    at: dt.datetime,
    *,
    actor: Actor = None,
    window: Window | None = None,
    outcome: str = "",
    data: dict[str, Any] | None = None,
    external_id: str | None = None,
) -> TicketEvent:
    event = TicketEvent.objects.create(
        ticket=ticket,
        hall_id=ticket.hall_id,
        kind=kind,
        at=at,
        service_id=ticket.service_id,
        window=window,
        actor=actor if actor is not None and actor.is_authenticated else None,
        outcome=outcome,
        data=data or {},
        external_id=external_id,
    )
    publish_ticket_event_on_commit(event)
    if event.actor_id is not None and window is not None and window.clerk_id != event.actor_id:
        # a person acting at a window is its current clerk: the window is staffed
        window.clerk_id = event.actor_id
        Window.objects.filter(pk=window.pk).update(clerk_id=event.actor_id)
        publish_window_change_on_commit(window)
    return event


def _lock_ticket(ticket: Ticket) -> Ticket:
    # Lock the bare row, then read it with its relations. A FOR UPDATE over the join
    # comes back empty when a concurrent transfer changed the ticket's service while we
    # waited: PostgreSQL rechecks the join against the new row version. (SQLite locks
    # the whole database for the transaction instead: no row lock to take there.)
    if connection.features.has_select_for_update:
        Ticket.objects.select_for_update(no_key=True).filter(pk=ticket.pk).values("pk").get()
    return Ticket.objects.select_related("hall", "service").get(pk=ticket.pk)


def _lock_window(window: Window) -> Window:
    return (
        Window.objects.select_for_update(of=("self",), no_key=True)
        .select_related("hall")
        .get(pk=window.pk)
    )


def _require(ticket: Ticket, allowed: tuple[str, ...], action: str) -> None:
    if ticket.status not in allowed:
        raise QueueError(
            _("Ticket %(number)s is %(status)s and cannot be %(action)s.")
            % {"number": ticket.number, "status": ticket.get_status_display(), "action": action}
        )


def _require_offered(hall_id: int, service: Service) -> None:
    if not HallService.objects.filter(hall_id=hall_id, service=service, enabled=True).exists():
        raise QueueError(
            _("Service %(service)s is not offered at this hall.") % {"service": service.prefix},
            field="service",
        )


@sensitive_variables("id_number", "parsed")
def ticket_issue(
    *,
    hall: Hall,
    service: Service,
    id_number: str | None = None,
    is_disabled: bool = False,
    has_appointment: bool = False,
    actor: Actor = None,
    at: dt.datetime | None = None,
    external_id: str | None = None,
    number: str | None = None,
) -> Ticket:
    """Hand out the next number of `service` at `hall`.

    An ID number, when given, is validated (NationalIdError → QueueError on field
    `id_number`) and reduced to a pseudonymous Visitor; the visitor's age on the
    business day sets the elderly flag.

    `number` keeps the number an external queue system already gave the visitor
    (`A023`: the service's prefix and up to 6 digits, unused that day in any zero
    padding; else a QueueError on field `number`), kept as `queueing.services.numbers`
    spells it; the day's counter moves past it. Past the largest number
    (numbers.LARGEST_NUMBER) a service issues no more that day: a QueueError on `service`.
    """
    now = _now(at)
    day = hall.business_date(now)
    parsed = None
    if id_number:
        try:
            parsed = parse_national_id(id_number, today=day)
        except NationalIdError as exc:
            raise QueueError(str(exc), field="id_number") from None
    _require_offered(hall.pk, service)
    elderly = parsed is not None and parsed.age_on(day) >= hall.elderly_age
    # Before the transaction: the estimate reads the hall, and must not hold the counter.
    quote = _quote(hall, service, priority=elderly or is_disabled or has_appointment, at=now)
    with transaction.atomic():
        visitor = None
        age = None
        if parsed is not None:
            visitor, _created = Visitor.objects.get_or_create(
                id_hmac=parsed.id_hmac,
                defaults={
                    "masked_id": parsed.masked,
                    "birth_year": parsed.birth_year,
                    "first_seen_at": now,
                },
            )
            age = parsed.age_on(day)
        if number is None:
            number = next_number(hall, service.prefix, day)
        else:
            number = claim_number(hall, service.prefix, day, number)
        ticket = Ticket(
            hall=hall,
            service=service,
            business_date=day,
            number=number,
            issued_at=now,
            visitor=visitor,
            age_at_issue=age,
            is_elderly=age is not None and age >= hall.elderly_age,
            is_disabled=is_disabled,
            has_appointment=has_appointment,
            quoted_wait_s=quote.expected_s if quote else None,
            quoted_low_s=quote.low_s if quote else None,
            quoted_high_s=quote.high_s if quote else None,
            quoted_base_s=quote.base_s if quote else None,
        )
        ticket.queue_key = queue_key_for(ticket, hall)
        ticket.save()
        _record(ticket, TicketEvent.Kind.ISSUED, now, actor=actor, external_id=external_id)
    return ticket


def _quote(hall: Hall, service: Service, *, priority: bool, at: dt.datetime) -> Estimate | None:
    """The wait a visitor is told at issue. Issuing never fails because of it."""
    try:
        return estimate_arrival(hall=hall, service=service, priority=priority, at=at)
    except Exception:  # an estimate is a courtesy; the number is what matters
        log.exception("wait estimate failed for hall %s service %s", hall.pk, service.pk)
        return None


def _waiting_for(window: Window, day: dt.date) -> Any:
    return Ticket.objects.waiting().filter(
        hall_id=window.hall_id, business_date=day, service__in=window.skills.all()
    )


def ticket_call_next(
    *, window: Window, actor: Actor = None, at: dt.datetime | None = None
) -> Ticket | None:
    """Call the ticket the policy puts first for this window, or None if nobody waits.

    Policy (docs/calling-policy.md): among today's waiting tickets of the window's
    skills, the smallest queue_key wins; a priority window first takes any waiting
    priority ticket. Row locks with SKIP LOCKED make concurrent windows take different
    tickets.
    """
    now = _now(at)
    with transaction.atomic():
        window = _lock_window(window)
        _check_window_can_call(window)
        day = window.hall.business_date(now)
        waiting = _waiting_for(window, day)
        ticket = None
        if window.is_priority:
            ticket = _first_unlocked(
                waiting.exclude(is_elderly=False, is_disabled=False, has_appointment=False)
            )
        if ticket is None:
            ticket = _first_unlocked(waiting)
        if ticket is None:
            return None
        _call(ticket, window, now, actor=actor)
    return ticket


def _first_unlocked(qs: Any) -> Ticket | None:
    return (
        qs.in_call_order()
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("hall", "service")
        .first()
    )


def _check_window_can_call(window: Window) -> None:
    if window.status != Window.Status.OPEN:
        raise QueueError(
            _("Window %(label)s is %(status)s; open it to call tickets.")
            % {"label": window.label, "status": window.get_status_display()}
        )
    current = Ticket.objects.current().filter(window=window).values_list("number", flat=True)
    if number := current.first():
        raise QueueError(
            _("Window %(label)s still holds ticket %(number)s: complete it or mark a no-show.")
            % {"label": window.label, "number": number}
        )


def _call(
    ticket: Ticket,
    window: Window,
    now: dt.datetime,
    *,
    actor: Actor = None,
    external_id: str | None = None,
) -> None:
    ticket.status = S.CALLED
    ticket.window = window
    ticket.called_at = now
    ticket.recall_count = 0
    try:
        with transaction.atomic():
            ticket.save(update_fields=["status", "window", "called_at", "recall_count"])
    except IntegrityError:
        # the partial unique constraint caught a second current ticket at this window
        raise QueueError(
            _("Window %(label)s already holds a ticket.") % {"label": window.label}
        ) from None
    _record(
        ticket, TicketEvent.Kind.CALLED, now, actor=actor, window=window, external_id=external_id
    )


def ticket_call(
    *,
    ticket: Ticket,
    window: Window,
    actor: Actor = None,
    at: dt.datetime | None = None,
    external_id: str | None = None,
) -> Ticket:
    """Call one chosen waiting ticket to `window` (a clerk's pick, or an external system)."""
    now = _now(at)
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        window = _lock_window(window)
        if window.hall_id != ticket.hall_id:
            raise QueueError(_("The window belongs to another hall."), field="window")
        _require(ticket, (S.WAITING,), pgettext("ticket action", "called"))
        _check_window_can_call(window)
        if not window.skills.filter(pk=ticket.service_id).exists():
            raise QueueError(
                _("Window %(label)s does not handle service %(service)s.")
                % {"label": window.label, "service": ticket.service.prefix},
                field="window",
            )
        _call(ticket, window, now, actor=actor, external_id=external_id)
    return ticket


def ticket_recall(
    *,
    ticket: Ticket,
    actor: Actor = None,
    at: dt.datetime | None = None,
    external_id: str | None = None,
) -> Ticket:
    """Announce a called ticket again, at most the hall's recall limit times."""
    now = _now(at)
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(ticket, (S.CALLED,), pgettext("ticket action", "recalled"))
        if ticket.recall_count >= ticket.hall.recall_limit:
            raise QueueError(
                _("Ticket %(number)s was recalled %(n)d times already; mark it a no-show.")
                % {"number": ticket.number, "n": ticket.recall_count}
            )
        ticket.recall_count += 1
        ticket.save(update_fields=["recall_count"])
        _record(
            ticket,
            TicketEvent.Kind.RECALLED,
            now,
            actor=actor,
            window=ticket.window,
            data={"recall": ticket.recall_count},
            external_id=external_id,
        )
    return ticket


def ticket_start(
    *,
    ticket: Ticket,
    actor: Actor = None,
    at: dt.datetime | None = None,
    external_id: str | None = None,
) -> Ticket:
    """The visitor reached the window: service begins."""
    now = _now(at)
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(ticket, (S.CALLED,), pgettext("ticket action", "started"))
        ticket.status = S.SERVING
        ticket.started_at = now
        ticket.save(update_fields=["status", "started_at"])
        _record(
            ticket,
            TicketEvent.Kind.STARTED,
            now,
            actor=actor,
            window=ticket.window,
            external_id=external_id,
        )
    return ticket


def _release_window(ticket: Ticket, *, external: bool) -> Window | None:
    """Free the ticket's window; return it when it wants the next ticket called. Never
    for an `external` system's event: that system sends its own calls, we invent none."""
    window = ticket.window
    ticket.window = None
    return window if window is not None and window.auto_call and not external else None


def _auto_call(window: Window | None, now: dt.datetime, actor: Actor) -> None:
    if window is None:
        return
    window = _lock_window(window)
    if window.status == Window.Status.OPEN and window.auto_call:
        # Nested savepoint: an auto-call that finds a conflict must not undo the completion.
        try:
            with transaction.atomic():
                ticket_call_next(window=window, actor=actor, at=now)
        except QueueError:
            pass  # nothing callable: the window simply waits for the clerk


def ticket_complete(
    *,
    ticket: Ticket,
    outcome: str,
    missing_documents: str = "",
    actor: Actor = None,
    at: dt.datetime | None = None,
    external_id: str | None = None,
) -> Ticket:
    """Finish service with an outcome; `missing_documents` is required for incomplete."""
    if outcome not in Outcome.values:
        raise QueueError(
            _("Unknown outcome %(o)s; use one of %(all)s.")
            % {"o": outcome, "all": ", ".join(Outcome.values)},
            field="outcome",
        )
    missing_documents = missing_documents.strip()
    if outcome == Outcome.MISSING_DOCUMENTS and not missing_documents:
        raise QueueError(_("Say which documents were missing."), field="missing_documents")
    now = _now(at)
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(ticket, Ticket.CURRENT_STATUSES, pgettext("ticket action", "completed"))
        window = ticket.window
        ticket.status = S.COMPLETED
        ticket.ended_at = now
        ticket.started_at = ticket.started_at or ticket.called_at
        ticket.outcome = outcome
        ticket.missing_documents = missing_documents if outcome == Outcome.MISSING_DOCUMENTS else ""
        to_call = _release_window(ticket, external=external_id is not None)
        ticket.save(
            update_fields=[
                "status",
                "ended_at",
                "started_at",
                "outcome",
                "missing_documents",
                "window",
            ]
        )
        _record(
            ticket,
            TicketEvent.Kind.COMPLETED,
            now,
            actor=actor,
            window=window,
            outcome=outcome,
            data={"missing_documents": ticket.missing_documents}
            if ticket.missing_documents
            else {},
            external_id=external_id,
        )
        _auto_call(to_call, now, actor)
    return ticket


def ticket_no_show(
    *,
    ticket: Ticket,
    actor: Actor = None,
    at: dt.datetime | None = None,
    external_id: str | None = None,
) -> Ticket:
    """The called visitor did not come: the ticket ends and the window is free."""
    now = _now(at)
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(ticket, (S.CALLED,), pgettext("ticket action", "marked a no-show"))
        window = ticket.window
        ticket.status = S.NO_SHOW
        ticket.ended_at = now
        to_call = _release_window(ticket, external=external_id is not None)
        ticket.save(update_fields=["status", "ended_at", "window"])
        _record(
            ticket,
            TicketEvent.Kind.NO_SHOW,
            now,
            actor=actor,
            window=window,
            external_id=external_id,
        )
        _auto_call(to_call, now, actor)
    return ticket


def ticket_transfer(
    *,
    ticket: Ticket,
    service: Service,
    actor: Actor = None,
    at: dt.datetime | None = None,
    external_id: str | None = None,
) -> Ticket:
    """Send the ticket to another service's queue. It keeps its number and issue time,
    so it does not go to the back of the new queue."""
    now = _now(at)
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(ticket, Ticket.OPEN_STATUSES, pgettext("ticket action", "transferred"))
        if service.pk == ticket.service_id:
            raise QueueError(_("The ticket is already in that service."), field="service")
        _require_offered(ticket.hall_id, service)
        from_service = ticket.service
        window = ticket.window
        ticket.service = service
        ticket.status = S.WAITING
        ticket.window = None
        ticket.queue_key = queue_key_for(ticket, ticket.hall)
        ticket.save(update_fields=["service", "status", "window", "queue_key"])
        _record(
            ticket,
            TicketEvent.Kind.TRANSFERRED,
            now,
            actor=actor,
            window=window,
            data={"from_service": from_service.prefix, "to_service": service.prefix},
            external_id=external_id,
        )
    return ticket


def ticket_cancel(
    *,
    ticket: Ticket,
    reason: str = "",
    actor: Actor = None,
    at: dt.datetime | None = None,
    external_id: str | None = None,
) -> Ticket:
    """Withdraw a ticket that has not been completed (the visitor left, the day closed)."""
    now = _now(at)
    with transaction.atomic():
        ticket = _lock_ticket(ticket)
        _require(ticket, Ticket.OPEN_STATUSES, pgettext("ticket action", "cancelled"))
        window = ticket.window
        ticket.status = S.CANCELLED
        ticket.ended_at = now
        ticket.end_reason = reason[:200]
        ticket.window = None
        ticket.save(update_fields=["status", "ended_at", "end_reason", "window"])
        _record(
            ticket,
            TicketEvent.Kind.CANCELLED,
            now,
            actor=actor,
            window=window,
            data={"reason": reason[:200]} if reason else {},
            external_id=external_id,
        )
    return ticket
