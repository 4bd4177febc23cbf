"""Neighbouring halls: where else a visitor could go for the same service, and whether
it is much quicker there.

Another hall is a neighbour when both have coordinates (a hall without them never
matches) and the great-circle distance is within settings.HALL_NEARBY_KM. Its wait is
what a regular visitor taking a number there now would be quoted; "much shorter" means
it saves at least MUCH_SHORTER_SAVES_S and is under MUCH_SHORTER_RATIO of the wait here.

Every kiosk render and every board or API refresh asks for several halls' estimates,
each a simulation of that hall's queue (a few milliseconds and 2-5 queries). So a
hall's arrival estimates are cached for CACHE_S seconds in the Django cache (Redis in
production, shared by all web processes): at most one simulation per hall per 30 s,
whatever the number of kiosks, and a neighbour's figure is at most 30 s old.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from queueing.estimation import Estimate, estimate_hall
from queueing.models import Hall, HallService

CACHE_S = 30
MUCH_SHORTER_SAVES_S = 15 * 60
MUCH_SHORTER_RATIO = 0.5
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Neighbour:
    hall: Hall
    distance_km: float
    estimate: Estimate | None
    much_shorter: bool


def distance_km(a: Hall, b: Hall) -> float | None:
    """Great-circle (haversine) distance, or None when either hall is not placed."""
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return None
    lat1, lon1, lat2, lon2 = (
        math.radians(float(v)) for v in (a.latitude, a.longitude, b.latitude, b.longitude)
    )
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _key(hall: Hall) -> str:
    return f"estimates:arrivals:{hall.pk}"


def cached_arrival_estimates(
    hall: Hall, *, at: dt.datetime | None = None
) -> dict[int, Estimate | None]:
    """A regular arrival's estimate per service id of the hall, at most CACHE_S old
    (0 queries when cached, else one simulation of the hall)."""
    found = cache.get(_key(hall))
    if found is not None:
        return {sid: Estimate(**e) if e else None for sid, e in found.items()}
    arrivals = estimate_hall(hall, at=at, tickets=False).arrivals
    # plain dicts, not pickled classes: the cache may be Redis, shared by processes
    cache.set(
        _key(hall),
        {sid: dataclasses.asdict(e) if e else None for sid, e in arrivals.items()},
        CACHE_S,
    )
    return arrivals


def much_shorter(there: Estimate | None, here: Estimate | None) -> bool:
    if there is None or here is None:
        return False
    return (
        here.expected_s - there.expected_s >= MUCH_SHORTER_SAVES_S
        and there.expected_s < MUCH_SHORTER_RATIO * here.expected_s
    )


def nearby_halls(
    hall: Hall,
    *,
    here: dict[int, Estimate | None],
    at: dt.datetime | None = None,
    radius_km: float | None = None,
) -> dict[int, list[Neighbour]]:
    """Per service id of `here` (this hall's arrival estimates), the halls within the
    radius that offer it, quickest first. 1 query when this hall is not placed or has no
    placed neighbour, else 2, plus one simulation per neighbour not in the cache."""
    radius = settings.HALL_NEARBY_KM if radius_km is None else radius_km
    if hall.latitude is None or hall.longitude is None or not here:
        return {}
    placed = Hall.objects.exclude(pk=hall.pk).filter(
        latitude__isnull=False, longitude__isnull=False
    )
    close: dict[int, tuple[Hall, float]] = {}
    for other in placed:
        km = distance_km(hall, other)
        if km is not None and km <= radius:
            close[other.pk] = (other, km)
    if not close:
        return {}
    offers: dict[int, list[int]] = {}
    for hall_id, service_id in HallService.objects.filter(
        hall_id__in=close, service_id__in=here, enabled=True
    ).values_list("hall_id", "service_id"):
        offers.setdefault(service_id, []).append(hall_id)
    estimates = {
        hall_id: cached_arrival_estimates(close[hall_id][0], at=at)
        for hall_id in {h for ids in offers.values() for h in ids}
    }
    result: dict[int, list[Neighbour]] = {}
    for service_id, hall_ids in offers.items():
        neighbours = []
        for hall_id in hall_ids:
            other, km = close[hall_id]
            there = estimates[hall_id].get(service_id)
            neighbours.append(
                Neighbour(
                    hall=other,
                    distance_km=km,
                    estimate=there,
                    much_shorter=much_shorter(there, here.get(service_id)),
                )
            )
        neighbours.sort(
            key=lambda n: (
                n.estimate is None,
                n.estimate.expected_s if n.estimate else 0,
                n.distance_km,
            )
        )
        result[service_id] = neighbours
    return result


def best_alternative(neighbours: list[Neighbour]) -> Neighbour | None:
    """The first neighbour that is much quicker (the list is quickest first)."""
    return next((n for n in neighbours if n.much_shorter), None)
