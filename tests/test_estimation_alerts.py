"""The predicted-breach alert: raised from the wait estimate before the target passes,
expired when the ticket is called or ends, or when the long-wait alert takes over."""

import datetime as dt
import zoneinfo

import pytest

from hall_ops.alerts import rules
from hall_ops.models import Alert, AlertRules
from queueing import services

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)
K = Alert.Kind


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def long_queue(city, committed, n=30):
    """Yesterday's 6-minute services, then `n` pension tickets a few seconds apart at
    one open window: the back of the queue cannot be called within 20 minutes."""
    for i in range(10):
        t = committed(
            services.ticket_issue, hall=city.h1, service=city.pension, at=at(-1440 + 6 * i)
        )
        committed(services.ticket_call, ticket=t, window=city.w1, at=at(-1440 + 6 * i))
        committed(services.ticket_complete, ticket=t, outcome="done", at=at(-1440 + 6 * i + 5.9))
    services.window_close(window=city.w2, at=at(-2))
    services.window_close(window=city.w3, at=at(-2))
    return [
        committed(services.ticket_issue, hall=city.h1, service=city.pension, at=at(-1 + i / 60))
        for i in range(n)
    ]


def breaches(state=None):
    qs = Alert.objects.filter(kind=K.PREDICTED_BREACH)
    return qs.filter(state=state) if state else qs


def test_it_raises_one_predicted_breach_per_service_counting_its_tickets(city, committed):
    """30 tickets behind one window: the back of the queue will wait past 20 minutes.
    One card for the service, not one per ticket (the demo's board held 21)."""
    tickets = long_queue(city, committed)
    raised = rules.scan_predicted_breaches(at=at(0))
    assert raised == 1 and breaches().count() == 1
    alert = breaches().get()
    assert alert.ticket is None and alert.service == city.pension
    assert alert.key == f"predicted_breach:service:{city.pension.pk}"
    count = alert.context["count"]
    assert 0 < count < len(tickets) and alert.context["target_min"] == 20
    assert alert.context["tickets"][0] != tickets[0].number  # the front will be called
    assert len(alert.context["tickets"]) == min(count, 5)
    assert alert.state == Alert.State.OPEN and alert.severity == Alert.Severity.WARNING
    # a second scan changes nothing
    assert rules.scan_predicted_breaches(at=at(0.25)) == 0
    assert breaches().count() == 1


def test_it_raises_only_when_the_lower_end_of_the_interval_passes_the_target(
    city, committed, monkeypatch
):
    """A point estimate past the target with an interval reaching below it is a guess:
    no card. The same estimate with its whole 80 % interval past the target is one."""
    from queueing.estimation import Estimate, HallEstimate

    tickets = long_queue(city, committed, n=3)
    target = 20 * 60

    def fake(low_s):
        def estimate_hall(hall, **kw):
            est = Estimate(expected_s=target + 300, low_s=low_s, high_s=target + 900)
            return HallEstimate(hall=hall, at=at(0), tickets={t.pk: est for t in tickets})

        return estimate_hall

    monkeypatch.setattr(rules, "estimate_hall", fake(target - 60))
    assert rules.scan_predicted_breaches(at=at(0)) == 0 and not breaches().exists()
    monkeypatch.setattr(rules, "estimate_hall", fake(target + 60))
    assert rules.scan_predicted_breaches(at=at(0.25)) == 1
    assert breaches().get().context["count"] == 3


def test_it_raises_none_for_a_short_queue(city, committed):
    long_queue(city, committed, n=2)
    assert rules.scan_predicted_breaches(at=at(0)) == 0
    assert not breaches().exists()


def test_it_expires_the_prediction_once_the_queue_is_served(city, committed):
    tickets = long_queue(city, committed)
    rules.scan_predicted_breaches(at=at(0))
    for ticket in tickets:
        committed(services.ticket_cancel, ticket=ticket, at=at(1))
    rules.scan_predicted_breaches(at=at(1.25))
    alert = breaches().get()
    assert alert.state == Alert.State.EXPIRED and alert.closed_at == at(1.25)


def test_it_hands_over_to_the_long_wait_alert_past_the_target(city, committed):
    tickets = long_queue(city, committed)
    rules.scan_predicted_breaches(at=at(0))
    assert breaches(Alert.State.OPEN).exists()
    rules.run_alert_scans(at=at(21))
    assert not breaches(Alert.State.OPEN).exists()
    assert Alert.objects.filter(kind=K.LONG_WAIT, ticket=tickets[-1]).exists()


def test_it_follows_the_halls_long_wait_switch(city, committed):
    long_queue(city, committed)
    AlertRules.objects.create(hall=city.h1, long_wait_enabled=False)
    assert rules.scan_predicted_breaches(at=at(0)) == 0


def test_it_runs_in_the_periodic_scan(city, committed):
    long_queue(city, committed)
    assert rules.run_alert_scans(at=at(0))["predicted_breach"] > 0
