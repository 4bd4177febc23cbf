"""The floor staff's tablet: who may use it, the alert feed in order with who handles
what, "I'm on it" and resolve with a note, the greet list of elderly and repeat
visitors waiting now, refusals as messages, and a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hall_ops.alerts.services import alert_acknowledge, alert_raise
from hall_ops.models import Alert
from queueing import services
from queueing.models import Ticket
from tests.conftest import login
from tests.factories import national_id

TABLET = "/halls/h1/tablet/"


def english(user) -> Client:
    client = login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def ack_url(alert: Alert, code: str = "h1") -> str:
    return f"/halls/{code}/tablet/alerts/{alert.pk}/acknowledge/"


def resolve_url(alert: Alert, code: str = "h1") -> str:
    return f"/halls/{code}/tablet/alerts/{alert.pk}/resolve/"


def raise_for(ticket: Ticket, kind: str = Alert.Kind.ELDERLY, severity: int = 2, **context):
    return alert_raise(
        hall=ticket.hall,
        kind=kind,
        key=f"{kind}:ticket:{ticket.pk}",
        severity=severity,
        ticket=ticket,
        service=ticket.service,
        context={"number": ticket.number, **context},
    )


@pytest.fixture
def elderly(city, django_capture_on_commit_callbacks):
    """A 76-year-old visitor's ticket, its alert raised by the real rule on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_issue(
            hall=city.h1, service=city.pension, id_number=national_id(dt.date(1950, 1, 5))
        )
    return Alert.objects.get(ticket=ticket, kind=Alert.Kind.ELDERLY)


@pytest.fixture
def h2_alert(city) -> Alert:
    return raise_for(services.ticket_issue(hall=city.h2, service=city.pension))


# ------------------------------------------------------------------ who may


def test_it_sends_anonymous_users_to_login(city, elderly):
    for response in (
        Client().get(TABLET),
        Client().post(ack_url(elderly)),
        Client().post(resolve_url(elderly), {"note": "done"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert Alert.objects.get(pk=elderly.pk).state == Alert.State.OPEN


@pytest.mark.parametrize("who", ["eve", "bob", "kiosk1"])
def test_it_refuses_the_tablet_to_other_halls_staff_clerks_and_kiosks(city, elderly, who):
    client = login(getattr(city, who))
    assert client.get(TABLET).status_code == 403
    assert client.post(ack_url(elderly)).status_code == 403
    assert client.post(resolve_url(elderly), {"note": "done"}).status_code == 403
    assert Alert.objects.get(pk=elderly.pk).state == Alert.State.OPEN


@pytest.mark.parametrize("who", ["carol", "alice", "dave"])
def test_it_opens_for_floor_staff_managers_and_directors(city, who):
    assert login(getattr(city, who)).get(TABLET).status_code == 200


def test_it_answers_404_for_an_unknown_hall_or_another_hall_s_alert(city, h2_alert):
    client = login(city.carol)
    assert client.get("/halls/nope/tablet/").status_code == 404
    assert client.post(ack_url(h2_alert)).status_code == 404
    assert client.post(resolve_url(h2_alert), {"note": "x"}).status_code == 404
    assert Alert.objects.get(pk=h2_alert.pk).state == Alert.State.OPEN


# -------------------------------------------------------------- what it shows


def test_it_lists_the_newest_and_most_severe_alerts_first(city):
    tickets = [services.ticket_issue(hall=city.h1, service=city.pension) for _ in range(3)]
    low = raise_for(tickets[0], kind=Alert.Kind.ELDERLY, severity=2)
    high = raise_for(tickets[1], kind=Alert.Kind.LONG_WAIT, severity=4)
    newer_low = raise_for(tickets[2], kind=Alert.Kind.ELDERLY, severity=2)
    body = login(city.carol).get(TABLET).content.decode()
    positions = [body.index(f'data-alert-id="{a.pk}"') for a in (high, newer_low, low)]
    assert positions == sorted(positions)


def test_it_shows_the_alert_s_context_and_who_handles_it(city, elderly):
    body = english(city.alice).get(TABLET).content.decode()
    assert "Elderly visitor" in body and "76 years" in body and "A001" in body
    assert "Nobody has taken it yet." in body
    alert_acknowledge(alert=elderly, user=city.carol)
    body = english(city.alice).get(TABLET).content.decode()
    assert "carol is on it" in body
    assert 'data-alert-socket="/ws/halls/h1/alerts/"' in body


def test_it_shows_a_repeat_visitor_s_earlier_visits(city):
    ticket = services.ticket_issue(hall=city.h1, service=city.pension)
    raise_for(
        ticket,
        kind=Alert.Kind.REPEAT_VISIT,
        severity=3,
        served_today=True,
        visits=[
            {
                "date": "2026-11-20",
                "hall": "h2",
                "hall_name": "第二服务大厅",
                "number": "A007",
                "status": "completed",
                "outcome": "missing_documents",
                "missing_documents": "劳动合同",
            }
        ],
    )
    body = english(city.carol).get(TABLET).content.decode()
    assert "Repeat visit" in body and "2026-11-20" in body and "第二服务大厅" in body
    assert "incomplete: missing documents" in body and "劳动合同" in body
    assert "Already served today" in body


def test_it_lists_elderly_and_repeat_visitors_waiting_now(city, elderly):
    young = services.ticket_issue(hall=city.h1, service=city.social)
    repeat = services.ticket_issue(hall=city.h1, service=city.social)
    raise_for(repeat, kind=Alert.Kind.REPEAT_VISIT)
    alert_acknowledge(alert=elderly, user=city.carol)
    body = english(city.alice).get(TABLET).content.decode()
    greet = body[body.index('id="tablet-greet"') :]
    assert 'data-greet-ticket="A001"' in greet and f'data-greet-ticket="{repeat.number}"' in greet
    assert f'data-greet-ticket="{young.number}"' not in greet
    assert "repeat visit" in greet and "76 years" in greet and "carol is on it" in greet
    # called: no longer someone to find in the hall
    services.ticket_call(ticket=elderly.ticket, window=city.w3)
    body = english(city.alice).get(TABLET).content.decode()
    assert 'data-greet-ticket="A001"' not in body[body.index('id="tablet-greet"') :]


def test_it_never_shows_a_raw_id_number(city, elderly):
    body = login(city.carol).get(TABLET).content.decode()
    assert national_id(dt.date(1950, 1, 5)) not in body
    assert elderly.ticket.visitor.masked_id not in body


def test_it_speaks_chinese_by_default(city, elderly):
    body = login(city.carol).get(TABLET).content.decode()
    assert "我来处理" in body and "问候名单" in body and "点击开启提示音" in body


def test_it_sends_only_the_fragment_an_htmx_refresh_asks_for(city, elderly):
    response = login(city.carol).get(
        TABLET, headers={"HX-Request": "true", "HX-Target": "tablet-greet"}
    )
    body = response.content.decode()
    assert 'id="tablet-greet"' in body and 'id="tablet-feed"' not in body


# ------------------------------------------------------------------ actions


def test_it_takes_an_alert_with_i_m_on_it(city, elderly):
    response = english(city.carol).post(ack_url(elderly))
    assert response.status_code == 200
    fresh = Alert.objects.get(pk=elderly.pk)
    assert fresh.state == Alert.State.ACKNOWLEDGED and fresh.acknowledged_by == city.carol
    assert "carol is on it" in response.content.decode()


def test_it_refuses_to_take_an_alert_someone_else_took(city, elderly):
    alert_acknowledge(alert=elderly, user=city.alice)
    response = english(city.carol).post(ack_url(elderly))
    assert response.status_code == 409
    body = response.content.decode()
    assert 'role="alert"' in body and "alice is already handling this alert" in body
    assert Alert.objects.get(pk=elderly.pk).acknowledged_by == city.alice


def test_it_resolves_an_alert_with_a_short_note(city, elderly):
    alert_acknowledge(alert=elderly, user=city.carol)
    response = login(city.carol).post(resolve_url(elderly), {"note": "带到优先窗口"})
    assert response.status_code == 200
    fresh = Alert.objects.get(pk=elderly.pk)
    assert fresh.state == Alert.State.RESOLVED and fresh.note == "带到优先窗口"
    assert f'data-alert-id="{elderly.pk}"' not in response.content.decode()


@pytest.mark.parametrize("data", [{}, {"note": " "}, {"note": "x" * 400}])
def test_it_rejects_a_resolve_without_a_usable_note(city, elderly, data):
    response = english(city.carol).post(resolve_url(elderly), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'role="alert"' in body and "note" in body
    assert Alert.objects.get(pk=elderly.pk).state == Alert.State.OPEN


def test_it_refuses_to_resolve_an_alert_twice(city, elderly):
    login(city.carol).post(resolve_url(elderly), {"note": "done"})
    response = english(city.carol).post(resolve_url(elderly), {"note": "again"})
    assert response.status_code == 409 and "already resolved" in response.content.decode()
    assert Alert.objects.get(pk=elderly.pk).note == "done"


# ------------------------------------------------------------------ queries


def _busy(city, tickets: int) -> None:
    for i in range(tickets):
        ticket = services.ticket_issue(
            hall=city.h1,
            service=city.pension,
            id_number=national_id(dt.date(1950, 1, 1) + dt.timedelta(days=i % 300)),
        )
        raise_for(ticket, kind=Alert.Kind.ELDERLY if i % 2 else Alert.Kind.REPEAT_VISIT)
    for alert in Alert.objects.filter(hall=city.h1, state=Alert.State.OPEN)[:2]:
        alert_acknowledge(alert=alert, user=city.carol)


def _queries(client: Client, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(TABLET, headers=headers).status_code == 200
    return len(queries)


def test_it_renders_the_tablet_in_a_fixed_number_of_queries(city):
    client = login(city.carol)
    fragments = [
        {},
        *({"HX-Request": "true", "HX-Target": t} for t in ("tablet-feed", "tablet-greet")),
    ]
    _busy(city, 5)
    small = [_queries(client, **h) for h in fragments]
    _busy(city, 195)
    assert Alert.objects.filter(hall=city.h1).count() == 200
    large = [_queries(client, **h) for h in fragments]
    assert small == large
    assert large[0] <= 10
