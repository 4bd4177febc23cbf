"""Occupancy, congestion with hysteresis, dark cameras, and the board's gap flag."""

from __future__ import annotations

import datetime as dt

import pytest

from hall_ops.models import Alert, AlertTransition
from hall_ops.scheduler import periodic_jobs
from queueing.services.tickets import ticket_issue
from tests.vision_app_support import make_camera, make_zone
from vision.alerts import camera_key, congestion_key, scan_cameras_offline, scan_congestion
from vision.selectors import BUSY, CONGESTED, OK, hall_occupancy, next_level, zone_occupancy
from vision.services import Crossing, MinuteCount, counts_ingest
from vision.tasks import run_vision_alert_scans

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in the hall
A = AlertTransition.Action


def minute(i: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=i)


def during(i: int, seconds: int = 30) -> dt.datetime:
    return minute(i) + dt.timedelta(seconds=seconds)


@pytest.fixture
def zone(city):
    camera = make_camera(city.h1, created_at=T0 - dt.timedelta(hours=1))
    return make_zone(camera, capacity=10)


def record(zone, i: int, mean: float, samples: int = 60) -> None:
    counts_ingest(
        camera=zone.camera,
        health={"fps": 1.0, "online": True},
        minutes=[
            MinuteCount(
                zone_id=zone.pk, minute=minute(i), mean=mean, peak=int(mean + 1), samples=samples
            )
        ],
        crossings=[],
        at=during(i),
    )


def transitions(key: str) -> list[str]:
    return list(
        AlertTransition.objects.filter(alert__key=key)
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_it_moves_between_levels_with_hysteresis():
    assert next_level(OK, 0.79) == OK
    assert next_level(OK, 0.8) == BUSY
    assert next_level(BUSY, 0.72) == BUSY
    assert next_level(BUSY, 0.69) == OK
    assert next_level(BUSY, 1.0) == CONGESTED
    assert next_level(CONGESTED, 0.91) == CONGESTED
    assert next_level(CONGESTED, 0.89) == BUSY
    assert next_level(OK, 0.95) == BUSY


def test_it_reports_the_latest_fresh_minute_and_unknown_after(zone):
    record(zone, 0, 4.0)
    record(zone, 1, 6.5)
    (now,) = zone_occupancy([zone], at=during(1))
    assert (now.people, now.minute, now.ratio) == (6.5, minute(1), 0.65)
    (later,) = zone_occupancy([zone], at=during(6))
    assert later.people is None and later.level is None  # unknown, not zero


def test_it_keeps_a_missing_minute_absent_not_zero(zone):
    record(zone, 0, 12.0)
    record(zone, 1, 12.0)
    # no minute 2: the level does not drop as if the zone had emptied
    record(zone, 3, 12.0)
    (now,) = zone_occupancy([zone], at=during(3))
    assert now.level == CONGESTED
    assert now.level_minutes == 3
    occupancy = hall_occupancy(zone.camera.hall, at=during(3))
    assert occupancy.people_waiting == 12.0


def test_it_raises_congestion_once_and_does_not_flap(zone):
    key = congestion_key(zone)
    ratios = [1.05, 1.0, 1.1, 0.95, 1.05, 0.92, 0.95, 0.85, 0.95, 0.99, 0.97]
    raised_at = []
    for i, ratio in enumerate(ratios):
        record(zone, i, ratio * zone.capacity)
        scan_congestion(at=during(i))
        if Alert.objects.filter(key=key, state=Alert.State.OPEN).exists():
            raised_at.append(i)
    # raised after three congested minutes, kept in the band, expired below 90 %,
    # and not raised again by minutes between 90 % and 100 %
    assert raised_at == [2, 3, 4, 5, 6]
    assert transitions(key) == [A.RAISED, A.EXPIRED]


def test_it_does_not_raise_congestion_for_a_short_peak(zone):
    for i, ratio in enumerate([0.5, 1.2, 1.3, 0.6, 1.1, 0.5]):
        record(zone, i, ratio * zone.capacity)
        assert scan_congestion(at=during(i)) == 0
    assert not Alert.objects.exists()


def test_it_raises_congestion_severity_when_far_over_capacity(zone):
    for i in range(3):
        record(zone, i, 11.0)
        scan_congestion(at=during(i))
    alert = Alert.objects.get(key=congestion_key(zone))
    assert alert.severity == Alert.Severity.WARNING
    assert alert.context["people"] == 11.0 and alert.context["capacity"] == 10
    record(zone, 3, 16.0)
    scan_congestion(at=during(3))
    alert.refresh_from_db()
    assert alert.severity == Alert.Severity.HIGH
    assert transitions(alert.key) == [A.RAISED, A.UPDATED]


def test_it_expires_congestion_when_the_zone_is_no_longer_counted(zone):
    for i in range(3):
        record(zone, i, 12.0)
        scan_congestion(at=during(i))
    scan_congestion(at=during(8))
    assert transitions(congestion_key(zone)) == [A.RAISED, A.EXPIRED]


def test_it_raises_camera_offline_once_and_expires_it_when_it_reports(zone):
    camera = zone.camera
    key = camera_key(camera)
    record(zone, 0, 1.0)  # seen at T0 + 30 s; offline after 60 s
    assert scan_cameras_offline(at=during(0, 50)) == 0
    assert scan_cameras_offline(at=during(1, 31)) == 1
    assert scan_cameras_offline(at=during(1, 45)) == 1
    assert scan_cameras_offline(at=during(2, 0)) == 1
    assert transitions(key) == [A.RAISED]
    alert = Alert.objects.get(key=key)
    assert alert.severity == Alert.Severity.HIGH and alert.hall == camera.hall
    record(zone, 2, 1.0)
    assert scan_cameras_offline(at=during(2, 35)) == 0
    assert transitions(key) == [A.RAISED, A.EXPIRED]


def test_it_raises_camera_offline_when_the_worker_sees_no_frames(zone):
    camera = zone.camera
    counts_ingest(
        camera=camera, health={"fps": 0, "online": False}, minutes=[], crossings=[], at=T0
    )
    assert scan_cameras_offline(at=T0 + dt.timedelta(seconds=5)) == 1
    camera.enabled = False
    camera.save()
    assert scan_cameras_offline(at=T0 + dt.timedelta(seconds=10)) == 0
    assert transitions(camera_key(camera)) == [A.RAISED, A.EXPIRED]


def test_it_raises_camera_offline_for_a_camera_that_never_reported(city):
    camera = make_camera(city.h1, created_at=T0)
    assert scan_cameras_offline(at=T0 + dt.timedelta(seconds=30)) == 0
    assert scan_cameras_offline(at=T0 + dt.timedelta(seconds=90)) == 1
    assert transitions(camera_key(camera)) == [A.RAISED]


def test_it_registers_the_scans_as_a_periodic_job(zone):
    assert "vision.run_alert_scans" in {job.name for job in periodic_jobs()}
    assert set(run_vision_alert_scans()) == {"congestion", "camera_offline"}


def test_it_flags_a_sustained_gap_between_people_and_tickets(zone, city):
    for i in range(6):
        record(zone, i, 9.0)
    # 9 people wait for 5 minutes and no one holds a ticket: people without tickets
    occupancy = hall_occupancy(city.h1, at=during(5))
    assert occupancy.sustained_gap == "people_without_tickets"
    assert (occupancy.people_waiting, occupancy.tickets_waiting, occupancy.gap) == (9.0, 0, 9.0)
    assert [z.zone for z in occupancy.zones] == [zone]
    # a gap missing one minute's counts is not sustained
    zone.minutes.filter(minute=minute(3)).delete()
    assert hall_occupancy(city.h1, at=during(5)).sustained_gap == ""


def test_it_flags_tickets_whose_holders_left(zone, city):
    for _ in range(10):
        ticket_issue(hall=city.h1, service=city.pension, at=T0 - dt.timedelta(minutes=5))
    for i in range(6):
        record(zone, i, 1.0)
    occupancy = hall_occupancy(city.h1, at=during(5))
    assert occupancy.tickets_waiting == 10
    assert occupancy.sustained_gap == "tickets_without_people"


def test_it_does_not_flag_people_matching_tickets(zone, city):
    for _ in range(8):
        ticket_issue(hall=city.h1, service=city.pension, at=T0 - dt.timedelta(minutes=5))
    for i in range(6):
        record(zone, i, 9.0)
    assert hall_occupancy(city.h1, at=during(5)).sustained_gap == ""


def test_it_reads_the_hall_occupancy_in_a_fixed_number_of_queries(
    zone, city, django_assert_max_num_queries
):
    for n in range(5):
        make_zone(zone.camera, f"extra {n}")
    record(zone, 0, 3.0)
    with django_assert_max_num_queries(6):
        hall_occupancy(city.h1, at=during(0))


def test_it_estimates_the_wait_of_a_line_without_tickets_from_arrivals(zone, city):
    camera = zone.camera
    door = make_zone(camera, "door", kind="entrance", line=[[0.1, 0.5], [0.9, 0.5]])
    line = make_zone(camera, "ticket machine", kind="queue_line")
    ticketed = make_zone(camera, "queue A", kind="queue_line", service=city.pension)
    assert hall_occupancy(city.h1, at=during(10)).arrivals_per_min is None
    # 4, 2, (minute 3 not counted), 6 people in: 4 a minute over the counted minutes
    counts_ingest(
        camera=camera,
        health={"online": True},
        minutes=[
            MinuteCount(zone_id=z.pk, minute=minute(9), mean=6.0, peak=7, samples=60)
            for z in (line, ticketed)
        ],
        crossings=[
            Crossing(zone_id=door.pk, minute=minute(i), in_count=n, out_count=1)
            for i, n in ((1, 4), (2, 2), (4, 6))
        ],
        at=during(9),
    )
    occupancy = hall_occupancy(city.h1, at=during(9))
    assert occupancy.arrivals_per_min == 4.0
    waits = {row.zone.name: row.estimated_wait_min for row in occupancy.zones}
    assert waits["ticket machine"] == 1.5  # 6 people ÷ 4 a minute
    assert waits["queue A"] is None  # its tickets tell its wait
    assert waits["door"] is None
