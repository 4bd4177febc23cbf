"""The alert engine: event rules, time rules, lifecycle, sequence numbers."""

import datetime as dt
import zoneinfo

import pytest

from hall_ops.alerts import rules
from hall_ops.alerts.services import (
    AlertError,
    alert_acknowledge,
    alert_escalate,
    alert_raise,
    alert_resolve,
)
from hall_ops.models import Alert, AlertRules, AlertTransition
from queueing import services
from tests.factories import national_id

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)
K = Alert.Kind


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run each block's on-commit work (rules, pushes) as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def issue(city, committed, minute=0.0, service=None, **kw):
    return committed(
        services.ticket_issue,
        hall=city.h1,
        service=service or city.pension,
        at=at(minute),
        **kw,
    )


def test_it_raises_an_elderly_alert_when_an_elderly_visitor_takes_a_ticket(city, committed):
    ticket = issue(city, committed, id_number=national_id(dt.date(1956, 1, 1)))
    alert = Alert.objects.get()
    assert alert.kind == K.ELDERLY and alert.ticket == ticket
    assert alert.state == Alert.State.OPEN
    assert alert.context["age"] == 70 and alert.context["number"] == "A001"
    assert national_id(dt.date(1956, 1, 1)) not in str(alert.context)


def test_it_raises_no_alert_for_a_younger_visitor_or_when_disabled(city, committed):
    issue(city, committed, id_number=national_id(dt.date(1990, 1, 1)))
    AlertRules.objects.create(hall=city.h1, elderly_enabled=False)
    issue(city, committed, id_number=national_id(dt.date(1940, 1, 1)))
    assert not Alert.objects.exists()


def test_it_shows_earlier_visits_on_a_repeat_visit(city, committed):
    number = national_id(dt.date(1985, 4, 4))
    first = committed(
        services.ticket_issue,
        hall=city.h2,
        service=city.pension,
        id_number=number,
        at=at(-3 * 24 * 60),
    )
    committed(services.ticket_call, ticket=first, window=city.h2_window, at=at(-3 * 24 * 60 + 5))
    committed(
        services.ticket_complete,
        ticket=first,
        outcome="missing_documents",
        missing_documents="劳动合同",
        at=at(-3 * 24 * 60 + 15),
    )
    again = issue(city, committed, id_number=number)
    alert = Alert.objects.get(kind=K.REPEAT_VISIT)
    assert alert.ticket == again and alert.hall == city.h1
    assert alert.severity == Alert.Severity.WARNING
    [visit] = alert.context["visits"]
    assert visit["hall"] == "h2" and visit["outcome"] == "missing_documents"
    assert visit["missing_documents"] == "劳动合同"
    assert alert.context["served_today"] is False


def test_it_ignores_visits_of_another_service_or_older_than_the_window(city, committed):
    number = national_id(dt.date(1985, 4, 4))
    issue(city, committed, minute=-40 * 24 * 60, id_number=number)
    issue(city, committed, service=city.social, id_number=number)
    issue(city, committed, minute=1, id_number=number)
    assert not Alert.objects.filter(kind=K.REPEAT_VISIT).exists()


def test_it_escalates_the_severity_of_a_third_visit(city, committed):
    number = national_id(dt.date(1985, 4, 4))
    for minute in (-2000, -1000, 0):
        issue(city, committed, minute=minute, id_number=number)
    latest = Alert.objects.filter(kind=K.REPEAT_VISIT).order_by("-raised_at").first()
    assert latest is not None and latest.severity == Alert.Severity.HIGH
    assert len(latest.context["visits"]) == 2


def test_it_raises_one_long_wait_alert_per_ticket_and_raises_its_severity(city, committed):
    ticket = issue(city, committed)  # pensions: target 20 minutes
    assert rules.scan_long_waits(at=at(19)) == 0
    rules.scan_long_waits(at=at(21))
    rules.scan_long_waits(at=at(25))
    alert = Alert.objects.get(kind=K.LONG_WAIT)
    assert alert.ticket == ticket and alert.severity == Alert.Severity.WARNING
    rules.scan_long_waits(at=at(31))
    rules.scan_long_waits(at=at(41))
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.CRITICAL
    actions = list(alert.transitions.values_list("action", flat=True))
    assert actions == ["raised", "updated", "updated"]


def test_it_expires_the_long_wait_alert_when_the_ticket_is_called(city, committed):
    ticket = issue(city, committed)
    rules.scan_long_waits(at=at(25))
    committed(services.ticket_call_next, window=city.w2, at=at(26))
    alert = Alert.objects.get(kind=K.LONG_WAIT)
    assert alert.state == Alert.State.EXPIRED and alert.closed_at == at(26)
    assert alert.ticket == ticket
    rules.scan_long_waits(at=at(60))
    assert Alert.objects.filter(kind=K.LONG_WAIT).count() == 1


def test_it_flags_an_idle_window_while_its_queue_waits(city, committed):
    for window in (city.w1, city.w3):
        services.window_pause(window=window)
    services.window_close(window=city.w2)
    services.window_open(window=city.w2, at=at(0))
    issue(city, committed, minute=1)
    assert rules.scan_idle_windows(at=at(4)) == 0
    assert rules.scan_idle_windows(at=at(6)) == 1
    alert = Alert.objects.get(kind=K.IDLE_WINDOW)
    assert alert.window == city.w2
    committed(services.ticket_call_next, window=city.w2, at=at(7))
    alert.refresh_from_db()
    assert alert.state == Alert.State.EXPIRED


def test_it_expires_the_idle_alert_when_the_window_pauses(city, committed):
    services.window_pause(window=city.w1)
    services.window_pause(window=city.w3)
    services.window_close(window=city.w2)
    services.window_open(window=city.w2, at=at(-40))
    issue(city, committed, minute=-30)
    rules.scan_idle_windows(at=at(10))
    assert Alert.objects.get(kind=K.IDLE_WINDOW).window == city.w2
    services.window_pause(window=city.w2)
    rules.scan_idle_windows(at=at(11))
    assert Alert.objects.get(kind=K.IDLE_WINDOW).state == Alert.State.EXPIRED


def test_it_escalates_an_unacknowledged_alert_once(city, committed):
    issue(city, committed, id_number=national_id(dt.date(1950, 1, 1)))
    assert rules.scan_escalations(at=at(4)) == 0
    assert rules.scan_escalations(at=at(5)) == 1
    assert rules.scan_escalations(at=at(30)) == 0
    alert = Alert.objects.get()
    assert alert.severity == Alert.Severity.HIGH and alert.escalated_at == at(5)


def test_it_does_not_escalate_an_acknowledged_alert(city, committed):
    issue(city, committed, id_number=national_id(dt.date(1950, 1, 1)))
    alert_acknowledge(alert=Alert.objects.get(), user=city.carol, at=at(1))
    assert rules.scan_escalations(at=at(10)) == 0


def test_it_records_who_acknowledged_and_resolved(city, committed):
    issue(city, committed, id_number=national_id(dt.date(1950, 1, 1)))
    alert = alert_acknowledge(alert=Alert.objects.get(), user=city.carol, at=at(2))
    with pytest.raises(AlertError, match="carol"):
        alert_acknowledge(alert=alert, user=city.alice, at=at(3))
    alert = alert_resolve(alert=alert, user=city.carol, note="walked her to W03", at=at(4))
    assert alert.state == Alert.State.RESOLVED and alert.note == "walked her to W03"
    with pytest.raises(AlertError):
        alert_resolve(alert=alert, user=city.carol)
    trail = list(alert.transitions.values_list("action", "actor__username", "at"))
    assert trail == [
        ("raised", None, at(0)),
        ("acknowledged", "carol", at(2)),
        ("resolved", "carol", at(4)),
    ]


def test_it_numbers_every_change_in_one_increasing_sequence_per_hall(city, committed):
    a = alert_raise(hall=city.h1, kind=K.ELDERLY, key="x", severity=2, at=at(0))
    b = alert_raise(hall=city.h1, kind=K.ELDERLY, key="y", severity=2, at=at(0))
    other = alert_raise(hall=city.h2, kind=K.ELDERLY, key="x", severity=2, at=at(0))
    alert_escalate(alert=a, at=at(1))
    same = alert_raise(hall=city.h1, kind=K.ELDERLY, key="y", severity=2, at=at(2))
    assert same.pk == b.pk and same.seq == b.seq  # nothing new: no new number
    seqs = list(
        AlertTransition.objects.filter(alert__hall=city.h1)
        .order_by("id")
        .values_list("seq", flat=True)
    )
    assert seqs == [1, 2, 3]
    assert other.seq == 1
    assert Alert.objects.get(pk=a.pk).seq == 3


def test_it_raises_a_new_alert_for_the_same_key_after_the_old_one_closed(city):
    first = alert_raise(hall=city.h1, kind=K.IDLE_WINDOW, key="w", severity=2, at=at(0))
    alert_resolve(alert=first, user=city.alice, at=at(1))
    second = alert_raise(hall=city.h1, kind=K.IDLE_WINDOW, key="w", severity=2, at=at(2))
    assert second.pk != first.pk and second.state == Alert.State.OPEN


def test_it_runs_all_scans_with_a_bounded_number_of_queries(
    city, committed, django_assert_max_num_queries
):
    for minute in range(30):
        issue(city, committed, minute=minute - 60)
    rules.run_alert_scans(at=at(0))
    with django_assert_max_num_queries(20):
        rules.run_alert_scans(at=at(0.25))
