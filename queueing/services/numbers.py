"""Ticket numbers: a service's prefix and an integer, one spelling per ticket.

A number is the prefix (1 or 2 capital letters) and up to NUMBER_DIGITS digits, as
`Ticket.number` (varchar 8) stores it: the largest number is LARGEST_NUMBER, 999,999,
for a one- and a two-letter prefix alike (A999999, AB999999), which is also what the
API's schema states. Numbers are written with at least PADDING digits (A001, A023,
A1234), the way the ticket machine prints them, so `B01`, `B0001` and `B000001` from an
external system are all ticket `B001`: one ticket has one number.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Q
from django.utils.translation import gettext as _

from queueing.models import Hall, Ticket, TicketCounter
from queueing.services.errors import QueueError

NUMBER_DIGITS = 6
LARGEST_NUMBER = 10**NUMBER_DIGITS - 1
PADDING = 3

_NUMBER = re.compile(rf"([A-Z]{{1,2}})([0-9]{{1,{NUMBER_DIGITS}}})")


def format_number(prefix: str, value: int) -> str:
    """The number as printed: `A` and 7 → `A007`."""
    return f"{prefix}{value:0{PADDING}d}"


def split_number(number: str) -> tuple[str, int] | None:
    """`B0001` → ("B", 1); None for a string that is not a ticket number."""
    match = _NUMBER.fullmatch(number)
    if match is None:
        return None
    return match[1], int(match[2])


def canonical_number(number: str) -> str:
    """The one spelling of a number (`B0001` → `B001`); anything else unchanged."""
    parts = split_number(number)
    return format_number(*parts) if parts else number


def same_number(number: str) -> Q:
    """Rows whose number is this one however it was zero-padded (rows stored before
    numbers were normalised included)."""
    parts = split_number(number)
    if parts is None:
        return Q(number=number)
    prefix, value = parts
    return Q(number__regex=rf"^{prefix}0*{value}$") if value else Q(number__regex=rf"^{prefix}0+$")


def _lock_counter(hall: Hall, prefix: str, day: dt.date) -> TicketCounter:
    # Create the day's counter if missing without racing: a conflicting insert is a no-op.
    TicketCounter.objects.bulk_create(
        [TicketCounter(hall=hall, prefix=prefix, business_date=day)], ignore_conflicts=True
    )
    return TicketCounter.objects.select_for_update().get(
        hall=hall, prefix=prefix, business_date=day
    )


def next_number(hall: Hall, prefix: str, day: dt.date) -> str:
    counter = _lock_counter(hall, prefix, day)
    if counter.last_number >= LARGEST_NUMBER:
        # refused before the database would (a longer number does not fit the column)
        raise QueueError(
            _(
                "Service %(p)s has handed out its last number today (%(last)s); "
                "it cannot issue more tickets before tomorrow."
            )
            % {"p": prefix, "last": format_number(prefix, LARGEST_NUMBER)},
            field="service",
        )
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return format_number(prefix, counter.last_number)


def claim_number(hall: Hall, prefix: str, day: dt.date, number: str) -> str:
    """Take a number another system already handed out, and raise the day's counter to
    at least its numeric part so that later numbers of ours do not collide with it.

    The number is kept in its one spelling (`B01` and `B0001` are `B001`), and refused
    when another spelling of it was issued that day."""
    parts = split_number(number)
    if parts is None or parts[0] != prefix:
        raise QueueError(
            _("A ticket number of service %(p)s is %(p)s followed by up to 6 digits.")
            % {"p": prefix},
            field="number",
        )
    number = format_number(*parts)
    counter = _lock_counter(hall, prefix, day)
    # the counter lock serialises issues of this prefix, so the check cannot race
    if Ticket.objects.filter(same_number(number), hall=hall, business_date=day).exists():
        raise QueueError(
            _("Ticket %(number)s was already issued that day.") % {"number": number},
            field="number",
        )
    if counter.last_number < parts[1]:
        counter.last_number = parts[1]
        counter.save(update_fields=["last_number"])
    return number
