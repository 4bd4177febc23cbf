"""A real Celery worker, started as production starts it, takes the periodic job from
Redis and closes yesterday's tickets in the test database.

The worker gets the test database's name through DATABASE_URL and a queue of its own,
so that nothing else on the same Redis takes its message or hands it a stale one.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from queueing.models import Ticket
from queueing.services import ticket_issue
from queueing.services.day import DAY_CLOSED_REASON
from queueing.tasks import close_finished_days
from tests.process_support import celery_worker


@pytest.fixture
def worker_queue() -> Iterator[str]:
    assert settings.REDIS_URL, "this test needs REDIS_URL: a real worker needs a real broker"
    queue = f"test-worker-{uuid.uuid4().hex[:8]}"
    try:
        with celery_worker(settings.REDIS_URL, queue=queue):
            yield queue
    finally:
        # kombu's records of the throwaway queue
        broker = redis.Redis.from_url(settings.REDIS_URL)
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.mark.django_db(transaction=True)
def test_it_closes_yesterdays_tickets_in_a_real_worker(city, worker_queue):
    yesterday = city.h1.business_date() - dt.timedelta(days=1)
    at = dt.datetime.combine(yesterday, dt.time(15, 30), tzinfo=city.h1.tz)
    left = [ticket_issue(hall=city.h1, service=city.pension, at=at) for _ in range(3)]

    close_finished_days.apply_async(queue=worker_queue)

    deadline = time.monotonic() + 90
    pks = [t.pk for t in left]
    while Ticket.objects.filter(pk__in=pks, status=Ticket.Status.WAITING).exists():
        assert time.monotonic() < deadline, "the worker did not close the day within 90 s"
        time.sleep(0.2)
    for ticket in Ticket.objects.filter(pk__in=pks):
        assert ticket.status == Ticket.Status.CANCELLED
        assert ticket.end_reason == DAY_CLOSED_REASON
        assert ticket.ended_at is not None
