"""Celery tasks of the vision app; periodic ones register themselves in
hall_ops.scheduler (beat in production, the embedded scheduler otherwise)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from hall_ops.scheduler import register_periodic
from vision import alerts


@shared_task(name="vision.run_alert_scans", acks_late=True)
def run_vision_alert_scans() -> dict[str, int]:
    """Congested zones and dark cameras, on the same period as the other alert scans."""
    return alerts.run_vision_alert_scans()


register_periodic("vision.run_alert_scans", settings.ALERT_SCAN_INTERVAL_S, run_vision_alert_scans)
