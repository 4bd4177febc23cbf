"""Every screen survives any row already in the database: rows no service would write
(planted with `.update()`, as an old bug, a restore or a hand edit leaves them) degrade
a figure of their own hall at most, never a page, and never another hall's figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from queueing import services
from queueing.estimation.distributions import forget_hall_models
from queueing.models import Hall, Service, Ticket, Window
from tests.api_support import token_client
from tests.factories import make_service, offer

S = Ticket.Status


def pages(hall: str, window_id: int) -> list[str]:
    year, week, _ = (timezone.localdate() - dt.timedelta(days=7)).isocalendar()
    last_week = f"{year}-W{week:02d}"
    return [
        f"/halls/{hall}/",
        f"/halls/{hall}/kiosk/",
        f"/halls/{hall}/board/",
        f"/halls/{hall}/display/",
        f"/halls/{hall}/tablet/",
        f"/halls/{hall}/report/",
        f"/halls/{hall}/report/?format=csv",
        f"/halls/{hall}/report/?week={last_week}",
        f"/windows/{window_id}/console/",
        "/overview/",
    ]


def issue_some(hall: Any, service: Any, window: Window, n: int) -> list[Ticket]:
    now = timezone.now()
    tickets = [
        services.ticket_issue(hall=hall, service=service, at=now - dt.timedelta(minutes=30 - i))
        for i in range(n)
    ]
    services.window_set_status(window=window, status=Window.Status.OPEN, at=now)
    return tickets


def plant_bad_rows(city: Any, tickets: list[Ticket]) -> None:
    now = timezone.now()
    t = [x.pk for x in tickets]
    hour = dt.timedelta(hours=1)
    one = Ticket.objects.filter
    # called before it was issued
    one(pk=t[0]).update(status=S.CALLED, called_at=now - 3 * hour, window=city.w1)
    # completed before it was called, ended before it started
    one(pk=t[1]).update(
        status=S.COMPLETED, called_at=now, started_at=now + hour, ended_at=now - 2 * hour
    )
    # a huge wait, quotes out of order, half missing and absurd (the columns refuse < 0)
    one(pk=t[2]).update(
        status=S.COMPLETED,
        issued_at=now - dt.timedelta(days=400),
        called_at=now - dt.timedelta(minutes=5),
        started_at=now - dt.timedelta(minutes=5),
        ended_at=now - dt.timedelta(minutes=1),
        quoted_wait_s=600,
        quoted_low_s=900,
        quoted_high_s=0,
        quoted_base_s=0,
    )
    one(pk=t[3]).update(quoted_wait_s=None, quoted_low_s=5, quoted_high_s=None)
    one(pk=t[4]).update(quoted_wait_s=10**9, quoted_low_s=10**9, quoted_high_s=0)
    # a ticket of tomorrow's business day, serving with no times at all
    one(pk=t[5]).update(
        business_date=tickets[5].business_date + dt.timedelta(days=1),
        status=S.SERVING,
        window=city.w2,
        called_at=None,
        started_at=None,
    )
    # served history the estimator learns from: a negative wait, a negative service
    # time, a completion with no times at all
    one(pk=t[6]).update(
        status=S.COMPLETED,
        called_at=tickets[6].issued_at - dt.timedelta(minutes=40),
        started_at=tickets[6].issued_at - dt.timedelta(minutes=40),
        ended_at=tickets[6].issued_at - dt.timedelta(minutes=30),
    )
    one(pk=t[7]).update(
        status=S.COMPLETED,
        called_at=now - dt.timedelta(minutes=1),
        started_at=now - dt.timedelta(minutes=1),
        ended_at=now - dt.timedelta(minutes=20),
    )
    one(pk=t[8]).update(status=S.COMPLETED, called_at=None, started_at=None, ended_at=None)
    one(pk=t[9]).update(status=S.NO_SHOW, called_at=now + 5 * hour, ended_at=None)
    # last week's history: a negative wait and a 30-hour service
    week_ago = now - dt.timedelta(days=7)
    one(pk=t[10]).update(
        status=S.COMPLETED,
        business_date=tickets[10].business_date - dt.timedelta(days=7),
        issued_at=week_ago,
        called_at=week_ago - hour,
        started_at=week_ago - hour,
        ended_at=week_ago + 30 * hour,
    )
    # a service of this hall only, with a target wait of 0 minutes, and a hall whose
    # day has no length and whose capacity is nobody
    odd = make_service("C", code="svc-odd", target_wait_min=1)
    offer(city.h1, odd)
    Service.objects.filter(pk=odd.pk).update(target_wait_min=0)
    one(pk=t[11]).update(service=odd)
    Hall.objects.filter(pk=city.h1.pk).update(capacity=0, opens_at=dt.time(9), closes_at=dt.time(9))
    # a window changed in the future, another years back
    Window.objects.filter(pk=city.w1.pk).update(status_changed_at=now + dt.timedelta(days=2))
    Window.objects.filter(pk=city.w2.pk).update(status_changed_at=now - dt.timedelta(days=3000))


def neighbour_figures(api: Any) -> list[dict[str, Any]]:
    forget_hall_models()  # read afresh, not from the estimator's cache
    body = api.get("/halls/h2/state").json()
    return [
        {k: v for k, v in s.items() if k not in ("nearby", "longest_wait_s")}
        for s in body["services"]
    ]


@pytest.mark.django_db
def test_every_page_of_the_hall_and_its_neighbour_survives_bad_rows(city):
    issue_some(city.h2, city.pension, city.h2_window, 3)
    tickets = issue_some(city.h1, city.pension, city.w3, 12)
    api = token_client(city.h1, city.h2)
    before = neighbour_figures(api)
    plant_bad_rows(city, tickets)
    # the neighbour's queue and estimates, read the same moment, are what they were
    assert neighbour_figures(api) == before
    assert all(s["estimate"] is not None for s in before)
    admin = User.objects.create(username="root", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)
    failed = {}
    for hall, window in (("h1", city.w1), ("h2", city.h2_window)):
        for url in pages(hall, window.pk):
            response = client.get(url, follow=True)
            if response.status_code != 200:
                failed[url] = response.status_code
        for path in (f"/halls/{hall}/state",):
            response = api.get(path)
            if response.status_code != 200:
                failed[path] = response.status_code
    issued = api.post("/halls/h1/tickets", {"service": "A"})
    if issued.status_code != 201:
        failed["POST /halls/h1/tickets"] = issued.status_code
    kiosk = client.post("/halls/h1/kiosk/tickets/", {"service": "pension"})
    if kiosk.status_code != 200:
        failed["POST kiosk"] = kiosk.status_code
    assert not failed, failed


@pytest.mark.django_db
def test_bad_rows_degrade_only_their_own_figures(city):
    tickets = issue_some(city.h1, city.pension, city.w3, 12)
    plant_bad_rows(city, tickets)
    body = token_client(city.h1).get("/halls/h1/state").json()
    for window in body["windows"]:
        assert window["seconds_in_state"] >= 0, window
    for service in body["services"]:
        assert service["longest_wait_s"] >= 0
        if service["estimate"]:
            e = service["estimate"]
            assert 0 <= e["low_s"] <= e["expected_s"] <= e["high_s"]
