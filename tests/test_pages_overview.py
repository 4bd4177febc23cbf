"""The director's overview: only directors (and superusers), only the halls in their
scope, each hall's headline figures and active alerts by severity, one card refreshed
alone, links from the home page, and a fixed number of queries however many tickets,
alerts or halls."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hall_ops.alerts.services import alert_acknowledge, alert_raise
from hall_ops.models import Alert
from queueing import services
from queueing.models import StaffRole, Ticket
from tests.conftest import login
from tests.factories import make_hall, make_window

OVERVIEW = "/overview/"


def raise_for(ticket: Ticket, severity: int = 2) -> Alert:
    return alert_raise(
        hall=ticket.hall,
        kind=Alert.Kind.LONG_WAIT,
        key=f"long_wait:ticket:{ticket.pk}",
        severity=severity,
        ticket=ticket,
        service=ticket.service,
    )


def card(body: str, code: str) -> str:
    start = body.index(f'id="hall-{code}"')
    end = body.find("</li>", start)
    return body[start:end]


def test_it_sends_anonymous_users_to_login(city):
    for path in (OVERVIEW, f"{OVERVIEW}?hall=h1"):
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "eve", "kiosk1"])
def test_it_refuses_anyone_but_a_director(city, who):
    assert login(getattr(city, who)).get(OVERVIEW).status_code == 403


def test_it_answers_404_for_a_hall_outside_the_director_s_scope(city):
    make_hall("h3")
    client = login(city.dave)
    assert client.get(f"{OVERVIEW}?hall=h3").status_code == 404
    assert client.get(f"{OVERVIEW}?hall=nope").status_code == 404


def test_it_shows_each_hall_s_headline_figures(city):
    for _ in range(3):
        services.ticket_issue(hall=city.h1, service=city.pension)
    first = services.ticket_call_next(window=city.w1)
    assert first is not None
    services.ticket_complete(ticket=first, outcome="done")
    services.window_pause(window=city.w2)
    services.ticket_issue(hall=city.h2, service=city.social)
    tickets = list(Ticket.objects.filter(hall=city.h1, status=Ticket.Status.WAITING))
    taken = raise_for(tickets[0], severity=4)
    raise_for(tickets[1], severity=2)
    alert_acknowledge(alert=taken, user=city.carol)
    make_hall("h3")  # not dave's

    client = login(city.dave)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    body = client.get(OVERVIEW).content.decode()
    h1, h2 = card(body, "h1"), card(body, "h2")
    assert 'id="hall-h3"' not in body
    assert '<dd data-figure="waiting">2</dd>' in h1
    assert '<dd data-figure="served">1</dd>' in h1
    assert '<dd data-figure="windows">2 / 3</dd>' in h1  # W01, W03 open; W02 paused
    assert 'data-severity="4">Critical 1' in h1 and 'data-severity="2">Warning 1' in h1
    assert "1 not yet taken" in h1
    assert '<dd data-figure="waiting">1</dd>' in h2 and 'data-severity="4">Critical 0' in h2
    assert 'href="/halls/h1/board/"' in h1
    assert 'data-queue-socket="/ws/halls/h1/queue/"' in h1
    assert 'data-alert-socket-hall="/ws/halls/h1/alerts/"' in h1


def test_it_shows_every_hall_to_a_superuser(city):
    root = User.objects.create_superuser("root", password="pw")
    body = login(root).get(OVERVIEW).content.decode()
    assert 'id="hall-h1"' in body and 'id="hall-h2"' in body


def test_it_refreshes_one_hall_s_card_alone(city):
    services.ticket_issue(hall=city.h2, service=city.pension)
    body = login(city.dave).get(f"{OVERVIEW}?hall=h2").content.decode()
    assert body.strip().startswith('<li id="hall-h2"')
    assert 'id="hall-h1"' not in body and "<html" not in body
    assert '<dd data-figure="waiting">1</dd>' in body


def test_it_speaks_chinese_by_default(city):
    body = login(city.dave).get(OVERVIEW).content.decode()
    assert "各大厅概览" in body and "等候" in body and "打开看板" in body


def test_it_links_the_operations_screens_from_home_and_hall_pages(city):
    # the director lands on the overview, which links every hall's board
    director = login(city.dave)
    assert director.get("/")["Location"] == "/overview/"
    assert 'href="/halls/h1/board/"' in director.get("/overview/").content.decode()
    hall = login(city.alice).get("/halls/h1/").content.decode()
    assert 'href="/halls/h1/board/"' in hall and 'href="/halls/h1/tablet/"' in hall
    hall = login(city.carol).get("/halls/h1/").content.decode()
    assert 'href="/halls/h1/board/"' in hall and 'href="/halls/h1/tablet/"' in hall
    hall = login(city.bob).get("/halls/h1/").content.decode()
    assert "/board/" not in hall and "/tablet/" not in hall
    # eve manages h2 and directs nothing: no overview link on a multi-hall home page
    StaffRole.objects.create(user=city.eve, hall=city.h1, role=StaffRole.Role.CLERK)
    home = login(city.eve).get("/").content.decode()
    assert 'href="/overview/"' not in home and 'href="/halls/h2/board/"' in home
    assert 'href="/halls/h1/board/"' not in home


def _busy(city, tickets: int, halls: int) -> None:
    for i in range(tickets):
        hall = city.h1 if i % 2 else city.h2
        ticket = services.ticket_issue(hall=hall, service=city.pension)
        if i % 3 == 0:
            raise_for(ticket, severity=1 + i % 4)
    for _ in range(halls):
        hall = make_hall()
        make_window(hall, "W01", [city.pension])
        StaffRole.objects.create(user=city.dave, hall=hall, role=StaffRole.Role.DIRECTOR)


def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_it_renders_the_overview_in_a_fixed_number_of_queries(city):
    client = login(city.dave)
    _busy(city, 5, 0)
    small = [_queries(client, OVERVIEW), _queries(client, f"{OVERVIEW}?hall=h1")]
    _busy(city, 195, 10)
    assert Ticket.objects.count() == 200
    body = client.get(OVERVIEW).content.decode()
    assert body.count('class="card overview-card"') == 12
    large = [_queries(client, OVERVIEW), _queries(client, f"{OVERVIEW}?hall=h1")]
    assert small == large
    assert large[0] <= 8
