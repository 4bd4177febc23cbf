"""Alert fatigue, as the demo's board showed it: one card per ticket with all its
reasons, cards that end once the ticket is called, cards that say what, where and
since when, and an escalate button that agrees with the escalated status."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import Client

from hall_ops.alerts import rules
from hall_ops.alerts.services import AlertError, alert_escalate, alert_raise
from hall_ops.models import Alert
from queueing import services
from tests.conftest import login
from tests.factories import national_id
from tests.vision_app_support import make_camera, make_zone
from vision.alerts import camera_key, congestion_key

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)
K = Alert.Kind
BOARD = "/halls/h1/board/"
TABLET = "/halls/h1/tablet/"


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def english(user) -> Client:
    client = login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def cards(html: str) -> list[str]:
    return html.split('class="alert-item')[1:]


@pytest.fixture
def elderly_repeat(city, committed):
    """A visitor of 70 back for pensions three days after a visit that lacked a paper."""
    number = national_id(dt.date(1956, 1, 1))
    first = committed(
        services.ticket_issue, hall=city.h1, service=city.pension, id_number=number, at=at(-4320)
    )
    committed(services.ticket_cancel, ticket=first, at=at(-4310))
    Alert.objects.all().delete()
    return committed(
        services.ticket_issue, hall=city.h1, service=city.pension, id_number=number, at=at(0)
    )


def test_an_elderly_repeat_visitor_gets_one_card_with_both_reasons(city, elderly_repeat):
    [alert] = Alert.objects.filter(ticket=elderly_repeat)
    assert alert.kind == K.REPEAT_VISIT
    assert alert.context["reasons"] == ["repeat_visit", "elderly"]
    html = english(city.alice).get(BOARD).content.decode()
    [card] = cards(html)
    assert "Repeat visit · Elderly visitor" in card and "70 years" in card
    tablet = english(city.carol).get(TABLET).content.decode()
    feed = tablet[: tablet.index('id="tablet-greet"')]
    assert len(cards(feed)) == 1


def test_a_long_wait_joins_the_ticket_s_card_instead_of_a_second_one(city, elderly_repeat):
    rules.scan_long_waits(at=at(25))  # pensions: target 20 minutes
    [alert] = Alert.objects.filter(ticket=elderly_repeat)
    assert alert.context["reasons"] == ["long_wait", "repeat_visit", "elderly"]
    assert alert.context["target_min"] == 20
    assert alert.context["visits"]  # the repeat visit's facts are kept
    rules.scan_long_waits(at=at(26))  # nothing new
    assert alert.transitions.count() == 2
    rules.scan_long_waits(at=at(41))  # twice the target: critical
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.CRITICAL
    [card] = cards(english(city.alice).get(BOARD).content.decode())
    assert "Long wait · Repeat visit · Elderly visitor" in card


def test_every_card_about_a_ticket_ends_when_it_is_called(city, elderly_repeat, committed):
    elderly = committed(
        services.ticket_issue,
        hall=city.h1,
        service=city.pension,
        id_number=national_id(dt.date(1950, 5, 5)),
        at=at(1),
    )
    assert Alert.objects.filter(state=Alert.State.OPEN).count() == 2
    committed(services.ticket_call, ticket=elderly_repeat, window=city.w1, at=at(2))
    committed(services.ticket_call, ticket=elderly, window=city.w2, at=at(3))
    assert not Alert.objects.filter(state__in=Alert.ACTIVE_STATES).exists()
    assert set(Alert.objects.values_list("state", flat=True)) == {Alert.State.EXPIRED}
    assert "No open alerts." in english(city.alice).get(BOARD).content.decode()


def test_the_scan_ends_a_card_whose_ticket_left_without_an_event(city, elderly_repeat):
    # a ticket closed by the business day's end, say: the periodic scan catches up
    type(elderly_repeat).objects.filter(pk=elderly_repeat.pk).update(status="cancelled")
    rules.scan_long_waits(at=at(1))
    assert Alert.objects.get(ticket=elderly_repeat).state == Alert.State.EXPIRED


def test_congestion_and_camera_cards_name_the_zone_camera_and_count(city):
    camera = make_camera(city.h1, name="东门入口")
    zone = make_zone(camera, name="等候区A", capacity=30)
    alert_raise(
        hall=city.h1,
        kind=K.CONGESTION,
        key=congestion_key(zone),
        severity=2,
        context={"zone": zone.name, "camera": camera.name, "people": 37.4, "capacity": 30},
        at=at(0),
    )
    alert_raise(
        hall=city.h1,
        kind=K.CAMERA_OFFLINE,
        key=camera_key(camera),
        severity=3,
        context={"camera": camera.name, "last_seen_at": at(-5).isoformat()},
        at=at(0),
    )
    html = english(city.alice).get(BOARD).content.decode()
    offline, congestion = cards(html)  # high first
    assert "等候区A" in congestion and "东门入口" in congestion
    assert "37 in the zone (threshold 30)" in congestion
    assert "First Hall" in congestion and "since " in congestion
    assert "Camera offline" in offline and "东门入口" in offline and "Last report" in offline


def test_the_escalate_button_agrees_with_the_escalated_status(city, elderly_repeat):
    alert = Alert.objects.get(ticket=elderly_repeat)
    client = english(city.alice)
    [card] = cards(client.get(BOARD).content.decode())
    assert "/escalate/" in card and "data-escalated" not in card
    alert_escalate(alert=alert, at=at(1))
    [card] = cards(client.get(BOARD).content.decode())
    assert "/escalate/" not in card
    assert "data-escalated" in card and "escalated" in card
    with pytest.raises(AlertError):
        alert_escalate(alert=alert, at=at(2))
    # a critical alert not yet escalated can still reach the manager
    critical = alert_raise(
        hall=city.h1, kind=K.IDLE_WINDOW, key="idle_window:window:x", severity=4, at=at(0)
    )
    body = client.get(BOARD).content.decode()
    card = next(c for c in cards(body) if f'data-alert-id="{critical.pk}"' in c)
    assert "/escalate/" in card and "disabled" not in card.split("/escalate/")[1][:120]
