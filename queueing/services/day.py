"""The business day's end: tickets still open are closed with a reason, never deleted."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from queueing.models import Hall, Ticket
from queueing.services.tickets import ticket_cancel

DAY_CLOSED_REASON = "business day closed"


def business_day_close(*, hall: Hall, business_date: dt.date, at: dt.datetime | None = None) -> int:
    """Cancel every ticket of `hall` issued on or before `business_date` that is still
    open (waiting, called or being served), recording why. Returns how many.

    Safe to run twice: the second run finds nothing open.
    """
    now = at or timezone.now()
    closed = 0
    with transaction.atomic():
        open_tickets = Ticket.objects.filter(
            hall=hall, business_date__lte=business_date, status__in=Ticket.OPEN_STATUSES
        ).order_by("id")
        for ticket in open_tickets:
            ticket_cancel(ticket=ticket, reason=DAY_CLOSED_REASON, at=now)
            closed += 1
    return closed


def close_finished_days(*, at: dt.datetime | None = None) -> dict[str, int]:
    """For every hall past its closing time, close the open tickets of its business days
    up to today (and of any earlier day a missed run left behind). Periodic job."""
    now = at or timezone.now()
    result: dict[str, int] = {}
    for hall in Hall.objects.all():
        local = hall.local_now(now)
        last_finished = (
            local.date()
            if local.time() >= hall.closes_at
            else (local.date() - dt.timedelta(days=1))
        )
        count = business_day_close(hall=hall, business_date=last_finished, at=now)
        if count:
            result[hall.code] = count
    return result


def describe_reason(reason: str) -> str:
    return _("business day closed") if reason == DAY_CLOSED_REASON else reason
