"""The calling display: the newest call large, earlier calls, waiting counts."""

import re
import time

import pytest
from django.test import Client

from queueing import services
from tests.conftest import login

DISPLAY = "/halls/h1/display/"


def issue(city, service=None):
    return services.ticket_issue(hall=city.h1, service=service or city.pension)


def test_it_sends_anonymous_visitors_to_login(city):
    response = Client().get(DISPLAY)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["eve", "dave"])
def test_it_refuses_those_without_a_display_role_at_the_hall(city, who):
    assert login(getattr(city, who)).get(DISPLAY).status_code == 403


@pytest.mark.parametrize("who", ["kiosk1", "bob", "carol", "alice"])
def test_it_shows_the_display_to_the_hall_s_staff_and_devices(city, who):
    assert login(getattr(city, who)).get(DISPLAY).status_code == 200


def test_it_explains_itself_before_the_first_call(city):
    body = login(city.kiosk1).get(DISPLAY).content.decode()
    assert "今天还没有叫号" in body


def test_it_shows_the_newest_call_large_with_its_window(city):
    first, second = issue(city), issue(city, city.social)
    services.ticket_call_next(window=city.w2)
    services.ticket_call(ticket=second, window=city.w1)
    body = login(city.kiosk1).get(DISPLAY).content.decode()
    latest = body[body.index("data-latest-number") :]
    assert latest.split(">", 1)[1].startswith("B001")
    assert "W01 号窗口" in body
    assert first.number in body and "W02 号窗口" in body
    assert "社会保险" in body


def test_it_shows_a_recalled_number_once(city):
    ticket = issue(city)
    services.ticket_call_next(window=city.w1)
    services.ticket_recall(ticket=ticket)
    body = login(city.kiosk1).get(DISPLAY).content.decode()
    assert body.count(">A001<") == 1
    assert "再次呼叫" in body


def test_it_shows_waiting_counts_per_service(city):
    issue(city)
    issue(city)
    issue(city, city.social)
    body = login(city.kiosk1).get(DISPLAY).content.decode()
    assert "2 人等候" in body and "1 人等候" in body


def test_it_says_window_in_english(city):
    issue(city)
    services.ticket_call_next(window=city.w1)
    client = login(city.kiosk1)
    client.cookies["django_language"] = "en"
    body = client.get(DISPLAY).content.decode()
    assert "Window W01" in body and "Now calling" in body


def test_it_refreshes_only_the_board_for_a_push(city):
    response = login(city.kiosk1).get(
        DISPLAY, headers={"HX-Request": "true", "HX-Target": "display-board"}
    )
    assert response.content.decode().lstrip().startswith('<div id="display-board"')


@pytest.mark.parametrize("tickets", [5, 50])
def test_it_renders_the_display_in_a_fixed_number_of_queries(
    city, tickets, django_assert_max_num_queries
):
    for _ in range(tickets):
        issue(city)
    for window in (city.w1, city.w2, city.w3):
        services.ticket_call_next(window=window)
    client = login(city.kiosk1)
    with django_assert_max_num_queries(10):
        response = client.get(DISPLAY)
    assert "A003" in response.content.decode()


def test_it_gives_its_clock_the_hall_s_zone_and_the_server_s_time(city):
    """The browser shows the hall's time, not the device's (live.js reads these)."""
    body = login(city.kiosk1).get(DISPLAY).content.decode()
    match = re.search(
        r'<time class="clock" data-clock data-clock-zone="([^"]+)" data-clock-now="(\d+)">'
        r"([0-9:]+)<",
        body,
    )
    assert match, "no hall clock"
    assert match.group(1) == city.h1.timezone
    assert abs(int(match.group(2)) - time.time()) < 5
    assert match.group(3) == f"{city.h1.local_now():%H:%M}"
