"""What is stored about a visitor does not rebuild their ID number: every stored row stays
consistent with at least 1,000 valid numbers (DESIGN.md §4), counted here exactly."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from queueing import services
from queueing.models import Ticket, Visitor
from queueing.national_id import _CHECK_CHARS, _WEIGHTS, area_code_valid, area_codes, check_char
from queueing.simulation.people import national_id_for
from tests.factories import national_id

BOUND = 1000


def _matches(value: str, shown: str) -> bool:
    return all(s in ("*", c) for c, s in zip(value, shown, strict=True))


def _residues(values: list[str], start: int) -> Counter[int]:
    """How many of `values` (the characters from position `start`) give each weighted
    sum mod 11."""
    weights = _WEIGHTS[start : start + len(values[0])] if values else ()
    return Counter(sum(int(c) * w for c, w in zip(v, weights, strict=True)) % 11 for v in values)


def _birth_dates(visitor: Visitor, tickets: list[Ticket]) -> list[str]:
    """Days of the stored birth year that agree with every ticket's stored age and flag."""
    days = []
    day = dt.date(visitor.birth_year, 1, 1)
    while day.year == visitor.birth_year:
        if all(_agrees(day, t) for t in tickets):
            days.append(f"{day:%Y%m%d}")
        day += dt.timedelta(days=1)
    return days


def _agrees(birth: dt.date, ticket: Ticket) -> bool:
    on = ticket.business_date
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if ticket.age_at_issue is not None and age != ticket.age_at_issue:
        return False
    return ticket.is_elderly == (age >= ticket.hall.elderly_age)


def candidates(visitor: Visitor, *, birth_dates: list[str] | None = None) -> int:
    """The valid ID numbers consistent with everything stored about `visitor`: an area
    code valid for the birth year, a birth date agreeing with the stored year and with
    every ticket's age and elderly flag, any sequence, the right check character, and
    the mask's shown characters. Counted exactly, by the weighted sum mod 11 of each
    part (the check character depends on nothing else)."""
    shown = visitor.masked_id
    assert len(shown) == 18
    tickets = list(visitor.tickets.select_related("hall"))
    areas = [c for c in area_codes() if area_code_valid(c, visitor.birth_year)]
    dates = birth_dates if birth_dates is not None else _birth_dates(visitor, tickets)
    sequences = [f"{n:03d}" for n in range(1000)]
    parts = [
        _residues([a for a in areas if _matches(a, shown[0:6])], 0),
        _residues([d for d in dates if _matches(d, shown[6:14])], 6),
        _residues([s for s in sequences if _matches(s, shown[14:17])], 14),
    ]
    total = 0
    for ra, na in parts[0].items():
        for rd, nd in parts[1].items():
            for rs, ns in parts[2].items():
                if shown[17] in ("*", _CHECK_CHARS[(ra + rd + rs) % 11]):
                    total += na * nd * ns
    return total


def _brute_force(visitor: Visitor, areas: list[str], dates: list[str]) -> int:
    shown = visitor.masked_id
    return sum(
        1
        for a in areas
        for d in dates
        for n in range(1000)
        if _matches((first17 := f"{a}{d}{n:03d}") + check_char(first17), shown)
    )


def _visit(city, number: str, on: dt.date) -> Ticket:
    at = dt.datetime.combine(on, dt.time(10), tzinfo=dt.UTC)
    return services.ticket_issue(hall=city.h1, service=city.pension, id_number=number, at=at)


SAMPLES = [
    national_id(dt.date(1950, 6, 7), region="440305", serial="987"),
    national_id(dt.date(1966, 11, 24), region="440306", serial="000"),
    national_id(dt.date(1990, 1, 1), region="110103", serial="456"),  # an abolished district
    national_id(dt.date(2001, 2, 28), region="810000", serial="031"),  # Hong Kong permit
    national_id(dt.date(1949, 12, 31), region="110105", serial="002"),  # check char X?
]


@pytest.mark.parametrize("number", SAMPLES)
def test_it_leaves_at_least_a_thousand_numbers_for_every_sample_visitor(city, number):
    ticket = _visit(city, number, dt.date(2026, 11, 23))
    visitor = Visitor.objects.get()
    assert ticket.visitor == visitor
    found = candidates(visitor)
    assert found >= BOUND, f"{visitor.masked_id} {visitor.birth_year}: {found}"


def test_it_leaves_at_least_a_thousand_for_the_demo_s_kind_of_visitors(city):
    """Visitors made as the demo and the simulator make them (Shenzhen districts and a
    few other cities, ages 18 to 90), each visiting twice a month apart."""
    rng = random.Random(12)
    day = dt.date(2026, 11, 23)
    counts = []
    for _ in range(12):
        number = national_id_for(rng.randint(18, 90), day, rng)
        _visit(city, number, day - dt.timedelta(days=30))
        ticket = _visit(city, number, day)
        assert ticket.visitor is not None
        counts.append(candidates(ticket.visitor))
    assert min(counts) >= BOUND, counts


def test_it_leaves_a_thousand_even_when_the_tickets_pin_the_birthday(city):
    """A visitor who came the day before and the day of their 60th birthday: the two
    tickets' ages pin the birth date to one day, and the bound still holds."""
    birth = dt.date(1966, 11, 24)
    number = national_id(birth, region="440303", serial="417")
    before = _visit(city, number, dt.date(2026, 11, 23))
    on_the_day = _visit(city, number, dt.date(2026, 11, 24))
    assert (before.is_elderly, on_the_day.is_elderly) == (False, True)
    visitor = Visitor.objects.get()
    assert _birth_dates(visitor, [before, on_the_day]) == ["19661124"]
    assert candidates(visitor) >= BOUND


def test_the_count_agrees_with_brute_force_enumeration(city):
    number = national_id(dt.date(1966, 11, 24), region="440303", serial="417")
    _visit(city, number, dt.date(2026, 11, 23))
    visitor = Visitor.objects.get()
    areas = ["440303", "440304", "110103"]
    dates = ["19661124", "19660301"]
    counted = candidates(visitor, birth_dates=dates)
    # the exact count over the chosen slice, by the same method, equals brute force
    shown = visitor.masked_id
    parts = [_residues(areas, 0), _residues(dates, 6)]
    seq = _residues([f"{n:03d}" for n in range(1000) if _matches(f"{n:03d}", shown[14:17])], 14)
    slice_count = sum(
        na * nd * ns
        for ra, na in parts[0].items()
        for rd, nd in parts[1].items()
        for rs, ns in seq.items()
        if _CHECK_CHARS[(ra + rd + rs) % 11] == shown[17] or shown[17] == "*"
    )
    assert slice_count == _brute_force(visitor, areas, dates) > 0
    assert counted > slice_count


def test_it_keeps_the_birth_year_and_the_last_two_characters_only(city):
    number = national_id(dt.date(1950, 6, 7), region="440305", serial="987")
    _visit(city, number, dt.date(2026, 11, 23))
    visitor = Visitor.objects.get()
    assert visitor.masked_id == "*" * 16 + number[-2:]
    assert visitor.birth_year == 1950
    assert not hasattr(visitor, "birth_date")


@pytest.mark.django_db(transaction=True)
def test_the_migration_coarsens_existing_visitors_and_alert_contexts():
    executor = MigrationExecutor(connection)
    old = [("queueing", "0005_ticket_hall_status_idx"), ("hall_ops", "0001_initial")]
    new = [
        ("queueing", "0006_visitor_birth_year_short_mask"),
        ("hall_ops", "0002_alert_context_short_mask"),
    ]
    executor.migrate(old)
    apps = executor.loader.project_state(old).apps
    OldVisitor = apps.get_model("queueing", "Visitor")
    OldAlert = apps.get_model("hall_ops", "Alert")
    OldHall = apps.get_model("queueing", "Hall")
    OldVisitor.objects.create(
        id_hmac="a" * 64, masked_id="4403**********987X", birth_date=dt.date(1950, 6, 7)
    )
    hall = OldHall.objects.create(code="m1", name="迁移", name_en="Migration")
    alert = OldAlert.objects.create(
        hall=hall,
        seq=1,
        kind="elderly",
        key="elderly:ticket:1",
        severity=1,
        context={"number": "A001", "visitor": "4403**********987X", "age": 76},
        raised_at=dt.datetime(2026, 11, 23, 2, tzinfo=dt.UTC),
    )
    executor = MigrationExecutor(connection)
    executor.migrate(new)
    executor.loader.build_graph()
    apps = executor.loader.project_state(new).apps
    visitor = apps.get_model("queueing", "Visitor").objects.get()
    assert (visitor.masked_id, visitor.birth_year) == ("*" * 16 + "7X", 1950)
    migrated = apps.get_model("hall_ops", "Alert").objects.get(pk=alert.pk)
    assert migrated.context == {"number": "A001", "visitor": "*" * 16 + "7X", "age": 76}
    executor.migrate(executor.loader.graph.leaf_nodes())
