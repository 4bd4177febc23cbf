"""The operations screens in a real browser against a real daphne: an elderly visitor's
ticket issued through the API reaches the open floor tablet without a reload, a tap
takes it, and the manager's open board shows who took it; a window paused and closed
from the board; the alert feed's badge while its socket is down, and the catch-up
after it returns."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from hall_ops.models import Alert
from queueing.models import Window
from tests.api_support import token_client
from tests.browser.support import live, shot
from tests.factories import national_id

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def alerts_live(page: Page) -> None:
    """Wait until the page's alert socket is open (and has asked what it missed)."""
    page.wait_for_selector('body[data-ops-state="up"]', state="attached", timeout=10_000)


def api_issue(server_url: str, key: str, **body: Any) -> dict[str, Any]:
    """Take a ticket through the API of the running server, as an external queue system
    does: the push then starts in the server, whatever channel layer the test uses."""
    request = urllib.request.Request(
        f"{server_url}/api/v1/halls/h1/tickets",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return dict(json.loads(response.read()))


def test_it_pushes_an_elderly_alert_to_the_tablet_and_the_board_shows_who_took_it(
    city, open_page, server_url
):
    api = token_client(city.h1)
    tablet = open_page(city.carol, "/halls/h1/tablet/", size=(1024, 768))
    board = open_page(city.alice, "/halls/h1/board/")
    for page in (tablet, board):
        live(page)
        alerts_live(page)
    expect(tablet.get_by_text("暂无未关闭的提醒")).to_be_visible()
    tablet.evaluate("window.sameDocument = true")
    tablet.get_by_role("button", name="点击开启提示音").click()
    expect(tablet.get_by_role("button", name="提示音已开启")).to_be_visible()

    seventy = national_id(dt.date(1956, 1, 1))
    ticket = api_issue(server_url, api.key, service="A", id_number=seventy)
    alert = tablet.locator(".alert-item", has_text=ticket["number"])
    # pushed: far sooner than the 60 s safety refresh, and without reloading the page
    expect(alert).to_be_visible(timeout=5_000)
    expect(alert).to_contain_text("老年人来访")
    expect(alert).to_contain_text("70 岁")
    assert tablet.evaluate("window.sameDocument") is True
    expect(tablet.locator("body")).to_have_attribute("data-beeps", "1")
    expect(tablet.locator('[data-greet-ticket="A001"]')).to_be_visible()
    assert seventy not in tablet.content()
    shot(tablet, "tablet-alert-zh")

    alert.get_by_role("button", name="我来处理").click()
    expect(alert.locator("[data-alert-handler]")).to_contain_text("carol 正在处理")
    row = Alert.objects.get(kind=Alert.Kind.ELDERLY)
    assert row.state == Alert.State.ACKNOWLEDGED and row.acknowledged_by == city.carol

    on_board = board.locator(f'[data-alert-id="{row.pk}"]')
    expect(on_board).to_have_attribute("data-alert-state", "acknowledged", timeout=5_000)
    expect(on_board.locator("[data-alert-handler]")).to_contain_text("carol 正在处理")
    shot(board, "board-acknowledged-zh")

    # the director's overview counts it, live over each hall's two sockets
    overview = open_page(city.dave, "/overview/")
    alerts_live(overview)
    expect(overview.locator('#hall-h1 [data-figure="waiting"]')).to_have_text("1")
    expect(overview.locator('#hall-h1 [data-severity="2"]')).to_contain_text("1")
    api_issue(server_url, api.key, service="B")
    expect(overview.locator('#hall-h1 [data-figure="waiting"]')).to_have_text("2", timeout=5_000)
    shot(overview, "overview-zh")


def test_it_pauses_and_closes_a_window_from_the_board(city, open_page, server_url):
    board = open_page(city.alice, None)
    hosts: set[str] = set()
    board.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    board.goto("/halls/h1/board/")
    live(board)
    # the chart is drawn by the plotly.js the app serves itself
    expect(board.locator("#arrivals-chart .main-svg").first).to_be_attached(timeout=10_000)
    row = board.locator('tr[data-window="W02"]')
    row.get_by_role("button", name="暂停").click()
    status = row.locator("[data-window-status]")
    expect(status).to_have_attribute("data-window-status", "paused")
    assert Window.objects.get(pk=city.w2.pk).status == Window.Status.PAUSED

    board.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="关闭").click()
    expect(status).to_have_attribute("data-window-status", "closed")
    assert Window.objects.get(pk=city.w2.pk).status == Window.Status.CLOSED
    assert hosts == {server_url.split("/")[2]}
    shot(board, "board-zh")


def test_it_shows_a_badge_while_the_alert_socket_is_down_and_catches_up_after(
    city, open_page, server_url
):
    api = token_client(city.h1)
    link = {"up": True}
    sockets: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        if link["up"]:
            ws.connect_to_server()
            sockets.append(ws)
        else:
            ws.close()

    tablet = open_page(city.carol, None)
    tablet.route_web_socket(re.compile(r"/ws/halls/h1/alerts/"), route)
    tablet.goto("/halls/h1/tablet/")
    alerts_live(tablet)
    badge = tablet.locator(".live-badge-down")
    expect(badge).to_be_hidden()

    link["up"] = False
    sockets[-1].close()
    expect(badge).to_be_visible()
    # an alert raised while the tablet cannot hear about it
    ticket = api_issue(server_url, api.key, service="A", id_number=national_id(dt.date(1950, 5, 5)))
    assert Alert.objects.filter(kind=Alert.Kind.ELDERLY).exists()

    link["up"] = True
    expect(badge).to_be_hidden(timeout=10_000)
    # fetched with "everything since my last sequence number", not at the next refresh
    expect(tablet.locator(".alert-item", has_text=ticket["number"])).to_be_visible(timeout=5_000)
