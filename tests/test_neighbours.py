"""Neighbouring halls: distance, who counts as a neighbour, the "much shorter" flag, the
30-second cache, and the hall-state API that carries them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from queueing import services
from queueing.estimation import Estimate
from queueing.estimation.neighbours import (
    best_alternative,
    cached_arrival_estimates,
    distance_km,
    much_shorter,
    nearby_halls,
)
from queueing.models import Hall
from queueing.selectors import arrival_estimates
from tests.api_support import token_client
from tests.factories import make_hall, make_service, make_window, offer

pytestmark = pytest.mark.usefixtures("fresh_cache")


def place(hall: Hall, lat: float, lon: float) -> Hall:
    hall.latitude, hall.longitude = Decimal(str(lat)), Decimal(str(lon))
    hall.save(update_fields=["latitude", "longitude"])
    return hall


@pytest.fixture
def placed(city):
    """h1 with a long pension queue; h2 0.1 degree north (11.1 km), empty; h3 111 km
    away; h5 not placed."""
    place(city.h1, 22.5, 114.0)
    place(city.h2, 22.6, 114.0)
    far = place(make_hall("h3"), 23.5, 114.0)  # 111 km
    offer(far, city.pension)
    make_window(far, "W01", [city.pension])
    unplaced = make_hall("h5")
    offer(unplaced, city.pension)
    make_window(unplaced, "W01", [city.pension])
    now = timezone.now()
    for i in range(40):
        services.ticket_issue(
            hall=city.h1, service=city.pension, at=now - dt.timedelta(seconds=60 - i)
        )
    return city


def known(estimate: Estimate | None) -> Estimate:
    assert estimate is not None
    return estimate


def here(city) -> dict[int, Estimate | None]:
    return arrival_estimates(city.h1, services=[city.pension, city.social])


def test_it_measures_great_circle_distance():
    a = Hall(latitude=Decimal("22.5"), longitude=Decimal("114.0"))
    b = Hall(latitude=Decimal("22.6"), longitude=Decimal("114.0"))
    # 0.1 degree of latitude is 0.1 x 2 pi R / 360 = 11.12 km
    assert distance_km(a, b) == pytest.approx(11.119, abs=0.01)
    # futian to nanshan, as a map measures it: about 12 km
    futian = Hall(latitude=Decimal("22.5431"), longitude=Decimal("114.0579"))
    nanshan = Hall(latitude=Decimal("22.5333"), longitude=Decimal("113.9305"))
    assert distance_km(futian, nanshan) == pytest.approx(13.1, abs=0.3)
    assert distance_km(a, Hall(latitude=None, longitude=Decimal("114"))) is None


def test_it_says_much_shorter_only_when_it_saves_15_minutes_and_halves_the_wait():
    def e(minutes: float) -> Estimate:
        return Estimate(int(minutes * 60), 0, int(minutes * 90))

    assert much_shorter(e(10), e(45))
    assert not much_shorter(e(10), e(20))  # half, but saves only 10 minutes
    assert not much_shorter(e(30), e(50))  # saves 20 minutes, but not half
    assert not much_shorter(None, e(45)) and not much_shorter(e(1), None)


def test_it_lists_placed_halls_within_the_radius_offering_the_service(placed):
    city = placed
    ours = here(city)
    nearby = nearby_halls(city.h1, here=ours)
    pensions = nearby[city.pension.pk]
    assert [n.hall.code for n in pensions] == ["h2"]  # not far h3, not unplaced h5
    assert pensions[0].distance_km == pytest.approx(11.12, abs=0.01)
    # h1's pension queue is long, h2 has an open window and nobody waiting
    assert known(ours[city.pension.pk]).expected_s > 30 * 60
    assert pensions[0].estimate is not None and pensions[0].estimate.expected_s < 5 * 60
    assert pensions[0].much_shorter and best_alternative(pensions) is pensions[0]
    # social insurance shares h1's windows with the pension queue: long here as well
    assert nearby[city.social.pk][0].much_shorter == much_shorter(
        nearby[city.social.pk][0].estimate, ours[city.social.pk]
    )


def test_it_follows_the_configured_radius(placed):
    city = placed
    with override_settings(HALL_NEARBY_KM=10):
        assert nearby_halls(city.h1, here=here(city)) == {}
    with override_settings(HALL_NEARBY_KM=200):
        codes = [n.hall.code for n in nearby_halls(city.h1, here=here(city))[city.pension.pk]]
        assert sorted(codes) == ["h2", "h3"]


def test_it_never_matches_a_hall_without_coordinates(placed):
    city = placed
    city.h1.latitude = None
    city.h1.save(update_fields=["latitude"])
    assert nearby_halls(city.h1, here=here(city)) == {}


def test_it_leaves_out_a_hall_that_does_not_offer_the_service(placed):
    city = placed
    other = make_service("C", code="employment")
    offer(city.h1, other)
    nearby = nearby_halls(city.h1, here=arrival_estimates(city.h1, services=[other]))
    assert other.pk not in nearby


def test_it_caches_a_hall_s_estimates_for_thirty_seconds(placed):
    city = placed
    first = cached_arrival_estimates(city.h2)
    for _ in range(30):
        services.ticket_issue(hall=city.h2, service=city.pension)
    with CaptureQueriesContext(connection) as queries:
        again = cached_arrival_estimates(city.h2)
        nearby_halls(city.h1, here=here(city))
    assert again == first  # the cached figure, not the new queue
    # h1's own estimate (3) + halls (1) + offers (1): no simulation of h2
    assert len(queries) <= 5
    cache.clear()
    assert known(cached_arrival_estimates(city.h2)[city.pension.pk]).expected_s > (
        known(first[city.pension.pk]).expected_s
    )


def test_the_hall_state_api_carries_nearby_halls(placed):
    city = placed
    body = token_client(city.h1).get("/halls/h1/state").json()
    pension = next(s for s in body["services"] if s["service"] == "A")
    assert pension["estimate"]["expected_s"] > 30 * 60
    [h2] = pension["nearby"]
    assert h2["hall"] == "h2" and h2["name"] == "Second Hall"
    assert h2["distance_km"] == 11.1 and h2["much_shorter"] is True
    assert set(h2["estimate"]) == {"expected_s", "low_s", "high_s"}
    # and h2's state lists h1, whose wait is no shorter
    back = token_client(city.h2).get("/halls/h2/state").json()
    assert [n["hall"] for n in back["services"][0]["nearby"]] == ["h1"]
    assert back["services"][0]["nearby"][0]["much_shorter"] is False


def test_the_hall_state_api_lists_no_neighbours_for_an_unplaced_hall(city):
    body = token_client(city.h1).get("/halls/h1/state").json()
    assert all(s["nearby"] == [] for s in body["services"])
