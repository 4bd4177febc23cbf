"""The Celery application: Redis broker when REDIS_URL is set (see settings).

Processes: `celery -A hall_ops worker` (as many as needed) and exactly one
`celery -A hall_ops beat`. Beat's schedule is not written here job by job: it is the
registry of hall_ops.scheduler, the same list the embedded scheduler runs when no
Redis is configured (queueing.close_finished_days every 5 minutes, and whatever other
apps register).
"""

import logging
import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hall_ops.settings")

log = logging.getLogger(__name__)

app = Celery("hall_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_periodic_jobs(sender: Celery, **kwargs: Any) -> None:
    # Finalizing happens once Django is set up (beat and worker load it first), so the
    # registry can import every app's tasks module here.
    from django.apps import apps

    if not apps.ready:
        log.warning("Celery finalized before Django was set up: no periodic jobs scheduled")
        return
    from hall_ops.scheduler import beat_schedule

    sender.conf.beat_schedule = {**sender.conf.beat_schedule, **beat_schedule()}
