"""Windows opening, pausing, closing and their skills; the business day's end."""

import datetime as dt
import zoneinfo

import pytest

from queueing import services
from queueing.models import Ticket, Window
from queueing.services import QueueError
from tests.factories import make_service

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)


def test_it_opens_a_window_for_a_clerk_and_forgets_the_clerk_on_close(city):
    services.window_close(window=city.w2)
    window = services.window_open(window=city.w2, clerk=city.bob, at=T0)
    assert window.status == Window.Status.OPEN and window.clerk == city.bob
    assert window.status_changed_at == T0
    window = services.window_close(window=window)
    assert window.status == Window.Status.CLOSED and window.clerk is None


def test_it_keeps_the_status_time_when_the_status_does_not_change(city):
    services.window_close(window=city.w1)
    services.window_open(window=city.w1, at=T0)
    window = services.window_open(window=city.w1, at=T0 + dt.timedelta(hours=1))
    assert window.status_changed_at == T0


def test_it_refuses_to_close_a_window_that_holds_a_ticket(city):
    services.ticket_issue(hall=city.h1, service=city.pension)
    services.ticket_call_next(window=city.w2)
    with pytest.raises(QueueError, match="A001"):
        services.window_close(window=city.w2)
    assert Window.objects.get(pk=city.w2.pk).status == Window.Status.OPEN


def test_it_lets_a_paused_window_finish_its_ticket(city):
    ticket = services.ticket_issue(hall=city.h1, service=city.pension)
    services.ticket_call_next(window=city.w2)
    services.window_pause(window=city.w2)
    services.ticket_start(ticket=ticket)
    ticket = services.ticket_complete(ticket=ticket, outcome="done")
    assert ticket.status == Ticket.Status.COMPLETED


def test_it_rejects_an_unknown_status(city):
    with pytest.raises(QueueError) as exc:
        services.window_set_status(window=city.w1, status="broken")
    assert exc.value.field == "status"


def test_it_changes_skills_only_to_services_the_hall_offers(city):
    window = services.window_set_skills(window=city.w2, services=[city.social])
    assert list(window.skills.all()) == [city.social]
    with pytest.raises(QueueError) as exc:
        services.window_set_skills(window=city.w2, services=[city.social, make_service("K")])
    assert exc.value.field == "skills" and "K" in exc.value.message
    with pytest.raises(QueueError):
        services.window_set_skills(window=city.w2, services=[])
    assert list(Window.objects.get(pk=city.w2.pk).skills.all()) == [city.social]


def test_it_closes_the_open_tickets_of_a_finished_day_with_a_reason(city):
    yesterday = T0 - dt.timedelta(days=1)
    waiting = services.ticket_issue(hall=city.h1, service=city.pension, at=yesterday)
    serving = services.ticket_issue(hall=city.h1, service=city.pension, at=yesterday)
    done = services.ticket_issue(hall=city.h1, service=city.social, at=yesterday)
    services.ticket_call(ticket=serving, window=city.w2, at=yesterday)
    services.ticket_call(ticket=done, window=city.w1, at=yesterday)
    services.ticket_complete(ticket=done, outcome="done", at=yesterday)
    today = services.ticket_issue(hall=city.h1, service=city.pension, at=T0)

    closed = services.close_finished_days(at=T0)

    assert closed == {"h1": 2}
    for ticket in (waiting, serving):
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.CANCELLED
        assert ticket.end_reason == "business day closed"
        assert ticket.events.filter(kind="cancelled").count() == 1
    assert Ticket.objects.get(pk=done.pk).status == Ticket.Status.COMPLETED
    assert Ticket.objects.get(pk=today.pk).status == Ticket.Status.WAITING
    # the window that was serving is free again
    assert not Ticket.objects.current().filter(window=city.w2).exists()
    assert services.close_finished_days(at=T0) == {}


def test_it_closes_today_once_the_hall_has_closed(city):
    ticket = services.ticket_issue(hall=city.h1, service=city.pension, at=T0)
    assert services.close_finished_days(at=T0.replace(hour=16, minute=59)) == {}
    assert services.close_finished_days(at=T0.replace(hour=17, minute=1)) == {"h1": 1}
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CANCELLED
    assert Ticket.objects.count() == 1  # nothing deleted
