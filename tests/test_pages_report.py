"""The weekly report: who may read it, the week it shows, its figures against a week
made by hand, the CSV download, bad weeks refused with the field, and a fixed number
of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hall_ops.views.report import iso_week
from queueing.models import Ticket
from tests.conftest import login

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
REPORT = "/halls/h1/report/"
WEEK = "2026-W46"  # Monday 9 to Sunday 15 November 2026
MONDAY = dt.date(2026, 11, 9)


pytestmark = pytest.mark.usefixtures("fresh_cache")


def english(user) -> Client:
    client = login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def ticket(
    city,
    service,
    *,
    day: dt.date,
    at: dt.time,
    wait_min: float | None,
    status: str = Ticket.Status.COMPLETED,
    quote_min: tuple[int, int, int] | None = None,
) -> Ticket:
    issued = dt.datetime.combine(day, at, tzinfo=SH)
    called = issued + dt.timedelta(minutes=wait_min) if wait_min is not None else None
    n = Ticket.objects.filter(hall=city.h1, business_date=day).count() + 1
    return Ticket.objects.create(
        hall=city.h1,
        service=service,
        business_date=day,
        number=f"{service.prefix}{n:03d}",
        status=status,
        issued_at=issued,
        queue_key=issued,
        window=city.w1 if called else None,
        called_at=called,
        ended_at=(called or issued) + dt.timedelta(minutes=5),
        quoted_wait_s=quote_min[0] * 60 if quote_min else None,
        quoted_low_s=quote_min[1] * 60 if quote_min else None,
        quoted_high_s=quote_min[2] * 60 if quote_min else None,
    )


@pytest.fixture
def week(city):
    """Pensions (target 20 min): completed after 5, 10, 15, 25 and 40 minutes, each quoted
    10 (5-20); a no-show called after 20; one cancelled before any call. Social
    insurance: one completed after 3 minutes. Tuesday 10:00 is the busiest hour."""
    tuesday = MONDAY + dt.timedelta(days=1)
    for i, wait in enumerate((5, 10, 15, 25, 40)):
        ticket(
            city, city.pension, day=tuesday, at=dt.time(10, i), wait_min=wait, quote_min=(10, 5, 20)
        )
    ticket(city, city.pension, day=tuesday, at=dt.time(10, 30), wait_min=20, status="no_show")
    ticket(city, city.pension, day=MONDAY, at=dt.time(9, 5), wait_min=None, status="cancelled")
    ticket(city, city.social, day=MONDAY + dt.timedelta(days=4), at=dt.time(15, 0), wait_min=3)
    # the week after does not count
    ticket(city, city.pension, day=MONDAY + dt.timedelta(days=7), at=dt.time(9), wait_min=90)
    return city


def figures(html: str, prefix: str) -> dict[str, str]:
    row = html.split(f'data-report-service="{prefix}"')[1].split("</tr>")[0]
    out = {}
    for part in row.split('data-figure="')[1:]:
        name, rest = part.split('">', 1)
        out[name] = rest.split("</td>")[0].strip()
    return out


# --------------------------------------------------------------------------- access


def test_it_sends_anonymous_users_to_login(city):
    response = Client().get(REPORT)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["bob", "carol", "kiosk1", "eve"])
def test_it_refuses_clerks_floor_staff_kiosks_and_other_halls(city, who):
    assert login(getattr(city, who)).get(REPORT).status_code == 403


def test_it_answers_404_for_an_unknown_hall(city):
    assert login(city.alice).get("/halls/nowhere/report/").status_code == 404


@pytest.mark.parametrize("who", ["alice", "dave"])
def test_it_shows_managers_and_directors_the_report(city, who):
    assert login(getattr(city, who)).get(REPORT).status_code == 200


def test_the_overview_links_each_hall_s_report(city):
    html = login(city.dave).get("/overview/").content.decode()
    assert 'href="/halls/h1/report/"' in html and 'href="/halls/h2/report/"' in html


# --------------------------------------------------------------------------- the week


def test_it_shows_the_last_full_week_by_default(city):
    today = city.h1.business_date()
    last_monday = today - dt.timedelta(days=today.weekday() + 7)
    html = login(city.alice).get(REPORT).content.decode()
    assert f'data-week="{iso_week(last_monday)}"' in html
    assert 'rel="next"' in html  # the current week has started


@pytest.mark.parametrize(
    ("week", "reason"),
    [
        ("2026-47", "Give the week as YYYY-Www"),
        ("2026-W54", "That year has no such week."),
        ("2999-W01", "That week has not started yet."),
        ("<script>", "Give the week as YYYY-Www"),
    ],
)
def test_it_refuses_a_bad_week_with_the_field_and_reason(city, week, reason):
    response = english(city.alice).get(REPORT, {"week": week})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-error-field="week"' in html and reason in html
    assert "<script>" not in html.split("<main", 1)[1].split("</main>")[0]


def test_it_counts_the_week_s_tickets_waits_and_quotes(week):
    html = english(week.alice).get(REPORT, {"week": WEEK}).content.decode()
    assert "Week 2026-W46, 2026-11-09 to 2026-11-15" in html
    pension = figures(html, "A")
    assert pension == {
        "issued": "7",
        "served": "5",
        "no_shows": "1",
        "mean_wait": "19 min",  # (5 + 10 + 15 + 20 + 25 + 40) / 6 = 19.2
        "p90_wait": "40 min",  # nearest rank: the 6th of 6
        "past_target": "33 %",  # 25 and 40 of six waits past 20
        "quote_mae": "11 min",  # |5-10| + 0 + 5 + 15 + 30 over five quotes
        "inside_quote": "60 %",  # 5, 10 and 15 inside 5-20
    }
    social = figures(html, "B")
    assert (social["issued"], social["mean_wait"], social["past_target"]) == ("1", "3 min", "0 %")
    assert social["quote_mae"] == "—"
    total = figures(html, "total")
    assert (total["issued"], total["served"], total["past_target"]) == ("8", "6", "29 %")
    assert 'data-busiest="2026-11-10T10"' in html and "Tuesday 10:00: 6 tickets" in html


def test_it_says_so_for_a_week_without_tickets(city):
    html = english(city.alice).get(REPORT, {"week": "2026-W10"}).content.decode()
    assert "No tickets were issued at this hall in that week." in html
    assert "No arrivals that week." in html


def test_it_downloads_the_service_table_as_csv(week):
    response = login(week.alice).get(REPORT, {"week": WEEK, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="h1-2026-W46.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["service"] for r in rows] == ["A", "B", "total"]
    assert rows[0]["mean_wait_min"] == "19.2" and rows[0]["p90_wait_min"] == "40.0"
    assert rows[0]["share_past_target"] == "0.333" and rows[0]["share_inside_quote"] == "0.600"
    assert rows[0]["quote_mae_min"] == "11.0" and rows[2]["issued"] == "8"


def test_it_includes_next_week_s_staffing_advice(week):
    html = english(week.alice).get(REPORT, {"week": WEEK}).content.decode()
    today = week.h1.business_date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    assert f"Staffing advice for next week (from {monday:%Y-%m-%d})" in html
    assert "data-staffing-plan" in html


def test_it_prints_without_the_navigation(city):
    html = login(city.alice).get(REPORT).content.decode()
    assert '<style media="print">' in html and 'class="button-row no-print"' in html


def test_it_speaks_chinese_by_default(week):
    html = login(week.alice).get(REPORT, {"week": WEEK}).content.decode()
    assert "养老保险" in html


def test_it_renders_in_a_fixed_number_of_queries(week):
    client = login(week.alice)
    client.get(REPORT, {"week": WEEK})  # learns the hall model and the staffing history

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(REPORT, {"week": WEEK}).status_code == 200
        return len(queries)

    small = count()
    for i in range(60):
        ticket(
            week,
            week.social,
            day=MONDAY + dt.timedelta(days=i % 7),
            at=dt.time(11, i % 60),
            wait_min=i % 30,
        )
    assert Ticket.objects.filter(hall=week.h1).count() > 60
    assert count() == small <= 10
