"""Pushing alert changes to the browsers of a hall's staff, after commit.

A push only says "alert N changed, its sequence is S": the consumer reads the row and
renders it, and a client that missed pushes asks for everything after its last
sequence number. The channel layer is never the source of truth.
"""

from __future__ import annotations

from django.db import transaction

from hall_ops.models import Alert
from queueing.events import send_to_group


def alerts_group(hall_id: int) -> str:
    return f"alerts_hall_{hall_id}"


def publish_alert_on_commit(alert: Alert) -> None:
    message = {"type": "alert.changed", "alert_id": alert.pk, "seq": alert.seq}
    hall_id = alert.hall_id
    transaction.on_commit(lambda: send_to_group(alerts_group(hall_id), message))
