"""A clerk works at one window: its console is theirs to operate; other windows'
consoles are read-only to them (viewing allowed, acting 403 with the reason, no action
buttons offered). Managers operate every console of their hall."""

from django.urls import reverse

from queueing import services
from queueing.models import StaffRole, Ticket
from tests.conftest import login
from tests.factories import make_user

HTMX = {"HX-Request": "true", "HX-Target": "console"}


def url(window, action=None):
    name = "queueing:console" if action is None else f"queueing:console-{action}"
    return reverse(name, kwargs={"window_id": window.pk})


def post(client, window, action, data=None):
    return client.post(url(window, action), data or {}, headers=HTMX)


def test_a_clerk_cannot_act_on_another_clerk_s_window(city):
    frank = make_user("frank", (city.h1, StaffRole.Role.CLERK))
    services.window_open(window=city.w2, clerk=frank)
    ticket = services.ticket_issue(hall=city.h1, service=city.pension)
    bob = login(city.bob)

    page = bob.get(url(city.w2))
    assert page.status_code == 200  # looking is allowed
    body = page.content.decode()
    assert "data-read-only" in body and "只读" in body
    for action in ("call-next", "pause", "close", "sit"):
        assert reverse(f"queueing:console-{action}", kwargs={"window_id": city.w2.pk}) not in body

    refused = bob.post(url(city.w2, "call-next"))
    assert refused.status_code == 403
    assert "W02" in refused.content.decode() and "只读" in refused.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING
    assert post(bob, city.w2, "sit").status_code == 403  # nor may he take it over


def test_a_clerk_operates_only_the_window_they_sit_at(city):
    bob = login(city.bob)
    assert post(bob, city.w1, "sit").status_code == 200
    assert bob.get("/")["Location"] == url(city.w1)  # remembered in the session

    other = bob.get(url(city.w3)).content.decode()
    assert "您在窗口 W01 工作" in other
    assert url(city.w3, "sit") in other
    assert url(city.w3, "pause") not in other
    assert post(bob, city.w3, "pause").status_code == 403
    city.w3.refresh_from_db()
    assert city.w3.status == "open"

    assert post(bob, city.w3, "sit").status_code == 200  # he moves, on purpose
    assert post(bob, city.w3, "pause").status_code == 200
    assert post(bob, city.w1, "pause").status_code == 403
    assert url(city.w3, "open") in bob.get(url(city.w3)).content.decode()


def test_a_manager_operates_every_console_of_the_hall(city):
    services.window_open(window=city.w2, clerk=city.bob)
    alice = login(city.alice)
    assert url(city.w2, "pause") in alice.get(url(city.w2)).content.decode()
    assert post(alice, city.w2, "pause").status_code == 200


def test_the_console_shows_one_value_when_the_interval_is_degenerate(city, monkeypatch):
    from types import SimpleNamespace

    from queueing.estimation import Estimate
    from queueing.views import console

    ticket = services.ticket_issue(hall=city.h1, service=city.pension)
    fixed = {ticket.pk: Estimate(expected_s=120, low_s=120, high_s=130)}
    monkeypatch.setattr(console, "estimate_hall", lambda *a, **k: SimpleNamespace(tickets=fixed))
    body = login(city.bob).get(url(city.w1)).content.decode()
    assert "预计等候：约 2 分钟" in body and "2–2" not in body


def test_the_console_says_completing_a_called_ticket_skips_the_start(city):
    services.ticket_issue(hall=city.h1, service=city.pension)
    ticket = services.ticket_call_next(window=city.w1)
    assert ticket is not None
    bob = login(city.bob)
    assert "未点开始直接办结" in bob.get(url(city.w1)).content.decode()
    done = post(bob, city.w1, "complete", {"ticket": ticket.pk, "outcome": "done"})
    assert done.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.COMPLETED and ticket.started_at == ticket.called_at


def test_a_clerk_lands_on_the_window_they_last_worked_at(city):
    # the demo's simulator clears every window's clerk when it takes the halls over; a
    # clerk who signs in then still lands on their desk, not on a list of windows
    services.window_open(window=city.w2, clerk=city.bob)
    services.ticket_issue(hall=city.h1, service=city.pension)
    assert services.ticket_call_next(window=city.w2, actor=city.bob) is not None
    type(city.w2).objects.filter(hall=city.h1).update(clerk=None)

    bob = login(city.bob)
    assert bob.get("/")["Location"] == url(city.w2)
    page = bob.get(url(city.w2)).content.decode()
    assert "data-read-only" not in page
    assert url(city.w2, "pause") in page
