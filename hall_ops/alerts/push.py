"""Pushing alert changes to the browsers of a hall's staff, after commit.

After the commit the alert's row is read once and sent whole to the hall's group;
every consumer forwards the same JSON (N tablets must not mean N reads of the same
row per change). A client that missed pushes asks for everything after its last
sequence number, read from the database: the channel layer is never the source of
truth, only the fast path.
"""

from __future__ import annotations

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import translation

from hall_ops.alerts.selectors import alert_as_dict
from hall_ops.models import Alert
from queueing.events import send_to_group


def alerts_group(hall_id: int) -> str:
    return f"alerts_hall_{hall_id}"


def publish_alert_on_commit(alert: Alert) -> None:
    alert_id, hall_id = alert.pk, alert.hall_id
    transaction.on_commit(lambda: push_alert(alert_id, hall_id))


def push_alert(alert_id: int, hall_id: int) -> None:
    if get_channel_layer() is None:
        return
    alert = (
        Alert.objects.select_related(
            "hall", "ticket", "window", "service", "acknowledged_by", "closed_by"
        )
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        return
    # labels in the site's language, whoever made the change (an English API client)
    with translation.override(settings.LANGUAGE_CODE):
        payload = alert_as_dict(alert)
    message = {"type": "alert.changed", "alert_id": alert_id, "seq": alert.seq, "alert": payload}
    send_to_group(alerts_group(hall_id), message)
