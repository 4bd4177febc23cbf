"""Celery tasks of the operations layer. Each takes ids (or nothing), is safe to run
twice, and periodic ones register themselves in hall_ops.scheduler."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from hall_ops.alerts import rules
from hall_ops.scheduler import register_periodic


@shared_task(name="hall_ops.run_alert_scans", acks_late=True)
def run_alert_scans() -> dict[str, int]:
    """The time rules: long waits, idle windows, escalation of unacknowledged alerts."""
    return rules.run_alert_scans()


register_periodic("hall_ops.run_alert_scans", settings.ALERT_SCAN_INTERVAL_S, run_alert_scans)
