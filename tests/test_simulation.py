"""The hall simulator through the real services: determinism, the configured
statistics, and the export that `replay_events` reads.

Tolerances (stated, and why):
- arrivals per hour: within 4 standard deviations of a Poisson count around the
  profile's expected count (a false alarm about once in 15,000 hours checked);
- share of elderly among visitors who showed an ID card: 0.25 +- 0.07 (3 sd at ~400);
- mean service time per service with at least 60 services: +-15% of the lognormal's
  mean (the mean's sd is ~4.5% at 100 services with sigma 0.45);
- share of repeat visits for the same service: the profile's steady-state share
  +-0.05 (sd ~0.017 at ~700 tickets of days 3-4, plus a warm-up bias of ~-0.01).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
import zoneinfo
from collections import Counter
from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from hall_ops.models import Alert
from queueing.demo.city import HALLS, build_city
from queueing.estimation.eventfile import read_events, read_hall
from queueing.models import Outcome, Ticket, TicketEvent
from queueing.simulation.days import simulate_days
from queueing.simulation.profile import default_profile
from queueing.simulation.setup import service_shares

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
MONDAY = dt.date(2026, 3, 2)


@pytest.fixture
def demo_city(db):
    return build_city(opens_at=dt.time(9), closes_at=dt.time(17))


def digest(hall: str) -> list[tuple]:
    return list(
        Ticket.objects.filter(hall__code=hall)
        .order_by("business_date", "number")
        .values_list(
            "number",
            "status",
            "service__prefix",
            "window__label",
            "issued_at",
            "ended_at",
            "outcome",
            "is_elderly",
        )
    )


def test_it_makes_the_same_day_from_the_same_seed(demo_city):
    def once(seed: int) -> list[tuple]:
        with transaction.atomic():
            simulate_days(halls=["luohu"], first=MONDAY, days=1, seed=seed)
            result = digest("luohu")
            transaction.set_rollback(True)
        return result

    first = once(1)
    assert len(first) > 150
    assert once(1) == first
    assert once(2) != first


def test_a_day_matches_the_configured_profile(demo_city):
    simulate_days(halls=["futian"], first=MONDAY, days=1, seed=3)
    tickets = Ticket.objects.filter(hall__code="futian", business_date=MONDAY)
    spec = next(s for s in HALLS if s.code == "futian")
    staffed = sum(1 for w in spec.windows if w.plan != "closed")

    expected = default_profile().expected_per_hour(staffed, MONDAY)
    per_hour = Counter(t.issued_at.astimezone(TZ).hour for t in tickets)
    assert set(per_hour) <= set(expected)
    for hour, mean in expected.items():
        # returning visitors come on top of new ones: none on the first simulated day
        assert abs(per_hour[hour] - mean) <= 4 * math.sqrt(mean), (hour, per_hour[hour], mean)
    # the profile's shape shows: the lunch dip is below the mid-morning peak
    assert per_hour[12] < per_hour[10]

    aged = [t.age_at_issue for t in tickets if t.age_at_issue is not None]
    assert len(aged) > 300
    elderly = sum(1 for age in aged if age >= 60) / len(aged)
    assert abs(elderly - default_profile().elderly_share) <= 0.07, elderly

    transferred = set(
        TicketEvent.objects.filter(kind=TicketEvent.Kind.TRANSFERRED).values_list(
            "ticket_id", flat=True
        )
    )
    durations: dict[str, list[float]] = {}
    for t in tickets.filter(status=Ticket.Status.COMPLETED).select_related("service"):
        if t.pk not in transferred and t.ended_at and t.started_at:
            seconds = (t.ended_at - t.started_at).total_seconds()
            durations.setdefault(t.service.prefix, []).append(seconds)
    checked = 0
    for prefix, values in durations.items():
        if len(values) < 60:
            continue
        mean = sum(values) / len(values)
        configured = default_profile().service_times[prefix].mean_s
        assert abs(mean - configured) <= 0.15 * configured, (prefix, mean, configured)
        checked += 1
    assert checked >= 3

    # and the day has its incidents: no-shows, recalls, give-ups, transfers, lacking papers
    kinds = Counter(TicketEvent.objects.values_list("kind", flat=True))
    for kind in ("no_show", "recalled", "cancelled", "transferred"):
        assert kinds[kind] > 0, kind
    assert tickets.filter(outcome=Outcome.MISSING_DOCUMENTS).exists()
    # the windows closed at the end of the day, and nobody was left waiting
    assert not tickets.filter(status__in=Ticket.OPEN_STATUSES).exists()


def test_visitors_lacking_a_document_come_back_as_often_as_configured(demo_city):
    # A profile where many lack a document and all come back the next business day,
    # so that returns reach their steady rate within a few days.
    profile = replace(default_profile(), missing_share=0.4, return_share=1.0, return_days=(1, 1))
    simulate_days(halls=["luohu"], first=MONDAY, days=4, seed=5, profile=profile)
    spec = next(s for s in HALLS if s.code == "luohu")
    expected = profile.expected_repeat_share(service_shares(spec))
    assert 0.2 < expected < 0.3

    later = Ticket.objects.filter(hall__code="luohu", business_date__gte=MONDAY + dt.timedelta(2))
    repeats = 0
    for ticket in later.exclude(visitor=None):
        repeats += Ticket.objects.filter(
            visitor=ticket.visitor,
            business_date__lt=ticket.business_date,
            outcome=Outcome.MISSING_DOCUMENTS,
            service=ticket.service,
        ).exists()
    share = repeats / later.count()
    assert abs(share - expected) <= 0.05, (share, expected)


def test_it_exports_days_that_replay_events_accepts(demo_city, tmp_path, capsys):
    call_command(
        "simulate_halls", "--days", "2", "--first", "2026-03-06", "--hall", "luohu",
        "--export", str(tmp_path), "--seed", "7",
    )  # fmt: skip
    folder = tmp_path / "luohu"
    hall = read_hall(folder / "HALL.json")
    assert json.loads((folder / "HALL.json").read_text())["hall"] == "luohu"
    lines = read_events(folder / "EVENTS.csv", hall)  # raises at the first bad line
    kinds = Counter(line.event.kind for line in lines)
    issued = Ticket.objects.filter(hall__code="luohu").count()
    assert kinds["issued"] == issued > 150
    assert kinds["window_open"] > 0 and kinds["window_close"] > 0 and kinds["called"] > 0
    # Friday and Saturday; numbers restart each day
    rows = list(csv.DictReader((folder / "EVENTS.csv").open(encoding="utf-8")))
    first_issued = [r for r in rows if r["event"] == "issued" and r["ticket"].endswith("001")]
    assert {r["ts"][:10] for r in first_issued} == {"2026-03-06", "2026-03-07"}

    out = tmp_path / "predictions.csv"
    capsys.readouterr()
    call_command(
        "replay_events", str(folder / "HALL.json"), str(folder / "EVENTS.csv"),
        "--out", str(out), "--no-progress",
    )  # fmt: skip
    printed = capsys.readouterr()
    assert f"{len(lines)} events, {issued} tickets, 0 rejected" in printed.out, printed


def test_history_days_raise_no_alerts_and_today_does(transactional_db):
    """Days before today are loaded quietly (nobody is on the floor of last week); the
    demo's today runs the alert rules on every committed change, as the live system.
    Transactional: the rules run when each day's transaction commits, as in production."""
    build_city(opens_at=dt.time(9), closes_at=dt.time(17))
    friday, saturday = dt.date(2026, 3, 6), dt.date(2026, 3, 7)
    simulate_days(halls=["luohu"], first=friday, days=2, today=saturday)
    alerts = Alert.objects.filter(hall__code="luohu")
    assert Ticket.objects.filter(hall__code="luohu", business_date=friday).count() > 150
    assert not alerts.filter(raised_at__date__lt=saturday).exists()
    elderly = Ticket.objects.filter(hall__code="luohu", business_date=saturday, is_elderly=True)
    assert elderly.count() > 10
    # one card per ticket: an elderly visitor back again has a repeat-visit card that
    # names both reasons
    cards = alerts.filter(raised_at__date=saturday)
    raised = [a for a in cards if Alert.Kind.ELDERLY in a.context.get("reasons", [a.kind])]
    assert len(raised) == elderly.count()


@pytest.mark.parametrize(
    "args, reason",
    [
        ([], "Give either --days N or --live."),
        (["--days", "3", "--live"], "Give either --days N or --live."),
        (["--days", "0"], "--days must be 1 to 366."),
        (["--live", "--speed", "0"], "--speed must be above 0."),
        (["--live", "--export", "/tmp/x"], "--export goes with --days."),
        (["--days", "1", "--export", "/proc/nope"], "/proc/nope: cannot be written"),
    ],
)
def test_it_refuses_bad_arguments_with_the_reason(db, args, reason):
    with pytest.raises(CommandError, match=re.escape(reason)):
        call_command("simulate_halls", *args)
    assert not Ticket.objects.exists()


def test_it_refuses_days_before_what_a_hall_already_holds(demo_city):
    call_command("simulate_halls", "--days", "1", "--first", "2026-03-06", "--hall", "luohu")
    held = Ticket.objects.filter(hall__code="luohu").count()
    assert held > 100
    with pytest.raises(CommandError, match="Hall luohu already holds activity up to 2026-03-0"):
        call_command("simulate_halls", "--days", "1", "--first", "2026-03-06", "--hall", "luohu")
    assert Ticket.objects.filter(hall__code="luohu").count() == held
    # the next day carries on from where the hall is
    call_command("simulate_halls", "--days", "1", "--first", "2026-03-07", "--hall", "luohu")
    assert Ticket.objects.filter(hall__code="luohu", business_date=dt.date(2026, 3, 7)).exists()
