"""The ticket machine page: who may use it, what a visitor sees, and what it refuses."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from queueing import services
from queueing.models import Ticket, Visitor
from tests.conftest import login
from tests.factories import make_service, national_id

KIOSK = "/halls/h1/kiosk/"
ISSUE = "/halls/h1/kiosk/tickets/"
HTMX = {"HX-Request": "true", "HX-Target": "kiosk-main"}


def issue(city, service=None, **kw):
    return services.ticket_issue(hall=city.h1, service=service or city.pension, **kw)


def test_it_names_its_routes():
    assert reverse("queueing:kiosk", kwargs={"code": "h1"}) == KIOSK
    assert reverse("queueing:kiosk-issue", kwargs={"code": "h1"}) == ISSUE


def test_it_sends_anonymous_visitors_to_login(city):
    for response in (Client().get(KIOSK), Client().post(ISSUE, {"service": "pension"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("who", ["eve", "bob", "carol", "dave"])
def test_it_refuses_staff_without_a_kiosk_role_at_the_hall(city, who):
    client = login(getattr(city, who))
    assert client.get(KIOSK).status_code == 403
    assert client.post(ISSUE, {"service": "pension"}).status_code == 403
    assert not Ticket.objects.exists()


def test_it_answers_404_for_an_unknown_hall(city):
    assert login(city.kiosk1).get("/halls/nowhere/kiosk/").status_code == 404


def test_it_offers_a_button_per_service_with_its_waiting_count(city):
    issue(city)
    issue(city)
    response = login(city.kiosk1).get(KIOSK)
    assert response.status_code == 200
    body = response.content.decode()
    assert "养老保险" in body and "社会保险" in body
    assert 'name="service" value="pension"' in body
    assert "2 人等候" in body
    assert 'autocomplete="off"' in body


def test_it_lets_a_manager_use_the_kiosk(city):
    assert login(city.alice).get(KIOSK).status_code == 200


def test_it_hands_out_a_number_and_says_how_many_are_ahead(city):
    issue(city)
    response = login(city.kiosk1).post(ISSUE, {"service": "pension"}, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "A002" in body
    assert "前面还有 1 人" in body
    assert "<html" not in body  # only the fragment htmx swaps in
    ticket = Ticket.objects.get(number="A002")
    assert ticket.status == Ticket.Status.WAITING
    assert ticket.service == city.pension


def test_it_shows_the_ticket_on_a_full_page_without_htmx(city):
    response = login(city.kiosk1).post(ISSUE, {"service": "social"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and "B001" in body
    assert "前面没有人" in body


def test_it_tells_an_elderly_visitor_about_priority_without_echoing_the_number(city):
    number = national_id(dt.date(1950, 3, 1))
    response = login(city.kiosk1).post(
        ISSUE, {"service": "pension", "id_number": number}, headers=HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "优先" in body
    assert number not in body
    ticket = Ticket.objects.get()
    assert ticket.is_elderly
    assert ticket.visitor is not None and ticket.visitor.masked_id != number


def test_it_records_disabled_and_appointment_flags(city):
    login(city.kiosk1).post(
        ISSUE, {"service": "pension", "is_disabled": "on", "has_appointment": "on"}, headers=HTMX
    )
    ticket = Ticket.objects.get()
    assert ticket.is_disabled and ticket.has_appointment


def test_it_refuses_a_bad_id_number_with_the_reason_and_without_echoing_it(city):
    good = national_id(dt.date(1980, 5, 17))
    typo = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = login(city.kiosk1).post(
        ISSUE, {"service": "pension", "id_number": typo, "is_disabled": "on"}, headers=HTMX
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "校验位" in body  # the check character does not match
    assert typo not in body
    assert typo[:14] not in body  # not even the start of it
    assert 'aria-invalid="true"' in body
    assert "checked" in body  # the other answers are kept
    assert not Ticket.objects.exists()
    assert not Visitor.objects.exists()


def test_it_marks_the_id_number_as_sensitive_for_error_reports(city):
    response = login(city.kiosk1).post(ISSUE, {"service": "pension", "id_number": "123"})
    assert response.status_code == 422
    assert getattr(response.wsgi_request, "sensitive_post_parameters", None) == ("id_number",)


def test_it_refuses_an_unknown_service(city):
    response = login(city.kiosk1).post(ISSUE, {"service": "nonsense"}, headers=HTMX)
    assert response.status_code == 422
    assert "未知的业务" in response.content.decode()
    assert not Ticket.objects.exists()


def test_it_refuses_a_service_the_hall_does_not_offer(city):
    make_service("C", code="medical", name_zh="医疗保险", name_en="Medical insurance")
    response = login(city.kiosk1).post(ISSUE, {"service": "medical"}, headers=HTMX)
    assert response.status_code == 422
    assert "本大厅不办理" in response.content.decode()
    assert not Ticket.objects.exists()


def test_it_refreshes_only_the_service_buttons_for_a_push(city):
    issue(city)
    response = login(city.kiosk1).get(
        KIOSK, headers={"HX-Request": "true", "HX-Target": "kiosk-services"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="kiosk-services"')
    assert "1 人等候" in body
    assert "id_number" not in body


def test_it_goes_back_to_the_start_after_a_ticket(city):
    login(city.kiosk1).post(ISSUE, {"service": "pension"}, headers=HTMX)
    response = login(city.kiosk1).get(KIOSK, headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="kiosk-main"')
    assert 'name="id_number"' in body


def test_it_serves_the_page_in_english(city):
    client = login(city.kiosk1)
    client.cookies["django_language"] = "en"
    body = client.get(KIOSK).content.decode()
    assert "Take a number" in body and "Pensions" in body and "First Hall" in body


def _place(city) -> None:
    for hall, lat in ((city.h1, "22.5"), (city.h2, "22.6")):  # 11 km apart
        hall.latitude, hall.longitude = Decimal(lat), Decimal("114.0")
        hall.save(update_fields=["latitude", "longitude"])


@pytest.fixture
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_it_renders_the_kiosk_in_a_fixed_number_of_queries(city, fresh_cache):
    """With a neighbour to estimate: its estimate is cached for 30 s, so a render costs
    the same for 5 waiting tickets as for 50, and no simulation of the other hall."""
    _place(city)
    client = login(city.kiosk1)
    counts = []
    for waiting in (5, 50):
        while Ticket.objects.filter(hall=city.h1).count() < waiting:
            issue(city)
        client.get(KIOSK)  # fills the neighbour's cache entry
        with CaptureQueriesContext(connection) as queries:
            response = client.get(KIOSK)
        assert f"{waiting} 人等候" in response.content.decode()
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 14  # 9 before estimates; +3 the hall, +2 neighbours


def test_it_says_the_expected_wait_on_each_service_button(city, fresh_cache):
    for _ in range(20):
        issue(city)
    body = login(city.kiosk1).get(KIOSK).content.decode()
    pension = body.split('value="pension"')[1].split("</button>")[0]
    assert re.search(r"约需等候 \d+ 分钟", pension)


def test_it_names_a_much_quicker_nearby_hall_on_the_button_and_the_ticket(city, fresh_cache):
    _place(city)
    for _ in range(40):
        issue(city)
    client = login(city.kiosk1)
    client.cookies["django_language"] = "en"
    body = client.get(KIOSK).content.decode()
    pension = body.split('value="pension"')[1].split("</button>")[0]
    assert 'data-nearby="h2"' in pension
    assert re.search(r"Second Hall: (about [1-9]\d* min|no wait now), 11 km away", pension)
    ticket = client.post(ISSUE, {"service": "pension"}, headers=HTMX).content.decode()
    quicker = r"Quicker nearby: Second Hall, (about [1-9]\d* min|no wait now), 11 km away\."
    assert re.search(quicker, ticket)


def test_an_empty_nearby_hall_reads_no_wait_not_about_0_min(city, fresh_cache):
    """The demo's kiosk said "南山区人社服务大厅：约 0 分钟，距此 13 公里": an empty neighbour has
    no wait; "about 0 min" reads as a broken estimate (the hall's own line hides 0)."""
    _place(city)
    for _ in range(40):
        issue(city)
    client = login(city.kiosk1)
    body = client.get(KIOSK).content.decode()
    pension = body.split('value="pension"')[1].split("</button>")[0]
    assert 'data-nearby="h2"' in pension
    assert "约 0 分钟" not in pension
    assert "现在无需等候，距此 11 公里" in pension
    client.cookies["django_language"] = "en"
    ticket = client.post(ISSUE, {"service": "pension"}, headers=HTMX).content.decode()
    assert "about 0 min" not in ticket
    assert "Quicker nearby: Second Hall, no wait now, 11 km away." in ticket


def test_it_names_no_other_hall_when_the_wait_here_is_short(city, fresh_cache):
    _place(city)
    client = login(city.kiosk1)
    assert "data-nearby" not in client.get(KIOSK).content.decode()
    assert "data-nearby" not in client.post(ISSUE, {"service": "pension"}).content.decode()


def test_it_labels_the_id_number_box_once(city):
    body = login(city.kiosk1).get(KIOSK).content.decode()
    assert body.count("身份证号（选填）") == 1
    assert "选填（请在点选业务前填写）" not in body  # the second label saying the same
    assert "请在点选业务前输入" in body  # when to fill it in, as a hint


def test_it_keeps_the_typed_id_number_in_the_browser_not_in_the_answer(city):
    """The box is preserved by htmx across the error answer: the visitor keeps what they
    typed, and the answer (which a cache or a log could keep) never carries it."""
    good = national_id(dt.date(1980, 5, 17))
    typo = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = login(city.kiosk1).post(
        ISSUE, {"service": "pension", "id_number": typo}, headers=HTMX
    )
    body = response.content.decode()
    assert response.status_code == 422 and typo not in body
    assert re.search(r'<input[^>]*name="id_number"[^>]*hx-preserve="true"', body)
    assert 'id="id_id_number"' in body  # hx-preserve pairs the boxes by id
    assert "no-store" in response["Cache-Control"]


def test_it_prints_a_slip_with_the_ticket(city):
    issue(city)
    response = login(city.kiosk1).post(ISSUE, {"service": "pension"}, headers=HTMX)
    body = response.content.decode()
    slip = body[body.index("data-ticket-slip") :]
    ticket = Ticket.objects.get(number="A002")
    issued = ticket.issued_at.astimezone(city.h1.tz)
    for text in ("第一服务大厅", "A002", "养老保险", "前面还有 1 人", "取号时间"):
        assert text in slip, text
    assert f"{issued:%H:%M}" in slip
    assert "打印号票" in body and "css/slip.css" not in body  # the sheet is in the page head
    page = login(city.kiosk1).get(KIOSK).content.decode()
    assert 'href="/static/css/slip.css" media="print"' in page
