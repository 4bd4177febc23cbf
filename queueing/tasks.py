"""Celery tasks of the queue. Each takes ids (or nothing), calls one service and is safe
to run twice; periodic ones register themselves in hall_ops.scheduler."""

from __future__ import annotations

from celery import shared_task

from hall_ops.scheduler import register_periodic
from queueing import services

CLOSE_FINISHED_DAYS_EVERY_S = 5 * 60


@shared_task(name="queueing.close_finished_days", acks_late=True)
def close_finished_days() -> dict[str, int]:
    """Cancel the tickets still open in every hall whose business day has ended.

    Returns {hall code: tickets closed}; a second run finds nothing left and returns {}.
    """
    return services.close_finished_days()


register_periodic("queueing.close_finished_days", CLOSE_FINISHED_DAYS_EVERY_S, close_finished_days)
