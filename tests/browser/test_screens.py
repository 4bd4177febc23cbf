"""The screens in a real browser against a real daphne: a visitor takes a number, the
clerk's open console receives it without reloading and serves it, the display calls it,
the language switch, and the badge while the live connection is down."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import WebSocketRoute, expect

from queueing import services
from queueing.models import Outcome, Ticket
from tests.browser.support import live, shot
from tests.factories import national_id

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]
TV = (1920, 1080)


def pension_button(page):
    return page.get_by_role("button", name=re.compile("养老保险"))


def test_it_hands_out_a_number_at_the_kiosk(city, open_page, server_url):
    page = open_page(None, "/accounts/login/")
    shot(page, "login-zh")
    page.fill("#id_username", "kiosk1")
    page.fill("#id_password", "pw")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(f"{server_url}/halls/h1/kiosk/")
    live(page)
    shot(page, "kiosk-zh")

    good = national_id(dt.date(1950, 6, 1))
    typo = good[:-1] + ("1" if good[-1] == "0" else "0")
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    for key in typo:
        page.click(f'[data-key="{key}"]')
    expect(page.locator("#id_id_number")).to_have_value(typo)
    with page.expect_response(lambda response: "/kiosk/tickets/" in response.url) as answer:
        pension_button(page).click()
    assert answer.value.status == 422 and typo not in answer.value.text()
    expect(page.locator("#id-number-error")).to_contain_text("校验位")
    # what the visitor typed stays for them to correct, though no answer carried it
    expect(page.locator("#id_id_number")).to_have_value(typo)
    expect(page.locator("#id_id_number")).to_have_attribute("aria-invalid", "true")
    assert not [url for url in urls if typo in url]
    shot(page, "kiosk-bad-id-zh")
    page.click('[data-key="back"]')  # one key to correct the last character
    page.click(f'[data-key="{good[-1]}"]')
    expect(page.locator("#id_id_number")).to_have_value(good)
    pension_button(page).click()
    expect(page.locator("[data-ticket-number]")).to_have_text("A001")
    expect(page.locator(".ticket-ahead")).to_contain_text("前面没有人")
    expect(page.locator(".ticket-note")).to_contain_text("优先")
    shot(page, "kiosk-ticket-zh")
    page.get_by_role("button", name="完成").click()
    expect(pension_button(page)).to_contain_text("1 人等候")
    ticket = Ticket.objects.get()
    assert ticket.number == "A001" and ticket.is_elderly


def test_it_pushes_a_new_ticket_to_the_open_console_which_serves_it(city, open_page):
    console = open_page(city.bob, f"/windows/{city.w1.pk}/console/")
    display = open_page(city.kiosk1, "/halls/h1/display/", size=TV)
    kiosk = open_page(city.kiosk1, "/halls/h1/kiosk/")
    for page in (console, display, kiosk):
        live(page)
    expect(console.get_by_text("目前没有人在等候本窗口的业务")).to_be_visible()
    console.evaluate("window.sameDocument = true")

    pension_button(kiosk).click()
    expect(kiosk.locator("[data-ticket-number]")).to_have_text("A001")
    # pushed: far sooner than the 30 s poll, and without reloading the page
    expect(console.locator('[data-ticket="A001"]')).to_be_visible(timeout=5_000)
    assert console.evaluate("window.sameDocument") is True

    console.get_by_role("button", name="叫下一位").click()
    expect(console.locator("[data-current-ticket]")).to_have_text("A001")
    expect(display.locator("[data-latest-number]")).to_have_text("A001", timeout=5_000)
    expect(display.locator("[data-latest-window]")).to_have_text("W01 号窗口")
    shot(display, "display-zh")

    console.get_by_role("button", name="来访人已到，开始办理").click()
    expect(console.locator(".tag-serving")).to_have_text("办理中")
    shot(console, "console-zh")
    console.get_by_role("button", name="办结", exact=True).click()
    expect(console.get_by_text("本窗口暂无来访人")).to_be_visible()
    ticket = Ticket.objects.get(number="A001")
    assert ticket.status == Ticket.Status.COMPLETED and ticket.outcome == Outcome.DONE


@pytest.fixture
def called_at_w1(city):
    """A001 called to W01, made before the browser starts (see conftest)."""
    services.ticket_issue(hall=city.h1, service=city.pension)
    services.ticket_call_next(window=city.w1)
    return city


def test_it_does_not_replace_the_console_under_the_clerk_s_typing(called_at_w1, open_page):
    city = called_at_w1
    console = open_page(city.bob, f"/windows/{city.w1.pk}/console/")
    kiosk = open_page(city.kiosk1, "/halls/h1/kiosk/")
    live(console)
    live(kiosk)
    documents = console.locator("#missing-documents")
    documents.fill("户口簿")
    console.evaluate(
        """() => { window.pushed = new Promise(done =>
            document.addEventListener("hall:queue-changed", () => done(true), {once: true})); }"""
    )
    pension_button(kiosk).click()
    in_time = "Promise.race([window.pushed, new Promise(late => setTimeout(late, 5000, false))])"
    assert console.evaluate(in_time) is True
    # the refresh the push asked for waits while the clerk is typing...
    expect(console.locator("#console[data-stale]")).to_be_attached()
    expect(documents).to_have_value("户口簿")
    expect(console.locator('[data-ticket="A002"]')).to_have_count(0)
    # ...and happens as soon as the focus leaves the field
    console.get_by_role("heading", name="窗口办理").click()
    expect(console.locator('[data-ticket="A002"]')).to_be_visible()


def test_it_switches_the_language(city, open_page):
    page = open_page(city.bob, f"/windows/{city.w1.pk}/console/")
    expect(page.get_by_role("button", name="叫下一位")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("button", name="Call next")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Window W01"))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("button", name="叫下一位")).to_be_visible()


def test_it_shows_a_badge_while_disconnected_and_catches_up_after(city, open_page):
    link = {"up": True}
    sockets: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        if link["up"]:
            ws.connect_to_server()
            sockets.append(ws)
        else:
            ws.close()

    console = open_page(city.bob, None)
    console.route_web_socket(re.compile(r"/ws/halls/h1/queue/"), route)
    console.goto(f"/windows/{city.w1.pk}/console/")
    kiosk = open_page(city.kiosk1, "/halls/h1/kiosk/")
    live(console)
    badge = console.locator(".live-badge-down")
    expect(badge).to_be_hidden()

    link["up"] = False
    sockets[-1].close()
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("连接中断")
    shot(console, "console-reconnecting-zh")
    # a ticket taken while the console cannot hear about it
    pension_button(kiosk).click()
    expect(kiosk.locator("[data-ticket-number]")).to_have_text("A001")

    link["up"] = True
    expect(badge).to_be_hidden(timeout=10_000)
    # the console refreshes as soon as it is back, not at its next 30 s poll
    expect(console.locator('[data-ticket="A001"]')).to_be_visible(timeout=5_000)


@pytest.fixture
def busy_hall(city):
    """Hall h1 in mid-morning: seven tickets taken (one elderly visitor, one appointment),
    two of them called. Made before the browser starts (see conftest)."""
    for i in range(7):
        services.ticket_issue(
            hall=city.h1,
            service=city.social if i % 3 else city.pension,
            id_number=national_id(dt.date(1952, 1, 9)) if i == 4 else None,
            has_appointment=i == 5,
        )
    services.ticket_call_next(window=city.w2)
    services.ticket_call_next(window=city.w1)
    return city


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("zh-hans", ["各大厅概览", "选择您的窗口", "取号", "重呼", "正在叫号", "登录"]),
        (
            "en",
            [
                "Overview of your halls",
                "Choose your window",
                "Take a number",
                "Recall",
                "Now calling",
                "Log in",
            ],
        ),
    ],
)
def test_it_labels_every_page_in_the_chosen_language(busy_hall, open_page, language, labels):
    """Each page in one language, with a busy hall behind it (screenshots for people)."""
    city = busy_hall
    suffix = "zh" if language == "zh-hans" else "en"
    halls, hall, kiosk, console, display, login = labels

    page = open_page(city.dave, "/", language=language)  # the director lands on the overview
    expect(page.get_by_role("heading", name=halls)).to_be_visible()
    shot(page, f"home-director-{suffix}")
    page = open_page(city.alice, "/halls/h1/", language=language)
    expect(page.get_by_role("heading", name=hall)).to_be_visible()
    shot(page, f"hall-{suffix}")
    page = open_page(city.kiosk1, "/halls/h1/kiosk/", language=language, size=TV)
    expect(page.get_by_role("heading", name=kiosk, exact=True)).to_be_visible()
    shot(page, f"kiosk-{suffix}")
    page.get_by_role("button", name=re.compile("Pensions|养老保险")).click()
    expect(page.locator("[data-ticket-number]")).to_have_text("A004")
    shot(page, f"kiosk-ticket-{suffix}")
    page = open_page(city.bob, f"/windows/{city.w1.pk}/console/", language=language)
    expect(page.get_by_role("button", name=console, exact=True)).to_be_visible()
    shot(page, f"console-{suffix}")
    page = open_page(city.kiosk1, "/halls/h1/display/", language=language, size=TV)
    expect(page.get_by_text(display)).to_be_visible()
    shot(page, f"display-{suffix}")
    page = open_page(None, "/accounts/login/", language=language)
    expect(page.get_by_role("heading", name=login)).to_be_visible()
    shot(page, f"login-{suffix}")
