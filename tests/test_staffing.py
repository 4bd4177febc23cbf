"""Staffing advice: the hour-of-week forecast against a made history, Erlang C against
values computed by hand, and the advice a manager reads."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import zoneinfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from queueing.estimation.staffing import (
    DECAY,
    erlang_c,
    forecast_arrivals,
    next_week_plan,
    share_past_target,
    today_plan,
    week_weights,
    windows_needed,
)
from queueing.models import Hall, Service, Ticket, Window
from tests.factories import make_hall, make_service, make_window, offer

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 8, 30, tzinfo=SH)  # before opening on a Monday
_numbers = itertools.count(1)


pytestmark = pytest.mark.usefixtures("fresh_cache")


def made_history(
    hall: Hall,
    service: Service,
    day: dt.date,
    hour: int,
    n: int,
    *,
    window: Window | None = None,
    service_s: float = 360.0,
) -> None:
    """`n` tickets issued evenly in one local hour; with `window`, each called a minute
    later there and completed after `service_s`."""
    rows = []
    for i in range(n):
        issued = dt.datetime.combine(day, dt.time(hour), tzinfo=SH) + dt.timedelta(
            seconds=i * 3600 / max(n, 1)
        )
        called = issued + dt.timedelta(minutes=1) if window else None
        rows.append(
            Ticket(
                hall=hall,
                service=service,
                business_date=day,
                number=f"{service.prefix}{next(_numbers):05d}",
                status=Ticket.Status.COMPLETED if window else Ticket.Status.CANCELLED,
                issued_at=issued,
                queue_key=issued,
                window=window,
                called_at=called,
                ended_at=called + dt.timedelta(seconds=service_s) if called else issued,
            )
        )
    Ticket.objects.bulk_create(rows)


# --------------------------------------------------------------------------- Erlang C


def test_it_computes_erlang_c_as_by_hand():
    # M/M/1 at load 0.5 waits half the time; M/M/2 at 1 erlang a third of the time
    assert erlang_c(1, 0.5) == pytest.approx(0.5)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # B(4,3) by the recursion: .75, .5294, .3462, .2061; C = 4B / (4 - 3(1 - B))
    assert erlang_c(4, 3.0) == pytest.approx(0.5094, abs=1e-4)
    # the textbook table: 10 agents, 8 erlangs
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=1e-4)
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(3, 0.0) == 0.0


def test_it_finds_the_fewest_windows_that_keep_the_share_past_target_under_20_percent():
    rate, mean = 30 / 3600, 360.0  # 30 visitors an hour, 6 minutes each: 3 erlangs
    # target 10 min: 4 windows -> C(4,3) e^(-600/360) = .5094 x .1889 = .096
    assert share_past_target(4, rate, mean, 600) == pytest.approx(0.0962, abs=1e-3)
    assert windows_needed([(rate, 600.0)], mean) == 4
    # target 2 min: 4 windows -> .5094 x e^(-1/3) = .365, too many; 5 -> .2362 x e^(-2/3) = .121
    assert share_past_target(4, rate, mean, 120) == pytest.approx(0.365, abs=1e-3)
    assert share_past_target(5, rate, mean, 120) == pytest.approx(0.1213, abs=1e-3)
    assert windows_needed([(rate, 120.0)], mean) == 5
    assert windows_needed([(0.0, 600.0)], mean) == 0
    # two services pooled: the strict one's share counts by its arrivals
    pooled = windows_needed([(rate / 2, 120.0), (rate / 2, 3600.0)], mean)
    assert 4 <= pooled <= 5


# --------------------------------------------------------------------------- forecast


@pytest.fixture
def pensions(db) -> tuple[Hall, Service]:
    hall = make_hall("ph", opens_at=dt.time(9), closes_at=dt.time(17))
    service = make_service("P", code="pensions", name_en="Pensions", target_wait_min=20)
    offer(hall, service)
    return hall, service


def test_it_forecasts_a_steady_weekly_pattern(pensions):
    hall, pension = pensions
    rng = random.Random(6)
    for k in range(1, 9):
        day = MONDAY - dt.timedelta(weeks=k)
        made_history(hall, pension, day, 10, 40 + rng.randint(-4, 4))
        made_history(hall, pension, day, 15, 6)
        # another weekday does not leak into Monday's profile
        made_history(hall, pension, day + dt.timedelta(days=1), 10, 90)
    forecast = forecast_arrivals(hall, days=[MONDAY], at=NOW)
    assert forecast.at(MONDAY, 10)[pension.pk] == pytest.approx(40, abs=4)
    assert forecast.at(MONDAY, 15)[pension.pk] == pytest.approx(6)
    assert forecast.at(MONDAY, 12) == {}
    assert forecast.weights == week_weights() and forecast.weights[:3] == [1, DECAY, DECAY**2]


def test_it_weighs_recent_weeks_more(pensions):
    hall, pension = pensions
    for k in range(1, 5):
        made_history(hall, pension, MONDAY - dt.timedelta(weeks=k), 10, 20 if k == 1 else 10)
    got = forecast_arrivals(hall, days=[MONDAY], at=NOW).at(MONDAY, 10)[pension.pk]
    w = [DECAY**i for i in range(4)]
    assert got == pytest.approx((20 * w[0] + 10 * sum(w[1:])) / sum(w))
    assert got > (20 + 10 * 3) / 4  # more than the plain mean of 12.5


def test_it_ignores_weeks_before_the_hall_s_first_ticket_and_today_so_far(pensions):
    hall, pension = pensions
    for k in (1, 2):
        made_history(hall, pension, MONDAY - dt.timedelta(weeks=k), 10, 10)
    # this morning's tickets are a partial day: they do not count for today
    made_history(hall, pension, MONDAY, 8, 50)
    forecast = forecast_arrivals(hall, days=[MONDAY], at=NOW)
    assert forecast.at(MONDAY, 10)[pension.pk] == pytest.approx(10)
    assert forecast.at(MONDAY, 8) == {}


def test_it_forecasts_nothing_without_history(pensions):
    hall, _pension = pensions
    assert forecast_arrivals(hall, days=[MONDAY], at=NOW).arrivals == {}
    plan = today_plan(hall, at=NOW)
    assert not plan.has_history and plan.changes == []


# --------------------------------------------------------------------------- advice


@pytest.fixture
def staffed(pensions):
    """Six pension windows, two open now; eight Mondays of 40 visitors at 10:00 and 2 at
    15:00, each 6 minutes at window P1."""
    hall, pension = pensions
    windows = [
        make_window(hall, f"P{i}", [pension], status="open" if i <= 2 else "closed")
        for i in range(1, 7)
    ]
    for k in range(1, 9):
        day = MONDAY - dt.timedelta(weeks=k)
        made_history(hall, pension, day, 10, 40, window=windows[0])
        made_history(hall, pension, day, 15, 2, window=windows[0])
    return hall, pension, windows


def test_it_advises_opening_windows_for_a_busy_hour_and_closing_one_in_a_quiet_one(staffed):
    hall, _pension, _windows = staffed
    plan = today_plan(hall, at=NOW)
    assert [h.start.hour for h in plan.hours] == list(range(9, 17))
    by_hour = {h.start.hour: h.groups[0] for h in plan.hours}
    # 40 an hour at about 6 minutes is 4 erlangs: 5 windows keep waits past 20 min rare
    assert by_hour[10].arrivals == pytest.approx(40)
    assert (by_hour[10].needed, by_hour[10].planned, by_hour[10].change) == (5, 2, 3)
    assert (by_hour[15].needed, by_hour[15].change) == (1, -1)
    assert by_hour[12].needed == 0 and by_hour[12].change == -2
    assert {h.start.hour for h in plan.changes} >= {10, 15}


def test_it_leaves_out_the_hours_of_today_already_over(staffed):
    hall, *_ = staffed
    plan = today_plan(hall, at=dt.datetime(2026, 11, 23, 13, 20, tzinfo=SH))
    assert [h.start.hour for h in plan.hours] == [13, 14, 15, 16]


def test_it_compares_next_week_with_the_windows_that_served_that_hour(staffed):
    hall, *_ = staffed
    plan = next_week_plan(hall, at=NOW)
    days = plan.by_day()
    assert [d for d, _h in days] == [MONDAY + dt.timedelta(days=7)]
    monday_10 = next(h for h in days[0][1] if h.start.hour == 10).groups[0]
    # only P1 called anyone on Mondays at 10: 4 more are needed
    assert (monday_10.needed, monday_10.planned, monday_10.change) == (5, 1, 4)
    # Tuesdays to Sundays have no history: no advice, and the plan says so
    assert plan.unsupported_days == [MONDAY + dt.timedelta(days=8 + i) for i in range(6)]
    # the eight weeks before next Monday hold seven of the recorded Mondays
    assert plan.history_days == 7


def test_it_groups_windows_by_skill_set_and_caps_at_the_group_size(pensions):
    hall, pension = pensions
    other = make_service("Q", code="other-q", target_wait_min=20)
    offer(hall, other)
    make_window(hall, "X1", [pension])
    make_window(hall, "X2", [pension, other], status="closed")
    for k in range(1, 3):
        made_history(hall, pension, MONDAY - dt.timedelta(weeks=k), 10, 200)
    hour = next(h for h in today_plan(hall, at=NOW).hours if h.start.hour == 10)
    labels = [g.group.prefixes for g in hour.groups]
    assert labels == ["P", "PQ"]
    # pensions split evenly between the two one-window groups: each short of windows
    for group in hour.groups:
        assert group.arrivals == pytest.approx(100)
        assert group.short_of_windows and group.change <= 1


def test_it_plans_in_a_fixed_number_of_queries(staffed):
    hall, *_ = staffed
    today_plan(hall, at=NOW)  # learns the hall's model
    with CaptureQueriesContext(connection) as queries:
        next_week_plan(hall, at=NOW)
    assert len(queries) <= 3
    # the history is cached for the day: the board's refreshes read only the windows
    with CaptureQueriesContext(connection) as queries:
        today_plan(hall, at=NOW)
    assert len(queries) == 1


def test_a_queue_standing_now_keeps_the_windows_it_needs_this_hour(staffed):
    """15:00 is forecast quiet (2 visitors: one window, so one of the two open could
    close), but 12 pension visitors are waiting now: the hour now running needs more."""
    hall, pension, _windows = staffed
    at = dt.datetime(2026, 11, 23, 15, 5, tzinfo=SH)
    quiet = today_plan(hall, at=at).hours[0].groups[0]
    assert (quiet.needed, quiet.change) == (1, -1)
    cache.clear()
    busy_plan = today_plan(hall, at=at, waiting={pension.pk: 12})
    busy = busy_plan.hours[0].groups[0]
    assert busy.waiting == 12 and busy.arrivals == pytest.approx(2)
    assert busy.needed >= 2 and busy.change >= 0
    # only the hour now running carries the queue
    assert busy_plan.hours[1].groups[0].waiting == 0


# ------------------------------------------------------- advice the data can support


def _render(plan) -> str:
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("en"):
        return render_to_string("hall_ops/report_staffing.html", {"plan": plan})


def test_it_gives_no_advice_from_a_few_stray_tickets_and_says_why(pensions):
    """The demo's history: one returning visitor's ticket a day for three weeks. Read as
    a forecast it said "0 arrivals expected" for every hour and advised closing every
    window; it is no history at all."""
    hall, pension = pensions
    for i in range(1, 4):
        make_window(hall, f"S{i}", [pension])
    for i in range(1, 22):
        made_history(hall, pension, MONDAY - dt.timedelta(days=i), 11, 1)
    plan = today_plan(hall, at=NOW)
    assert plan.hours == [] and plan.changes == []
    assert plan.unsupported_days == [MONDAY] and plan.history_days == 0
    html = _render(plan)
    assert "Not enough history yet: 0 days recorded of the 14 needed, so no advice." in html
    assert "could close" not in html and "arrivals expected" not in html


def test_it_never_advises_closing_the_priority_window(staffed):
    hall, pension, windows = staffed
    Window.objects.filter(pk=windows[1].pk).update(is_priority=True)
    plan = today_plan(hall, at=NOW)
    by_hour = {h.start.hour: h.groups[0] for h in plan.hours}
    # 12:00 expects nobody: of P1 and the priority window P2 only P1 could close
    assert (by_hour[12].needed, by_hour[12].planned, by_hour[12].could_close) == (0, 2, 1)
    # 15:00 needs one window: P1's load, the priority window stays
    assert by_hour[15].could_close == 1
    assert all(g.could_close <= g.planned - 1 for h in plan.hours for g in h.groups)


def test_it_never_says_close_and_all_needed_for_one_service_in_the_same_hour(pensions):
    """Pensions at two one-service windows and at one window that also does Q: the
    demand split by group size left the P group with a spare window and the PQ group
    short, and the hour read both "1 window could close (P)" and "all windows for
    P, Q are needed". The spare P window calls pension visitors anyway: it covers."""
    hall, pension = pensions
    other = make_service("Q", code="other-q", target_wait_min=20)
    offer(hall, other)
    make_window(hall, "X1", [pension])
    make_window(hall, "X2", [pension])
    make_window(hall, "X3", [pension, other])
    for k in range(1, 3):
        made_history(hall, pension, MONDAY - dt.timedelta(weeks=k), 10, 6)
        made_history(hall, other, MONDAY - dt.timedelta(weeks=k), 10, 12)
    hour = next(h for h in today_plan(hall, at=NOW).hours if h.start.hour == 10)
    p, pq = (next(g for g in hour.groups if g.group.prefixes == x) for x in ("P", "PQ"))
    assert pq.needed > pq.planned  # the model alone: PQ short, P with a spare window
    closing = {s.pk for g in hour.groups if g.could_close for s in g.group.services}
    wanting = {
        s.pk for g in hour.groups if g.to_open or g.short_of_windows for s in g.group.services
    }
    assert not closing & wanting
    assert p.lent == pq.covered > 0


def test_it_collapses_hours_without_arrivals_into_one_line(staffed):
    hall, *_ = staffed
    plan = today_plan(hall, at=NOW)
    html = _render(plan)
    # 11:00-15:00 expect nobody: one line, not four
    assert html.count("no arrivals expected") == 3  # 09-10, 11-15, 16-17
    assert 'data-advice-quiet="11-15"' in html
    assert "11:00–15:00" in html and "12:00–13:00" not in html
    assert "priority windows stay open" in html
    assert 'data-advice="10:P"' in html and 'data-advice="15:P"' in html
