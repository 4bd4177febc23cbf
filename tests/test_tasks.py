"""The periodic jobs: the task functions called directly, the registry both Celery beat
and the embedded scheduler read, the embedded scheduler's thread, and the
close_business_day command. (A real Celery worker: tests/test_celery_worker.py.)"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command

from hall_ops.celery import app as celery_app
from hall_ops.scheduler import (
    EmbeddedScheduler,
    periodic_jobs,
    register_periodic,
    run_job,
    unregister_periodic,
)
from queueing.models import Hall, Ticket, TicketEvent
from queueing.services import ticket_call, ticket_issue, ticket_start
from queueing.services.day import DAY_CLOSED_REASON
from queueing.tasks import close_finished_days


def yesterday_at(hall: Hall, hour: int) -> dt.datetime:
    day = hall.business_date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=hall.tz)


def open_tickets_of_yesterday(city) -> list[Ticket]:
    at = yesterday_at(city.h1, 10)
    waiting = ticket_issue(hall=city.h1, service=city.pension, at=at)
    serving = ticket_issue(hall=city.h1, service=city.social, at=at)
    ticket_call(ticket=serving, window=city.w1, at=at + dt.timedelta(minutes=5))
    ticket_start(ticket=serving, at=at + dt.timedelta(minutes=6))
    return [waiting, serving]


def wait_until(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {seconds} s")
        time.sleep(0.05)


def test_it_closes_yesterdays_open_tickets_with_the_reason(city):
    tickets = open_tickets_of_yesterday(city)
    city.h1.closes_at = dt.time.max  # today's ticket below stays open whatever the hour
    city.h1.save()
    today = ticket_issue(hall=city.h1, service=city.pension)

    assert close_finished_days() == {"h1": 2}

    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.CANCELLED
        assert ticket.end_reason == DAY_CLOSED_REASON
        assert ticket.window is None
    today.refresh_from_db()
    assert today.status == Ticket.Status.WAITING


def test_it_changes_nothing_when_run_twice(city):
    open_tickets_of_yesterday(city)
    close_finished_days()
    events = TicketEvent.objects.count()
    statuses = list(Ticket.objects.order_by("pk").values_list("status", "end_reason"))

    assert close_finished_days() == {}

    assert TicketEvent.objects.count() == events
    assert list(Ticket.objects.order_by("pk").values_list("status", "end_reason")) == statuses


def test_it_leaves_a_hall_alone_whose_day_is_not_over(city):
    city.h1.closes_at = dt.time.max
    city.h1.save()
    ticket = ticket_issue(hall=city.h1, service=city.pension)

    assert close_finished_days() == {}

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING


def test_it_is_a_late_acking_celery_task():
    assert close_finished_days.name == "queueing.close_finished_days"
    assert close_finished_days.acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True


def test_it_schedules_the_registered_jobs_in_celery_beat():
    jobs = {job.name: job for job in periodic_jobs()}
    assert jobs["queueing.close_finished_days"].seconds == 5 * 60

    celery_app.finalize()
    schedule = celery_app.conf.beat_schedule
    for job in jobs.values():
        assert schedule[job.name]["task"] == job.task_name
        assert schedule[job.name]["schedule"] == job.seconds
        assert job.task_name in celery_app.tasks


def test_it_refuses_a_second_job_under_a_taken_name():
    with pytest.raises(ValueError, match="already registered"):
        register_periodic("queueing.close_finished_days", 60, lambda: None)
    # the same function again (its module imported twice) is fine
    register_periodic("queueing.close_finished_days", 5 * 60, close_finished_days)


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_registered_job_in_the_embedded_scheduler(city):
    tickets = open_tickets_of_yesterday(city)
    jobs = [job for job in periodic_jobs() if job.name == "queueing.close_finished_days"]
    scheduler = EmbeddedScheduler(jobs, tick=0.05)
    scheduler.start()
    try:
        wait_until(
            lambda: (
                not Ticket.objects.filter(pk__in=[t.pk for t in tickets])
                .exclude(status=Ticket.Status.CANCELLED)
                .exists()
            )
        )
    finally:
        scheduler.stop()
    assert not scheduler.is_alive()
    assert set(Ticket.objects.values_list("end_reason", flat=True)) == {DAY_CLOSED_REASON}


@pytest.mark.django_db(transaction=True)
def test_it_keeps_running_jobs_after_one_fails(caplog):
    calls: list[str] = []
    lock = threading.Lock()

    def flaky() -> None:
        with lock:
            calls.append("run")
            if len(calls) == 1:
                raise RuntimeError("the first run breaks")

    job = register_periodic("tests.flaky", 0.1, flaky)
    scheduler = EmbeddedScheduler([job], tick=0.02)
    caplog.set_level(logging.ERROR, logger="hall_ops.scheduler")
    try:
        scheduler.start()
        wait_until(lambda: len(calls) >= 3)
    finally:
        scheduler.stop()
        unregister_periodic("tests.flaky")
    assert "periodic job tests.flaky failed" in caplog.text
    assert "the first run breaks" in caplog.text
    assert "tests.flaky" not in {j.name for j in periodic_jobs()}


@pytest.mark.django_db(transaction=True)  # run_job closes the connection it ran on
def test_it_reports_whether_a_run_succeeded():
    def broken() -> None:
        raise ValueError("nope")

    assert run_job(register_periodic("tests.broken", 60, broken)) is False
    unregister_periodic("tests.broken")
    assert run_job(next(j for j in periodic_jobs() if j.name.endswith("close_finished_days")))


def test_it_closes_a_day_by_hand(city, capsys):
    open_tickets_of_yesterday(city)
    day = (city.h1.business_date() - dt.timedelta(days=1)).isoformat()

    call_command("close_business_day", "--hall", "h1", "--date", day)

    out = capsys.readouterr().out
    assert f"h1: closed 2 ticket(s) up to {day}" in out
    assert not Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES).exists()
    call_command("close_business_day", "--hall", "h1", "--date", day)
    assert "h1: closed 0 ticket(s)" in capsys.readouterr().out


def test_it_closes_today_in_every_hall_by_default(city, capsys):
    ticket_issue(hall=city.h1, service=city.pension)
    ticket_issue(hall=city.h2, service=city.social)

    call_command("close_business_day")

    out = capsys.readouterr().out
    assert "h1: closed 1" in out and "h2: closed 1" in out
    assert "Closed 2 ticket(s) in 2 hall(s)." in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hall", "nowhere"], "--hall: no hall with code 'nowhere' (known: h1, h2)"),
        (["--date", "23/11/2026"], "--date: expected YYYY-MM-DD, got '23/11/2026'"),
        (["--date", "2999-01-01"], "--date: 2999-01-01 has not begun yet"),
    ],
)
def test_it_refuses_a_bad_hall_or_date_by_hand(city, args, message):
    ticket_issue(hall=city.h1, service=city.pension)
    with pytest.raises(CommandError) as refused:
        call_command("close_business_day", *args)
    assert message in str(refused.value)
    assert Ticket.objects.filter(status=Ticket.Status.WAITING).count() == 1
