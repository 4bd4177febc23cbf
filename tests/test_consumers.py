"""The hall's live queue feed over WebSocket, through the real ASGI application (origin
check, session auth, routing) and whichever channel layer the settings choose: Redis
when REDIS_URL is set, in-memory otherwise."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from queueing import services
from queueing.consumers import CLOSE_FORBIDDEN
from tests import ws_support

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = (b"origin", b"http://127.0.0.1")


@pytest.fixture(autouse=True)
async def empty_layer():
    """Group memberships left by an earlier test (same hall ids) must not linger."""
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()
    yield


async def connect(user, hall="h1", origin=ORIGIN, host=None):
    return await ws_support.connect(user, hall, origin, feed="queue", host=host)


async def test_it_rejects_anonymous_users(city):
    _, connected, code = await connect(None)
    assert not connected and code == CLOSE_FORBIDDEN == 4403


async def test_it_rejects_staff_of_another_hall(city):
    _, connected, code = await connect(city.eve)
    assert not connected and code == 4403


async def test_it_rejects_an_unknown_hall(city):
    _, connected, code = await connect(city.bob, hall="nowhere")
    assert not connected and code == 4403


async def test_it_rejects_a_foreign_origin(city):
    _, connected, _ = await connect(city.bob, origin=(b"origin", b"http://evil.example"))
    assert not connected


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "dave", "kiosk1"])
async def test_it_accepts_every_role_of_the_hall(city, who):
    communicator, connected, _ = await connect(getattr(city, who))
    assert connected
    await communicator.disconnect()


async def test_it_pushes_a_change_after_a_ticket_is_issued(city):
    bob, connected, _ = await connect(city.bob)
    assert connected
    await database_sync_to_async(services.ticket_issue)(hall=city.h1, service=city.pension)
    message = await bob.receive_json_from(timeout=5)
    assert message["type"] == "queue.changed"
    assert message["kind"] == "issued"
    assert message["ticket"] == "A001" and message["service"] == "A"
    await bob.disconnect()


async def test_it_pushes_window_changes(city):
    bob, _, _ = await connect(city.bob)
    await database_sync_to_async(services.window_pause)(window=city.w1)
    message = await bob.receive_json_from(timeout=5)
    assert message["kind"] == "window"
    assert message["window"] == "W01" and message["status"] == "paused"
    await bob.disconnect()


async def test_it_keeps_each_hall_s_changes_to_that_hall(city):
    bob, _, _ = await connect(city.bob)
    eve, connected, _ = await connect(city.eve, hall="h2")
    assert connected
    issue = database_sync_to_async(services.ticket_issue)
    await issue(hall=city.h1, service=city.pension)
    await issue(hall=city.h2, service=city.social)
    # pushes leave in commit order: eve's first message being h2's ticket proves that
    # h1's, sent before it, never reached her
    assert (await eve.receive_json_from(timeout=5))["ticket"] == "B001"
    assert (await bob.receive_json_from(timeout=5))["ticket"] == "A001"
    await bob.disconnect()
    await eve.disconnect()


async def test_it_ignores_what_the_browser_sends(city):
    bob, _, _ = await connect(city.bob)
    await bob.send_json_to({"type": "hello"})
    await database_sync_to_async(services.ticket_issue)(hall=city.h1, service=city.pension)
    assert (await bob.receive_json_from(timeout=5))["kind"] == "issued"
    await bob.disconnect()
