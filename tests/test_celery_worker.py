"""A real Celery worker, started as production starts it, takes the periodic job from
Redis and closes yesterday's tickets in the test database.

The worker gets the test database's name through DATABASE_URL and a queue of its own,
so that nothing else on the same Redis takes its message or hands it a stale one.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from queueing.models import Ticket
from queueing.services import ticket_issue
from queueing.services.day import DAY_CLOSED_REASON
from queueing.tasks import close_finished_days

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database this test runs in (the test database, not the real one)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{auth}@{db['HOST'] or 'localhost'}" if auth else db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{host}{port}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def worker_queue() -> Iterator[str]:
    assert settings.REDIS_URL, "this test needs REDIS_URL: a real worker needs a real broker"
    queue = f"test-worker-{uuid.uuid4().hex[:8]}"
    env = os.environ | {
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "hall_ops.settings",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hall_ops",
            "worker",
            "--pool",
            "solo",
            "--queues",
            queue,
            "--hostname",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        # shown by pytest when the test failed: what the worker said
        print(output)
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
