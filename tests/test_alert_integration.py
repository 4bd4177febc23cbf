"""The whole alert path with real parts: a Redis server of the test's own (channel
layer and Celery broker), a Celery worker with beat running the time rules, the ASGI
application with the alert feed, and the test database.

An overdue ticket raises exactly one long-wait alert, which reaches a connected floor
tablet; then Redis is restarted (losing its groups and queues, as a restart without
persistence does): an alert raised while it is down, and one the worker raises after
it is back, both reach the tablet once it reconnects and asks for what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from hall_ops.models import Alert
from queueing import services
from queueing.models import Ticket
from tests.factories import midday_timezone, national_id
from tests.process_support import RedisServer, celery_worker, redis_server
from tests.ws_support import connect

pytestmark = pytest.mark.django_db(transaction=True)

SCAN_S = 1  # the worker's beat runs the time rules every second here (15 s in production)
WAIT_S = 60  # generous: worker start-up and a broker reconnect take seconds on 2 cores
Kind = Alert.Kind


@pytest.fixture
def redis_(settings) -> Iterator[RedisServer]:
    with redis_server() as server:
        settings.REDIS_URL = server.url
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [server.url], "prefix": "hallops"},
            }
        }
        yield server


@pytest.fixture
def worker(redis_, city) -> Iterator[Any]:
    # open around the clock, or beat's end-of-day job would close the test's tickets, and
    # at midday, or a ticket issued 90 s ago could fall on yesterday's business day
    city.h1.opens_at, city.h1.closes_at = dt.time(0, 0), dt.time(23, 59, 59)
    city.h1.timezone = midday_timezone()
    city.h1.save(update_fields=["opens_at", "closes_at", "timezone"])
    with celery_worker(
        redis_.url, beat=True, env={"ALERT_SCAN_INTERVAL_S": str(SCAN_S)}
    ) as process:
        yield process


def overdue_ticket(city) -> Ticket:
    """A waiting ticket past its service's target (1 minute here) by half a minute."""
    city.pension.target_wait_min = 1
    city.pension.save(update_fields=["target_wait_min"])
    at = timezone.now() - dt.timedelta(seconds=90)
    return services.ticket_issue(hall=city.h1, service=city.pension, at=at)


class Tablet:
    """A floor tablet's feed: every alert it was sent, pushed or resent on resync."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.received: list[dict[str, Any]] = []

    async def _read(self, timeout: float) -> None:
        message = await self.communicator.receive_json_from(timeout=timeout)
        alerts = message["alerts"] if message["type"] == "resync" else [message.get("alert")]
        self.received += [alert for alert in alerts if alert]

    async def wait_for(self, **match: Any) -> dict[str, Any]:
        """The first alert received whose fields equal `match`, waiting if need be."""
        deadline = time.monotonic() + WAIT_S
        while True:
            for alert in self.received:
                if all(alert.get(k) == v for k, v in match.items()):
                    return alert
            left = deadline - time.monotonic()
            assert left > 0, f"no alert {match} reached the tablet within {WAIT_S} s"
            await self._read(left)

    async def drain(self) -> None:
        # receive_nothing, unlike a receive that times out, leaves the consumer running
        while not await self.communicator.receive_nothing(timeout=0.5):
            await self._read(1)

    def latest(self) -> dict[int, int]:
        """alert id → the highest sequence number the tablet saw of it."""
        seen: dict[int, int] = {}
        for alert in self.received:
            seen[alert["id"]] = max(seen.get(alert["id"], 0), alert["seq"])
        return seen


async def reconnect(user: Any) -> WebsocketCommunicator:
    """Connect as a browser does after a break: again and again, with a pause. The
    first try may meet a pooled Redis connection from before the restart, which fails
    once and is replaced."""
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            communicator, connected, _ = await connect(user)
            if connected:
                return communicator
        except Exception:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.5)


async def test_it_pushes_one_long_wait_alert_and_loses_none_across_a_redis_restart(
    city, redis_, worker
):
    communicator, connected, _ = await connect(city.carol)
    assert connected
    tablet = Tablet(communicator)

    # 1. the worker's beat finds the overdue ticket; the alert reaches the tablet
    late = await sync_to_async(overdue_ticket)(city)
    alert = await tablet.wait_for(kind=Kind.LONG_WAIT, ticket=late.number)
    await asyncio.sleep(4 * SCAN_S)  # more scans: the alert is updated, never repeated
    await tablet.drain()
    rows = [a.pk async for a in Alert.objects.filter(kind=Kind.LONG_WAIT, ticket=late)]
    assert rows == [alert["id"]]
    last_seen = max(tablet.latest().values())

    # 2. Redis goes away: the tablet's socket breaks, pushes fail (logged, not raised)
    redis_.stop()
    with contextlib.suppress(Exception, asyncio.CancelledError):  # its socket broke
        await communicator.disconnect()
    elder = await sync_to_async(services.ticket_issue)(
        hall=city.h1, service=city.social, id_number=national_id(dt.date(1950, 3, 1))
    )
    assert await Alert.objects.filter(kind=Kind.ELDERLY, ticket=elder).aexists()

    # 3. Redis is back, empty; the worker reconnects and the tablet resyncs
    redis_.start()
    late_again = await sync_to_async(overdue_ticket)(city)
    tablet.communicator = await reconnect(city.carol)
    await tablet.communicator.send_json_to({"type": "resync", "since": last_seen})
    await tablet.wait_for(kind=Kind.ELDERLY, ticket=elder.number)
    await tablet.wait_for(kind=Kind.LONG_WAIT, ticket=late_again.number)
    await tablet.drain()
    await tablet.communicator.disconnect()

    # every alert of the hall reached the tablet, at its latest version
    latest = {
        pk: seq async for pk, seq in Alert.objects.filter(hall=city.h1).values_list("id", "seq")
    }
    assert tablet.latest() == latest
    assert await Alert.objects.filter(kind=Kind.LONG_WAIT).acount() == 2
