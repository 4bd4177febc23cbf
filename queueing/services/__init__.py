"""The queue's state changes, one function each. Import from here."""

from queueing.services.day import business_day_close, close_finished_days
from queueing.services.errors import QueueError
from queueing.services.tickets import (
    ticket_call,
    ticket_call_next,
    ticket_cancel,
    ticket_complete,
    ticket_issue,
    ticket_no_show,
    ticket_recall,
    ticket_start,
    ticket_transfer,
)
from queueing.services.windows import (
    window_close,
    window_open,
    window_pause,
    window_set_auto_call,
    window_set_skills,
    window_set_status,
)

__all__ = [
    "QueueError",
    "business_day_close",
    "close_finished_days",
    "ticket_call",
    "ticket_call_next",
    "ticket_cancel",
    "ticket_complete",
    "ticket_issue",
    "ticket_no_show",
    "ticket_recall",
    "ticket_start",
    "ticket_transfer",
    "window_close",
    "window_open",
    "window_pause",
    "window_set_auto_call",
    "window_set_skills",
    "window_set_status",
]
