"""Both live sockets against a careless or hostile client: bad frames do not kill the
socket, a logged-out session stops receiving, and only this site's own origin (scheme,
host and port) may open them."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session

from queueing import services
from tests.ws_support import connect

pytestmark = pytest.mark.django_db(transaction=True)

FEEDS = [("queue", "bob"), ("alerts", "carol")]


async def still_answers(communicator, feed, city):
    """The socket is open and working: a push (queue) or a resync (alerts) comes back."""
    if feed == "queue":
        await database_sync_to_async(services.ticket_issue)(hall=city.h1, service=city.pension)
        return (await communicator.receive_json_from(timeout=5))["kind"] == "issued"
    await communicator.send_json_to({"type": "resync", "since": 0})
    return (await communicator.receive_json_from(timeout=5))["type"] == "resync"


@pytest.mark.parametrize(("feed", "who"), FEEDS)
@pytest.mark.parametrize(
    "frame",
    [{"text_data": "not json {"}, {"bytes_data": b"\x00\xff"}, {"text_data": "[" * 100_000}],
    ids=["garbage", "binary", "deeply-nested"],
)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(city, feed, who, frame):
    communicator, connected, _ = await connect(getattr(city, who), feed=feed)
    assert connected
    await communicator.send_to(**frame)
    answer = await communicator.receive_json_from(timeout=5)
    assert answer["type"] == "error"
    assert await still_answers(communicator, feed, city)
    await communicator.disconnect()


async def test_the_queue_socket_closes_once_the_user_logs_out(city, settings):
    settings.ALERT_SESSION_RECHECK_S = 0.2
    communicator, connected, _ = await connect(city.bob, feed="queue")
    assert connected
    await database_sync_to_async(Session.objects.all().delete)()
    assert (await communicator.receive_output(timeout=5))["code"] == 4401


async def test_the_queue_socket_closes_when_the_user_loses_the_hall(city, settings):
    settings.ALERT_SESSION_RECHECK_S = 0.2
    communicator, connected, _ = await connect(city.bob, feed="queue")
    assert connected
    await database_sync_to_async(city.bob.hall_roles.all().delete)()
    assert (await communicator.receive_output(timeout=5))["code"] == 4403


@pytest.mark.parametrize(("feed", "who"), FEEDS)
@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (b"http://localhost:9999", b"localhost:8000"),  # another port of the same host
        (b"http://localhost", b"localhost:8000"),
        (b"https://localhost:8000", b"localhost:8000"),  # another scheme
        (b"http://localhost:8000", b"evil.example:8000"),  # a host not served
        (b"null", b"localhost:8000"),
    ],
)
async def test_an_origin_differing_in_scheme_host_or_port_is_refused(city, feed, who, origin, host):
    _, connected, _ = await connect(
        getattr(city, who), feed=feed, origin=(b"origin", origin), host=host
    )
    assert not connected


@pytest.mark.parametrize(("feed", "who"), FEEDS)
async def test_the_site_s_own_origin_and_trusted_origins_are_let_in(city, settings, feed, who):
    user = getattr(city, who)
    own = (b"origin", b"http://localhost:8000")
    communicator, connected, _ = await connect(user, feed=feed, origin=own, host=b"localhost:8000")
    assert connected
    await communicator.disconnect()
    settings.CSRF_TRUSTED_ORIGINS = ["https://hall.example.gov.cn"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    trusted = (b"origin", b"https://hall.example.gov.cn")
    communicator, connected, _ = await connect(
        user, feed=feed, origin=trusted, host=b"10.0.0.2:8000"
    )
    assert connected
    await communicator.disconnect()
