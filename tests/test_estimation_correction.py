"""The online correction: how far recent quotes ran long or short, applied only when
the quotes judged lean one way beyond chance (queueing/estimation/correction.py)."""

from __future__ import annotations

import math

import pytest

from queueing import services
from queueing.estimation import estimate_hall
from queueing.estimation.correction import (
    MIN_BLOCKS,
    correction_factor,
    learn_correction,
    sign_test_p,
)
from queueing.estimation.distributions import (
    DRIFT_MIN,
    LogNormal,
    learn_hall_model,
    todays_drift,
)
from queueing.models import Ticket
from tests.test_estimation import at, issue, known, served_history


def test_it_leaves_quotes_alone_when_the_blocks_err_both_ways():
    assert correction_factor([0.2, -0.2] * 5 + [0.3]) == 1.0


def test_it_corrects_when_the_blocks_ran_long_and_clips_the_factor():
    assert correction_factor([math.log(1.2)] * 6) == pytest.approx(1.2)
    assert correction_factor([math.log(3.0)] * 8) == pytest.approx(1.3)
    assert correction_factor([math.log(0.5)] * 8) == pytest.approx(1 / 1.3)


def test_it_needs_enough_blocks_judged():
    assert correction_factor([math.log(1.5)] * (MIN_BLOCKS - 1)) == 1.0


def test_the_sign_test_is_two_sided_and_exact():
    assert sign_test_p(10, 10) == 1.0
    assert sign_test_p(0, 10) == pytest.approx(2 / 1024)
    assert sign_test_p(10, 0) == sign_test_p(0, 10)


def quoted(city, minute: float, quote_s: int) -> Ticket:
    ticket = issue(city, minute=minute)
    Ticket.objects.filter(pk=ticket.pk).update(quoted_base_s=quote_s)
    return ticket


def test_it_judges_a_quote_once_its_time_has_passed(city):
    # 7 half hours of visitors quoted 10 minutes and still waiting: all ran long
    for i in range(42):
        quoted(city, -230 + i * 5, 600)
    assert learn_correction(city.h1, at=at(0)) == pytest.approx(1.3)  # clipped
    # after the first hour and a half only three blocks have been judged: none yet
    assert learn_correction(city.h1, at=at(-150)) == 1.0


def test_one_bad_half_hour_is_one_piece_of_evidence(city):
    # forty visitors at once, all quoted short: one block, not forty votes
    for i in range(40):
        quoted(city, -60 + i * 0.1, 600)
    assert learn_correction(city.h1, at=at(0)) == 1.0


def test_it_leaves_out_visitors_who_left_without_a_call(city):
    for i in range(42):
        ticket = quoted(city, -230 + i * 5, 600)
        services.ticket_cancel(ticket=ticket, reason="left", at=at(-230 + i * 5 + 1))
    assert learn_correction(city.h1, at=at(0)) == 1.0


def test_it_learns_quotes_that_ran_short_from_early_calls(city):
    for i in range(42):
        ticket = quoted(city, -260 + i * 5, 1800)
        services.ticket_call(ticket=ticket, window=city.w1, at=at(-260 + i * 5 + 2))
        services.ticket_complete(ticket=ticket, outcome="done", at=at(-260 + i * 5 + 2.5))
    assert learn_correction(city.h1, at=at(0)) == pytest.approx(1 / 1.3)


def test_the_estimate_scales_the_remaining_wait_and_keeps_the_base(city):
    served_history(city, city.pension)
    # visitors quoted 5 minutes over the last 3.5 hours, still waiting: quotes ran long
    tickets = [quoted(city, -210 + i * 5, 300) for i in range(42)]
    result = estimate_hall(city.h1, at=at(0))
    for ticket in tickets:
        estimate = known(result.tickets[ticket.pk])
        waited = (at(0) - ticket.issued_at).total_seconds()
        assert estimate.base_s is not None
        remaining, base_remaining = estimate.expected_s - waited, estimate.base_s - waited
        # both figures are whole seconds: rounding leaves up to 0.5 + 1.3 × 0.5 s
        assert remaining == pytest.approx(1.3 * base_remaining, abs=1.2)
        last_base = estimate.base_s
    assert estimate.expected_s > last_base + 60  # the last in line: a real change
    # the arrival quote is corrected the same way
    arrival = known(result.arrivals[city.pension.pk])
    assert arrival.base_s is not None
    assert arrival.expected_s == pytest.approx(1.3 * arrival.base_s, abs=1)


def _today(median_ratio: float, n: int) -> list[tuple[int, float]]:
    # services of 5 minutes × median_ratio, spread ±0.5 on the log scale
    return [(1, 300 * median_ratio * math.exp(0.5 if i % 2 else -0.5)) for i in range(n)]


FITS = {1: LogNormal(math.log(300), 0.5, 500)}


def test_a_slow_day_shows_in_todays_services_and_shifts_the_fits():
    assert todays_drift(_today(1.2, 80), FITS) == pytest.approx(math.log(1.2))
    assert todays_drift(_today(2.0, 40), FITS) == pytest.approx(math.log(1.3))  # clipped
    assert todays_drift(_today(0.8, 80), FITS) == pytest.approx(math.log(0.8))


def test_a_day_like_the_history_shifts_nothing():
    assert todays_drift(_today(1.0, 200), FITS) == 0.0
    assert todays_drift(_today(1.05, 30), FITS) == 0.0  # within chance
    assert todays_drift(_today(1.5, DRIFT_MIN - 1), FITS) == 0.0  # too few yet


def test_the_model_runs_slower_after_a_slow_morning(city):
    served_history(city, city.pension, n=40, minutes=5.0)  # yesterday: 5 minutes each
    before = learn_hall_model(city.h1, at=at(0)).for_service(city.pension.pk).median_s
    # this morning: 30 services of 8 minutes
    served_history(city, city.pension, n=30, minutes=8.0, start=-4 * 60)
    after = learn_hall_model(city.h1, at=at(0))
    assert after.for_service(city.pension.pk).median_s > 1.35 * before


def test_a_ticket_called_before_it_was_issued_degrades_nothing(city):
    # a bad row already in the database (ingest of older versions let it through):
    # called 40 minutes before it was issued
    for i in range(42):
        quoted(city, -230 + i * 5, 600)
    bad = quoted(city, -100, 600)
    services.ticket_call(ticket=bad, window=city.w1, at=at(-99))
    Ticket.objects.filter(pk=bad.pk).update(called_at=bad.issued_at - (at(40) - at(0)))
    assert learn_correction(city.h1, at=at(0)) == pytest.approx(1.3)
    estimate_hall(city.h1, at=at(0))  # no math domain error
