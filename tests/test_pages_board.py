"""The hall manager's board: who may see it and act on it, windows opened, paused,
closed and re-skilled through the services, alerts taken, escalated and resolved,
refusals shown as messages, the chart's figures, and a fixed number of queries
whatever the number of tickets and alerts."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hall_ops.alerts.services import alert_acknowledge, alert_raise
from hall_ops.dashboards.selectors import arrivals_and_served
from hall_ops.models import Alert
from queueing import services
from queueing.estimation.distributions import forget_hall_models
from queueing.models import Ticket, Window
from tests.conftest import login
from tests.factories import make_user
from tests.test_staffing import made_history

BOARD = "/halls/h1/board/"
SH = zoneinfo.ZoneInfo("Asia/Shanghai")


def english(user) -> Client:
    client = login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def status_url(window: Window, code: str = "h1") -> str:
    return f"/halls/{code}/board/windows/{window.pk}/status/"


def skills_url(window: Window) -> str:
    return f"/halls/h1/board/windows/{window.pk}/skills/"


def alert_url(alert: Alert, action: str, code: str = "h1") -> str:
    return f"/halls/{code}/board/alerts/{alert.pk}/{action}/"


def raise_for(ticket: Ticket, kind: str = Alert.Kind.ELDERLY, severity: int = 2) -> Alert:
    return alert_raise(
        hall=ticket.hall,
        kind=kind,
        key=f"{kind}:ticket:{ticket.pk}",
        severity=severity,
        ticket=ticket,
        service=ticket.service,
        context={"number": ticket.number, "age": 72, "elderly": True},
    )


@pytest.fixture
def alert(city) -> Alert:
    return raise_for(services.ticket_issue(hall=city.h1, service=city.pension))


@pytest.fixture
def h2_alert(city) -> Alert:
    return raise_for(services.ticket_issue(hall=city.h2, service=city.pension))


def every_route(city, alert: Alert) -> list[tuple[str, str, dict[str, object]]]:
    return [
        ("GET", BOARD, {}),
        ("POST", status_url(city.w1), {"status": "paused"}),
        ("POST", skills_url(city.w1), {"skills": ["pension"]}),
        ("POST", alert_url(alert, "acknowledge"), {}),
        ("POST", alert_url(alert, "escalate"), {}),
        ("POST", alert_url(alert, "resolve"), {"note": "done"}),
    ]


def call(client: Client, method: str, path: str, data: dict[str, object]):
    return client.get(path) if method == "GET" else client.post(path, data)


# ------------------------------------------------------------------ who may


def test_it_sends_anonymous_users_to_login(city, alert):
    for method, path, data in every_route(city, alert):
        response = call(Client(), method, path, data)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/"), path
    assert Window.objects.get(pk=city.w1.pk).status == Window.Status.OPEN
    assert Alert.objects.get(pk=alert.pk).state == Alert.State.OPEN


@pytest.mark.parametrize("who", ["eve", "bob", "kiosk1"])
def test_it_refuses_the_board_to_other_halls_staff_clerks_and_kiosks(city, alert, who):
    client = login(getattr(city, who))
    for method, path, data in every_route(city, alert):
        assert call(client, method, path, data).status_code == 403, path
    assert Window.objects.get(pk=city.w1.pk).status == Window.Status.OPEN
    assert list(Window.objects.get(pk=city.w1.pk).skills.all()) == [city.pension, city.social]
    fresh = Alert.objects.get(pk=alert.pk)
    assert fresh.state == Alert.State.OPEN and fresh.escalated_at is None


def test_it_answers_404_for_an_unknown_hall_window_or_alert(city, alert, h2_alert):
    client = login(city.alice)
    assert client.get("/halls/nope/board/").status_code == 404
    assert client.post(status_url(city.w1, "nope"), {"status": "paused"}).status_code == 404
    # another hall's window or alert under this hall's address
    assert client.post(status_url(city.h2_window), {"status": "paused"}).status_code == 404
    assert client.post(alert_url(h2_alert, "acknowledge")).status_code == 404
    assert client.post("/halls/h1/board/alerts/999999/acknowledge/").status_code == 404
    assert Window.objects.get(pk=city.h2_window.pk).status == Window.Status.OPEN
    assert Alert.objects.get(pk=h2_alert.pk).state == Alert.State.OPEN


def test_it_refuses_a_get_on_an_action(city, alert):
    client = login(city.alice)
    assert client.get(status_url(city.w1)).status_code == 405
    assert client.get(alert_url(alert, "acknowledge")).status_code == 405


def test_it_lets_floor_staff_look_and_take_alerts_but_not_switch_windows(city, alert):
    client = login(city.carol)
    body = client.get(BOARD).content.decode()
    assert "board-window-status" not in body and "/windows/" not in body
    assert "/escalate/" not in body and "/acknowledge/" in body
    assert client.post(status_url(city.w1), {"status": "paused"}).status_code == 403
    assert client.post(skills_url(city.w1), {"skills": ["pension"]}).status_code == 403
    assert client.post(alert_url(alert, "escalate")).status_code == 403
    assert Window.objects.get(pk=city.w1.pk).status == Window.Status.OPEN
    assert client.post(alert_url(alert, "acknowledge")).status_code == 200
    assert Alert.objects.get(pk=alert.pk).acknowledged_by == city.carol


@pytest.mark.parametrize("who", ["alice", "dave", "root"])
def test_it_gives_managers_directors_and_superusers_the_window_controls(city, who):
    from django.contrib.auth.models import User

    user = User.objects.create_superuser("root", password="pw") if who == "root" else None
    client = login(user or getattr(city, who))
    body = client.get(BOARD).content.decode()
    assert f"/halls/h1/board/windows/{city.w1.pk}/status/" in body
    assert f"/halls/h1/board/windows/{city.w1.pk}/skills/" in body


# -------------------------------------------------------------- what it shows


def test_it_shows_queues_windows_and_the_hall_s_alerts(city, alert, h2_alert):
    services.ticket_issue(hall=city.h1, service=city.social)
    services.ticket_call_next(window=city.w2)  # A001 goes to W02
    alert_acknowledge(alert=alert, user=city.carol)
    body = english(city.alice).get(BOARD).content.decode()
    assert "First Hall" in body and "Pensions" in body and "Social insurance" in body
    assert 'data-window-status="open"' in body
    assert "<b>A001</b> · called" in body
    assert "1 waiting" in body  # B001
    assert f'data-alert-id="{alert.pk}"' in body
    assert f'data-alert-id="{h2_alert.pk}"' not in body
    assert "carol is on it" in body
    assert 'id="board-chart-data"' in body
    assert 'data-alert-socket="/ws/halls/h1/alerts/"' in body
    assert 'data-live-socket="/ws/halls/h1/queue/"' in body
    assert "plotly-basic.min.js" in body and "cdn" not in body


def test_it_speaks_chinese_by_default(city, alert):
    body = login(city.alice).get(BOARD).content.decode()
    assert "大厅看板" in body and "我来处理" in body and "老年人" in body


def test_it_never_shows_a_raw_id_number(city, committed_issue):
    number, ticket = committed_issue
    body = login(city.alice).get(BOARD).content.decode()
    assert Alert.objects.filter(ticket=ticket).exists()
    assert number not in body and number[:6] + "********" not in body


@pytest.fixture
def committed_issue(city, django_capture_on_commit_callbacks):
    from tests.factories import national_id

    number = national_id(dt.date(1950, 3, 3))
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_issue(hall=city.h1, service=city.pension, id_number=number)
    return number, ticket


def test_it_sends_only_the_fragment_an_htmx_refresh_asks_for(city, alert):
    client = login(city.alice)
    alerts = client.get(BOARD, headers={"HX-Request": "true", "HX-Target": "board-alerts"})
    body = alerts.content.decode()
    assert 'id="board-alerts"' in body and 'id="board-live"' not in body
    assert "<html" not in body
    live = client.get(BOARD, headers={"HX-Request": "true", "HX-Target": "board-live"})
    body = live.content.decode()
    assert 'id="board-live"' in body and 'id="board-alerts"' not in body


def test_it_counts_arrivals_and_served_per_quarter_hour(city):
    day = dt.datetime(2026, 11, 23, tzinfo=SH)
    for hh, mm in [(9, 1), (9, 14), (9, 16), (7, 50)]:
        services.ticket_issue(
            hall=city.h1, service=city.pension, at=day.replace(hour=hh, minute=mm)
        )
    first = Ticket.objects.order_by("issued_at").first()
    assert first is not None
    services.ticket_call(ticket=first, window=city.w1, at=day.replace(hour=9, minute=20))
    services.ticket_complete(ticket=first, outcome="done", at=day.replace(hour=9, minute=29))
    # a ticket of the day before is not today's
    services.ticket_issue(hall=city.h1, service=city.pension, at=day - dt.timedelta(hours=1))
    chart = arrivals_and_served(city.h1, at=day.replace(hour=12))
    assert chart.labels[0] == "07:45" and chart.labels[-1] == "16:45"
    series = dict(zip(chart.labels, zip(chart.arrivals, chart.served, strict=True), strict=True))
    assert series["07:45"] == (1, 0)
    assert series["09:00"] == (2, 0)
    assert series["09:15"] == (1, 1)
    assert series["12:00"] == (0, 0)
    assert sum(chart.arrivals) == 4 and sum(chart.served) == 1


# ------------------------------------------------------------------ windows


def test_it_pauses_closes_and_opens_a_window(city):
    client = english(city.alice)
    for status in ("paused", "closed", "open"):
        response = client.post(status_url(city.w2), {"status": status})
        assert response.status_code == 200
        assert Window.objects.get(pk=city.w2.pk).status == status
        assert 'id="board-live"' in response.content.decode()
    # opening from the board does not make the manager the window's clerk
    assert Window.objects.get(pk=city.w2.pk).clerk is None


def test_it_asks_before_closing_a_window(city):
    body = login(city.alice).get(BOARD).content.decode()
    assert 'hx-vals=\'{"status": "closed"}\'' in body and "hx-confirm=" in body


def test_it_refuses_to_close_a_window_that_holds_a_visitor(city):
    services.ticket_issue(hall=city.h1, service=city.pension)
    services.ticket_call_next(window=city.w1)
    response = english(city.alice).post(status_url(city.w1), {"status": "closed"})
    assert response.status_code == 409
    body = response.content.decode()
    assert 'role="alert"' in body and "still holds ticket A001" in body
    assert Window.objects.get(pk=city.w1.pk).status == Window.Status.OPEN


@pytest.mark.parametrize("data", [{}, {"status": "asleep"}, {"status": ""}])
def test_it_rejects_a_bad_window_status_with_a_message(city, data):
    response = english(city.alice).post(status_url(city.w1), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert 'role="alert"' in body and "open, paused or closed" in body
    assert Window.objects.get(pk=city.w1.pk).status == Window.Status.OPEN


def test_it_changes_a_window_s_skills(city):
    response = login(city.alice).post(skills_url(city.w2), {"skills": ["social", "pension"]})
    assert response.status_code == 200
    assert set(Window.objects.get(pk=city.w2.pk).skills.all()) == {city.social, city.pension}
    login(city.alice).post(skills_url(city.w1), {"skills": ["social"]})
    assert list(Window.objects.get(pk=city.w1.pk).skills.all()) == [city.social]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "at least one service"),
        ({"skills": ["nope"]}, "Unknown service"),
    ],
)
def test_it_rejects_bad_skills_with_a_message(city, data, message):
    response = english(city.alice).post(skills_url(city.w2), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert list(Window.objects.get(pk=city.w2.pk).skills.all()) == [city.pension]


def test_it_refuses_a_service_the_hall_does_not_offer(city):
    from tests.factories import make_service

    make_service("C", code="medical")
    response = english(city.alice).post(skills_url(city.w2), {"skills": ["medical"]})
    assert (
        response.status_code == 422 and "Not offered at this hall: C" in response.content.decode()
    )
    assert list(Window.objects.get(pk=city.w2.pk).skills.all()) == [city.pension]


# ------------------------------------------------------------------- alerts


def test_it_takes_an_alert_for_the_user(city, alert):
    response = english(city.alice).post(alert_url(alert, "acknowledge"))
    assert response.status_code == 200
    fresh = Alert.objects.get(pk=alert.pk)
    assert fresh.state == Alert.State.ACKNOWLEDGED and fresh.acknowledged_by == city.alice
    body = response.content.decode()
    assert 'id="board-alerts"' in body and "alice is on it" in body


def test_it_refuses_to_take_an_alert_someone_else_took(city, alert):
    alert_acknowledge(alert=alert, user=city.carol)
    response = english(city.alice).post(alert_url(alert, "acknowledge"))
    assert response.status_code == 409
    assert "carol is already handling this alert" in response.content.decode()
    assert Alert.objects.get(pk=alert.pk).acknowledged_by == city.carol


def test_it_escalates_an_alert(city, alert):
    response = login(city.dave).post(alert_url(alert, "escalate"))
    assert response.status_code == 200
    fresh = Alert.objects.get(pk=alert.pk)
    assert fresh.severity == Alert.Severity.HIGH and fresh.escalated_at is not None


def test_it_resolves_an_alert_with_a_note(city, alert):
    response = login(city.alice).post(alert_url(alert, "resolve"), {"note": "  walked over  "})
    assert response.status_code == 200
    fresh = Alert.objects.get(pk=alert.pk)
    assert fresh.state == Alert.State.RESOLVED and fresh.note == "walked over"
    assert fresh.closed_by == city.alice
    assert f'data-alert-id="{alert.pk}"' not in response.content.decode()


@pytest.mark.parametrize("note", ["", "   ", "x" * 301])
def test_it_rejects_a_resolve_without_a_usable_note(city, alert, note):
    response = english(city.alice).post(alert_url(alert, "resolve"), {"note": note})
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert Alert.objects.get(pk=alert.pk).state == Alert.State.OPEN


def test_it_refuses_to_act_on_a_closed_alert(city, alert):
    login(city.alice).post(alert_url(alert, "resolve"), {"note": "done"})
    for action in ("acknowledge", "escalate", "resolve"):
        response = english(city.alice).post(alert_url(alert, action), {"note": "again"})
        assert response.status_code == 409, action
        assert "already resolved" in response.content.decode()


# ------------------------------------------------------------------ queries


def _busy(city, tickets: int) -> None:
    """More waiting tickets, half of them with an alert, two of those taken; a ticket
    at each of W01 and W02 (the first time)."""
    for i in range(tickets):
        ticket = services.ticket_issue(hall=city.h1, service=city.social if i % 2 else city.pension)
        if i % 2 == 0:
            raise_for(ticket, kind=Alert.Kind.LONG_WAIT, severity=2 + i % 3)
    for window in (city.w1, city.w2):
        if not Ticket.objects.current().filter(window=window).exists():
            services.ticket_call_next(window=window)
    for alert in Alert.objects.filter(hall=city.h1, state=Alert.State.OPEN)[:2]:
        alert_acknowledge(alert=alert, user=city.carol)


def _queries(client: Client, path: str, **headers: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, headers=headers).status_code == 200
    return len(queries)


def test_it_renders_the_board_in_a_fixed_number_of_queries(city):
    client = login(city.alice)
    fragments = [
        {},
        *({"HX-Request": "true", "HX-Target": t} for t in ("board-live", "board-alerts")),
    ]
    _busy(city, 5)
    _queries(client, BOARD)  # learns the staffing history, cached for the day
    small = [_queries(client, BOARD, **h) for h in fragments]
    _busy(city, 195)
    assert Ticket.objects.filter(hall=city.h1).count() == 200
    assert Alert.objects.filter(hall=city.h1).count() >= 100
    large = [_queries(client, BOARD, **h) for h in fragments]
    assert small == large
    assert large[0] <= 19


def test_it_gives_a_user_without_a_role_a_403(city):
    assert login(make_user("nobody")).get(BOARD).status_code == 403


def test_it_keeps_the_chart_json_well_formed(city):
    services.ticket_issue(hall=city.h1, service=city.pension)
    body = login(city.alice).get(BOARD).content.decode()
    start = body.index('<script id="board-chart-data" type="application/json">') + len(
        '<script id="board-chart-data" type="application/json">'
    )
    data = json.loads(body[start : body.index("</script>", start)])
    assert set(data) == {"labels", "arrivals", "served"} and sum(data["arrivals"]) == 1


# --- camera counts -----------------------------------------------------------------


def test_it_shows_zone_counts_and_a_dark_camera_beside_the_tickets(city):
    from django.utils import timezone

    from tests.vision_app_support import make_camera, make_zone
    from vision.models import ZoneMinute

    now = timezone.now()
    camera = make_camera(city.h1, last_seen_at=now)
    zone = make_zone(camera)
    minute = now.replace(second=0, microsecond=0)
    ZoneMinute.objects.create(zone=zone, minute=minute, mean=7.0, peak=9, samples=60)
    make_camera(city.h1, name="door", created_at=now - dt.timedelta(minutes=5))

    page = login(city.alice).get("/halls/h1/board/", headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-zone="{zone.pk}"' in html
    assert "7 people in the waiting areas, 0 tickets waiting." in html
    assert "(peak 9)" in html
    assert "Cameras offline: door" in html
    assert "Cameras offline: entrance" not in html


# --- estimates, nearby halls and staffing advice ------------------------------------


def _all_day(hall) -> None:
    hall.opens_at, hall.closes_at = dt.time(0), dt.time(23, 59)
    hall.save(update_fields=["opens_at", "closes_at"])


def _history(city, per_hour: int) -> None:
    """Eight weeks of the same weekday with `per_hour` pension visitors in every hour
    left today, 6 minutes each at W01."""
    now = timezone.localtime(timezone.now(), SH)
    for k in range(1, 9):
        day = now.date() - dt.timedelta(weeks=k)
        for hour in range(now.hour, 24):
            made_history(city.h1, city.pension, day, hour, per_hour, window=city.w1)


@pytest.fixture
def fresh_cache():
    cache.clear()
    forget_hall_models()
    yield
    cache.clear()


def test_it_shows_the_wait_for_a_person_arriving_now_per_service(city, fresh_cache):
    for _ in range(12):
        services.ticket_issue(hall=city.h1, service=city.pension)
    html = english(city.alice).get(BOARD).content.decode()
    cards = html.split('data-service="')[1:]
    assert [c[:1] for c in cards] == ["A", "B"]
    pension = cards[0][: cards[0].index("</div>")]
    match = re.search(r"Expected wait: about (\d+) min, (\d+)–(\d+)", pension)
    assert match and int(match[2]) <= int(match[1]) <= int(match[3]) and int(match[1]) >= 10
    # the live fragment, as a push refreshes it, carries the same
    live = english(city.alice).get(BOARD, headers={"HX-Request": "true", "HX-Target": "board-live"})
    assert "Arriving now:" in live.content.decode()


def test_it_points_to_a_much_quicker_nearby_hall(city, fresh_cache):
    from decimal import Decimal

    for hall, lat in ((city.h1, "22.5"), (city.h2, "22.6")):
        hall.latitude, hall.longitude = Decimal(lat), Decimal("114.0")
        hall.save(update_fields=["latitude", "longitude"])
    for _ in range(40):
        services.ticket_issue(hall=city.h1, service=city.pension)
    html = english(city.alice).get(BOARD).content.decode()
    assert 'data-nearby="h2"' in html
    assert re.search(r"Second Hall: (about [1-9]\d* min|no wait now), 11 km away", html)


def test_it_advises_opening_a_window_for_the_rest_of_today(city, fresh_cache):
    _all_day(city.h1)
    _history(city, 12)
    html = english(city.alice).get(BOARD).content.decode()
    assert "data-staffing-ok" in html  # three windows open: enough
    services.window_set_status(window=city.w3, status="closed")
    cache.clear()
    html = english(city.alice).get(BOARD).content.decode()
    hour = timezone.localtime(timezone.now(), SH).hour
    assert f'data-advice="{hour:02d}:AB" data-change="1"' in html
    assert "open 1 more window for Pensions, Social insurance" in html
    assert "each week weighing 0.6 of the one after it" in html


def test_it_says_when_there_is_no_history_for_staffing_advice(city, fresh_cache):
    _all_day(city.h1)
    html = english(city.alice).get(BOARD).content.decode()
    assert "Not enough history yet: 0 days recorded of the 14 needed, so no advice." in html
    assert "data-advice" not in html


def test_it_links_the_weekly_report(city):
    assert 'href="/halls/h1/report/"' in login(city.alice).get(BOARD).content.decode()
