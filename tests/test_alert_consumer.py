"""The alert feed over WebSocket, through the real ASGI application and channel layer."""

import datetime as dt

import pytest
from channels.db import database_sync_to_async

from hall_ops.alerts.services import alert_acknowledge, alert_raise
from queueing import services
from queueing.models import StaffRole
from tests.factories import national_id
from tests.ws_support import connect

pytestmark = pytest.mark.django_db(transaction=True)


async def test_it_rejects_anonymous_users(city):
    communicator, connected, code = await connect(None)
    assert not connected and code == 4403


async def test_it_rejects_staff_of_another_hall_and_roles_without_alerts(city):
    for user in (city.eve, city.bob, city.kiosk1):
        communicator, connected, code = await connect(user)
        assert not connected and code == 4403, user


async def test_it_rejects_a_foreign_origin(city):
    communicator, connected, _ = await connect(
        city.carol, origin=(b"origin", b"http://evil.example")
    )
    assert not connected


async def test_it_pushes_an_elderly_alert_to_floor_staff_of_the_hall(city):
    carol, _, _ = await connect(city.carol)
    eve, ok, _ = await connect(city.eve, hall="h2")
    assert ok
    await database_sync_to_async(services.ticket_issue)(
        hall=city.h1, service=city.pension, id_number=national_id(dt.date(1950, 3, 3))
    )
    message = await carol.receive_json_from(timeout=5)
    assert message["type"] == "alert"
    assert message["alert"]["kind"] == "elderly"
    assert message["alert"]["ticket"] == "A001"
    assert message["alert"]["context"]["age"] >= 70
    assert await eve.receive_nothing(timeout=0.3)
    await carol.disconnect()
    await eve.disconnect()


async def test_it_sends_what_a_client_missed_since_its_sequence_number(city):
    make = database_sync_to_async(alert_raise)
    first = await make(hall=city.h1, kind="elderly", key="a", severity=2)
    await make(hall=city.h1, kind="elderly", key="b", severity=2)
    await database_sync_to_async(alert_acknowledge)(alert=first, user=city.carol)
    communicator, _, _ = await connect(city.alice)
    await communicator.send_json_to({"type": "resync", "since": 1})
    reply = await communicator.receive_json_from(timeout=5)
    assert reply["type"] == "resync" and reply["last_seq"] == 3
    assert [(a["seq"], a["state"]) for a in reply["alerts"]] == [(2, "open"), (3, "acknowledged")]
    assert reply["alerts"][1]["acknowledged_by"] == "carol"
    await communicator.send_json_to({"type": "resync", "since": "yesterday"})
    error = await communicator.receive_json_from(timeout=5)
    assert error["type"] == "error" and "since" in error["detail"]
    await communicator.disconnect()


async def test_it_closes_when_the_user_logs_out_or_loses_the_role(city, settings):
    settings.ALERT_SESSION_RECHECK_S = 0.2
    communicator, connected, _ = await connect(city.carol)
    assert connected
    await database_sync_to_async(
        StaffRole.objects.filter(user=city.carol, role=StaffRole.Role.FLOOR).delete
    )()
    assert (await communicator.receive_output(timeout=5))["code"] == 4403

    manager, connected, _ = await connect(city.alice)
    assert connected
    from django.contrib.sessions.models import Session

    await database_sync_to_async(Session.objects.all().delete)()
    assert (await manager.receive_output(timeout=5))["code"] == 4401


async def test_it_pushes_the_latest_state_of_each_changed_alert(city):
    communicator, _, _ = await connect(city.carol)
    alert = await database_sync_to_async(alert_raise)(
        hall=city.h1, kind="elderly", key="k", severity=2
    )
    await database_sync_to_async(alert_acknowledge)(alert=alert, user=city.carol)
    received = [(await communicator.receive_json_from(timeout=5))["alert"] for _ in range(2)]
    # each push is read from the row when it is sent: never older than what came before
    assert [a["seq"] for a in received] == sorted(a["seq"] for a in received)
    assert received[-1]["state"] == "acknowledged" and received[-1]["seq"] == 2
    await communicator.disconnect()
