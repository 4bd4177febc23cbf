"""A known ID number goes through the whole flow and is found nowhere afterwards.

The sentinel number is typed at the kiosk and sent to the API (so its visitor is
elderly and back for the same service: both alerts), its tickets are called, served,
left overdue (a real Celery worker's alert scan raises the long wait and pushes it over
the Redis channel layer to a connected tablet) and left over from yesterday (the
worker's end-of-day task closes them); every screen is fetched, the report included.
Then the test looks for the number, in any spelling, in: every row of every table of
the test database, every log line of the test process and of the worker (DEBUG level,
SQL with its parameters included), every command Redis received while it ran (MONITOR)
and every key and value left in its database, every task message published, every
page and API answer served and every WebSocket frame sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import redis
from asgiref.sync import sync_to_async
from celery.signals import before_task_publish
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.module_loading import import_string

from hall_ops.asgi import application
from hall_ops.models import Alert
from hall_ops.tasks import run_alert_scans
from queueing import services
from queueing.models import Outcome, Ticket
from queueing.services import tickets as ticket_services
from queueing.tasks import close_finished_days
from tests.api_support import token_client
from tests.factories import midday_timezone, national_id
from tests.process_support import celery_worker
from tests.ws_support import ORIGIN, cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

# Born 1951 in Futian, Shenzhen: elderly; its check character is X
NUMBER = national_id(dt.date(1951, 4, 9), region="440304", serial="271")
# the number, lower-case, without its check character, from the birth date on, and the
# birth date itself (with the old 4 + 4 mask it rebuilt the number)
SPELLINGS = (NUMBER, NUMBER.lower(), NUMBER[:17], NUMBER[6:], NUMBER[6:].lower()) + (
    "19510409",
    "1951-04-09",
    "datetime.date(1951, 4, 9)",
)
WAIT_S = 90  # worker start-up takes seconds on a busy machine


def found_in(text: str) -> list[str]:
    return [s for s in SPELLINGS if s in text]


def database_dump() -> str:
    """Every row of every table, as text."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows += [f"{table}: {row!r}" for row in cursor.fetchall()]
    return "\n".join(rows)


def redis_contents(client: redis.Redis) -> str:
    """Every key of the database and its value, whatever its type."""
    out = []
    for key in client.scan_iter(count=500):
        raw_kind = client.type(key)
        kind = raw_kind.decode() if isinstance(raw_kind, bytes) else str(raw_kind)
        value: Any = {
            "string": lambda k: client.get(k),
            "list": lambda k: client.lrange(k, 0, -1),
            "hash": lambda k: client.hgetall(k),
            "set": lambda k: client.smembers(k),
            "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
        }.get(kind, lambda k: None)(key)
        out.append(f"{key!r} {kind} {value!r}")
    return "\n".join(out)


def _close_connection() -> None:
    # the sync_to_async thread's own connection, or the test database cannot be dropped
    connection.close()


class RedisTap(threading.Thread):
    """Every command the Redis server receives for our database, while it runs."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.client = redis.Redis.from_url(url)
        self.db = self.client.connection_pool.connection_kwargs.get("db", 0)
        self.commands: list[str] = []
        self.stopping = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        with self.client.monitor() as monitor:
            self.ready.set()
            for command in monitor.listen():
                if command.get("db") == self.db:
                    self.commands.append(command["command"])
                if self.stopping.is_set():
                    return

    def stop(self) -> str:
        self.stopping.set()
        deadline = time.monotonic() + 10
        while self.is_alive() and time.monotonic() < deadline:
            self.client.ping()  # a command for MONITOR to report, so the loop wakes
            self.join(0.2)
        return "\n".join(self.commands)


class Feed:
    """A live socket and every frame it was sent."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.frames: list[str] = []

    async def drain(self) -> None:
        # receive_nothing, unlike a receive that times out, leaves the consumer running
        while not await self.communicator.receive_nothing(timeout=0.5):
            self.frames.append(await self.communicator.receive_from(timeout=5))

    def alerts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for frame in self.frames:
            message = json.loads(frame)
            found += message.get("alerts") or [message.get("alert") or {}]
        return found

    async def wait_for_alert(self, **match: Any) -> None:
        deadline = time.monotonic() + WAIT_S
        while not any(all(a.get(k) == v for k, v in match.items()) for a in self.alerts()):
            assert time.monotonic() < deadline, f"no alert {match} within {WAIT_S} s"
            if not await self.communicator.receive_nothing(timeout=0.5):
                self.frames.append(await self.communicator.receive_from(timeout=5))


async def open_feed(user: Any, path: str) -> Feed:
    cookie = await sync_to_async(cookie_for)(user)
    communicator = WebsocketCommunicator(
        application, path, [ORIGIN, (b"host", ORIGIN[1].split(b"://", 1)[-1]), cookie]
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected, path
    return Feed(communicator)


@pytest.fixture
def sentinel_redis(settings) -> Iterator[tuple[str, str, str]]:
    """(Redis URL, channel-layer prefix, worker queue), the layer and the cache on it."""
    assert settings.REDIS_URL, "this test needs REDIS_URL: the flow runs on a real Redis"
    tag = uuid.uuid4().hex[:8]
    prefix, queue = f"sentinel{tag}", f"sentinel-{tag}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": prefix},
        }
    }
    yield settings.REDIS_URL, prefix, queue
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture
def published_tasks() -> Iterator[list[str]]:
    """Every task message this process publishes: its headers (argsrepr…) and body."""
    seen: list[str] = []

    def keep(sender: Any = None, body: Any = None, headers: Any = None, **_kw: Any) -> None:
        seen.append(f"{sender} {headers!r} {body!r}")

    before_task_publish.connect(keep, weak=False)
    yield seen
    before_task_publish.disconnect(keep)


def _prepare(city) -> None:
    # open around the clock and at midday, so today's tickets stay today's
    city.h1.opens_at, city.h1.closes_at = dt.time(0, 0), dt.time(23, 59, 59)
    city.h1.timezone = midday_timezone()
    city.h1.save(update_fields=["opens_at", "closes_at", "timezone"])
    city.pension.target_wait_min = 1
    city.pension.save(update_fields=["target_wait_min"])


class _Crash(RuntimeError):
    pass


def error_reports(records: list[logging.LogRecord]) -> str:
    """The text and HTML of the error mail each logged traceback would send."""
    reporter_class = import_string(django_settings.DEFAULT_EXCEPTION_REPORTER)
    reports = []
    for record in records:
        if record.levelno >= logging.ERROR and record.exc_info and record.exc_info[0]:
            exc_type, exc_value, tb = record.exc_info
            request = getattr(record, "request", None)
            reporter = reporter_class(request, exc_type, exc_value, tb, is_email=True)
            reports += [reporter.get_traceback_text(), reporter.get_traceback_html()]
    return "\n".join(reports)


def _issue_and_serve(city) -> dict[str, Any]:
    """Kiosk and API issue, a clerk serving one ticket, an overdue one, yesterday's."""
    pages: list[str] = []
    kiosk = Client()
    kiosk.force_login(city.kiosk1)
    pages.append(kiosk.get("/halls/h1/kiosk/").content.decode())
    response = kiosk.post("/halls/h1/kiosk/tickets/", {"service": "pension", "id_number": NUMBER})
    assert response.status_code == 200, response.content
    pages.append(response.content.decode())
    first = Ticket.objects.get(visitor__isnull=False)
    assert first.is_elderly

    # a crash in the issue path with DEBUG on: Django's debug page
    crashing = Client(raise_request_exception=False)
    crashing.force_login(city.kiosk1)
    with mock.patch.object(ticket_services, "next_number", side_effect=_Crash("stuck lock")):
        response = crashing.post(
            "/halls/h1/kiosk/tickets/", {"service": "pension", "id_number": NUMBER}
        )
    assert response.status_code == 500 and "_Crash" in response.content.decode()
    pages.append(response.content.decode())

    # an invalid spelling of it too: the refusal must not echo it either
    bad = NUMBER[:17] + "0"
    response = kiosk.post("/halls/h1/kiosk/tickets/", {"service": "pension", "id_number": bad})
    assert response.status_code == 422
    pages.append(response.content.decode())

    api = token_client(city.h1)
    answer = api.post("/halls/h1/tickets", {"service": "A", "id_number": NUMBER.lower()})
    assert answer.status_code == 201, answer.content
    pages.append(answer.content.decode())
    again = Ticket.objects.get(pk=answer.json()["id"])
    assert again.visitor_id == first.visitor_id
    pages.append(api.get(f"/tickets/{again.pk}").content.decode())
    pages.append(api.get("/halls/h1/state").content.decode())

    # the clerk calls and serves the first one: missing documents
    services.ticket_call(ticket=first, window=city.w1, actor=city.bob)
    clerk = Client()
    clerk.force_login(city.bob)
    pages.append(clerk.get(f"/windows/{city.w1.pk}/console/").content.decode())
    services.ticket_start(ticket=first, actor=city.bob)
    services.ticket_complete(
        ticket=first, outcome=Outcome.MISSING_DOCUMENTS, missing_documents="户口本", actor=city.bob
    )

    # one left waiting past the target, for the worker's scan; one from yesterday
    late = services.ticket_issue(
        hall=city.h1,
        service=city.pension,
        id_number=NUMBER,
        at=timezone.now() - dt.timedelta(seconds=90),
    )
    yesterday = city.h1.business_date() - dt.timedelta(days=1)
    old = services.ticket_issue(
        hall=city.h1,
        service=city.social,
        id_number=f" {NUMBER[:9]} {NUMBER[9:]} ",
        at=dt.datetime.combine(yesterday, dt.time(15, 30), tzinfo=city.h1.tz),
    )
    return {"pages": pages, "late": late, "old": old}


def _screens(city) -> list[str]:
    """Every screen that shows tickets, visitors or alerts, as each role sees it."""
    week = timezone.localdate().isocalendar()
    as_ = {u: Client() for u in ("alice", "carol", "dave", "bob")}
    for name, client in as_.items():
        client.force_login(getattr(city, name))
    urls = [
        ("alice", "/halls/h1/board/"),
        ("alice", f"/halls/h1/report/?week={week.year}-W{week.week:02d}"),
        ("alice", f"/halls/h1/report/?week={week.year}-W{week.week:02d}&format=csv"),
        ("carol", "/halls/h1/tablet/"),
        ("dave", "/overview/"),
        ("bob", f"/windows/{city.w1.pk}/console/"),
        ("alice", "/halls/h1/display/"),
        ("alice", "/halls/h1/"),
    ]
    # the admin's read-only pages of the visitor's tickets and alerts
    as_["root"] = Client()
    as_["root"].force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    urls += [("root", "/admin/queueing/ticket/"), ("root", "/admin/hall_ops/alert/")]
    for ticket in Ticket.objects.filter(visitor__isnull=False):
        urls.append(("root", f"/admin/queueing/ticket/{ticket.pk}/change/"))
    for alert in Alert.objects.filter(ticket__visitor__isnull=False):
        urls.append(("root", f"/admin/hall_ops/alert/{alert.pk}/change/"))
    pages = []
    for who, url in urls:
        response = as_[who].get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages.append(response.content.decode())
    return pages


async def test_the_id_number_is_found_nowhere_after_the_whole_flow(
    city, settings, sentinel_redis, published_tasks, caplog, capsys
):
    url, prefix, queue = sentinel_redis
    settings.DEBUG = True  # SQL is logged with its parameters
    for name in ("", "django", "django.db.backends", "queueing", "hall_ops", "celery"):
        caplog.set_level(logging.DEBUG, logger=name)  # Django sets its own to INFO
    await sync_to_async(_prepare)(city)
    tap = RedisTap(url)
    tap.start()
    assert tap.ready.wait(10)

    env = {"CHANNELS_PREFIX": prefix, "LOG_LEVEL": "DEBUG", "DEBUG": "1"}
    with celery_worker(url, queue=queue, env=env, loglevel="DEBUG"):
        tablet = await open_feed(city.carol, "/ws/halls/h1/alerts/")
        board = await open_feed(city.alice, "/ws/halls/h1/queue/")

        flow = await sync_to_async(_issue_and_serve)(city)
        kinds = {
            kind
            async for kind in Alert.objects.filter(ticket__visitor__isnull=False).values_list(
                "kind", flat=True
            )
        }
        assert {Alert.Kind.ELDERLY, Alert.Kind.REPEAT_VISIT} <= kinds

        # the worker: the time rules raise the overdue ticket's long wait, pushed to the
        # tablet over the channel layer; the end-of-day task closes yesterday's ticket
        await sync_to_async(run_alert_scans.apply_async)(queue=queue)
        await sync_to_async(close_finished_days.apply_async)(queue=queue)
        # the late ticket's visitor already has a card (one card per ticket): the long
        # wait joins its reasons, and the card is pushed again
        await tablet.wait_for_alert(ticket=flow["late"].number)
        deadline = time.monotonic() + WAIT_S
        cards = Alert.objects.filter(ticket=flow["late"]).values_list("kind", "context")
        while not [
            kind
            async for kind, context in cards.all()  # a fresh read each time
            if Alert.Kind.LONG_WAIT in (context.get("reasons") or [kind])
        ]:
            assert time.monotonic() < deadline, "no long wait for the late ticket"
            await asyncio.sleep(0.3)
        deadline = time.monotonic() + WAIT_S
        while await Ticket.objects.filter(
            pk=flow["old"].pk, status=Ticket.Status.WAITING
        ).aexists():
            assert time.monotonic() < deadline, "the worker did not close yesterday"
            await asyncio.sleep(0.3)

        pages = flow["pages"] + await sync_to_async(_screens)(city)
        await tablet.drain()
        await board.drain()
        for feed in (tablet, board):
            with contextlib.suppress(Exception):
                await feed.communicator.disconnect()
    worker_log = capsys.readouterr().out
    commands = tap.stop()

    assert "Task hall_ops.run_alert_scans" in worker_log  # the worker ran, at DEBUG
    assert "INSERT INTO" in caplog.text  # SQL with parameters was logged
    assert tablet.frames and board.frames and len(commands) > 10  # there was traffic
    assert len(published_tasks) == 2
    places = {
        "database": await sync_to_async(database_dump)(),
        "test process log": caplog.text,
        "error mails": await sync_to_async(error_reports)(caplog.records),
        "worker log": worker_log,
        "commands Redis received": commands,
        "Redis keys and values": redis_contents(redis.Redis.from_url(url)),
        "task messages": "\n".join(published_tasks),
        "pages and API answers": "\n".join(pages),
        "WebSocket frames": json.dumps(tablet.frames + board.frames),
    }
    assert "*" * 16 + NUMBER[-2:] in places["database"]  # what is kept is there
    assert {where: found_in(text) for where, text in places.items() if found_in(text)} == {}
    assert "_Crash" in places["error mails"]
    await sync_to_async(_close_connection)()
