"""Every change of the vision app's rows is one function here: worker tokens, counts
from the worker, the calibration snapshot, zones saved from the editor. Callers check
access first (vision.api, vision.views); these assume valid, permitted input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from queueing.models import ApiToken, Service
from queueing.tokens import api_token_create
from vision.models import Camera, LineCrossing, Zone, ZoneMinute

# A calibration snapshot lives this long in the cache, and nowhere else.
SNAPSHOT_TTL_S = 10 * 60
SNAPSHOT_MAX_BYTES = 2 * 1024 * 1024


def snapshot_cache_key(camera_id: int) -> str:
    return f"vision:snapshot:{camera_id}"


def camera_token_create(*, name: str, cameras: Iterable[Camera]) -> tuple[ApiToken, str]:
    """A token for a vision worker that reads and reports `cameras` and nothing else
    (no hall: the queue API refuses it). Returns the key, which is never stored."""
    with transaction.atomic():
        token, key = api_token_create(name=name, halls=[])
        for camera in cameras:
            camera.api_tokens.add(token)
    return token, key


@dataclass(frozen=True)
class MinuteCount:
    zone_id: int
    minute: dt.datetime
    mean: float
    peak: int
    samples: int


@dataclass(frozen=True)
class Crossing:
    zone_id: int
    minute: dt.datetime
    in_count: int
    out_count: int


@dataclass
class IngestResult:
    minutes: int = 0
    crossings: int = 0
    unchanged: int = 0
    zone_ids: set[int] = field(default_factory=set)


def counts_ingest(
    *,
    camera: Camera,
    health: dict[str, Any],
    minutes: Sequence[MinuteCount],
    crossings: Sequence[Crossing],
    at: dt.datetime | None = None,
) -> IngestResult:
    """Store a batch from the worker and mark the camera seen.

    Idempotent per zone and minute: a minute still running may be posted again with
    more samples, so the figures with the most samples stay (equal: the newer), and a
    replayed batch changes nothing. Crossings keep the larger in+out likewise. The
    zones must be the camera's (vision.api checks).
    """
    now = at or timezone.now()
    result = IngestResult()
    with transaction.atomic():
        # Lock the camera: two posts for it are applied one after the other, so the
        # "most samples wins" comparison below sees the other's rows.
        Camera.objects.select_for_update().filter(pk=camera.pk).update(
            last_seen_at=now, last_health=health
        )
        camera.last_seen_at, camera.last_health = now, health
        _upsert_minutes(minutes, now, result)
        _upsert_crossings(crossings, now, result)
    return result


def _latest_per_key(items: Iterable[Any], score: Any) -> dict[tuple[int, dt.datetime], Any]:
    """One item per zone and minute: the best scored, the later one on a tie."""
    best: dict[tuple[int, dt.datetime], Any] = {}
    for item in items:
        key = (item.zone_id, item.minute)
        if key not in best or score(item) >= score(best[key]):
            best[key] = item
    return best


def _upsert_minutes(items: Sequence[MinuteCount], now: dt.datetime, result: IngestResult) -> None:
    incoming = _latest_per_key(items, lambda m: m.samples)
    if not incoming:
        return
    zone_ids = {zone for zone, _minute in incoming}
    result.zone_ids |= zone_ids
    existing = {
        (row.zone_id, row.minute): row
        for row in ZoneMinute.objects.filter(
            zone_id__in=zone_ids, minute__in={m for _z, m in incoming}
        )
    }
    new, changed = [], []
    for key, item in incoming.items():
        row = existing.get(key)
        if row is None:
            new.append(
                ZoneMinute(
                    zone_id=item.zone_id,
                    minute=item.minute,
                    mean=item.mean,
                    peak=item.peak,
                    samples=item.samples,
                    received_at=now,
                )
            )
        elif item.samples < row.samples or (
            (row.mean, row.peak, row.samples) == (item.mean, item.peak, item.samples)
        ):
            result.unchanged += 1
        else:
            row.mean, row.peak, row.samples, row.received_at = (
                item.mean,
                item.peak,
                item.samples,
                now,
            )
            changed.append(row)
    ZoneMinute.objects.bulk_create(new)
    ZoneMinute.objects.bulk_update(changed, ["mean", "peak", "samples", "received_at"])
    result.minutes += len(new) + len(changed)


def _upsert_crossings(items: Sequence[Crossing], now: dt.datetime, result: IngestResult) -> None:
    incoming = _latest_per_key(items, lambda c: c.in_count + c.out_count)
    if not incoming:
        return
    zone_ids = {zone for zone, _minute in incoming}
    existing = {
        (row.zone_id, row.minute): row
        for row in LineCrossing.objects.filter(
            zone_id__in=zone_ids, minute__in={m for _z, m in incoming}
        )
    }
    new, changed = [], []
    for key, item in incoming.items():
        row = existing.get(key)
        if row is None:
            new.append(
                LineCrossing(
                    zone_id=item.zone_id,
                    minute=item.minute,
                    in_count=item.in_count,
                    out_count=item.out_count,
                    received_at=now,
                )
            )
        elif item.in_count + item.out_count < row.in_count + row.out_count or (
            (row.in_count, row.out_count) == (item.in_count, item.out_count)
        ):
            result.unchanged += 1
        else:
            row.in_count, row.out_count, row.received_at = item.in_count, item.out_count, now
            changed.append(row)
    LineCrossing.objects.bulk_create(new)
    LineCrossing.objects.bulk_update(changed, ["in_count", "out_count", "received_at"])
    result.crossings += len(new) + len(changed)


def snapshot_store(*, camera: Camera, jpeg: bytes) -> None:
    """Keep the worker's blurred calibration snapshot for the zone editor, in the cache
    only (it shows the hall: never the database, never a file)."""
    cache.set(snapshot_cache_key(camera.pk), jpeg, SNAPSHOT_TTL_S)


@dataclass(frozen=True)
class ZoneEdit:
    """A zone as the editor sends it; `id` None for a new one."""

    id: int | None
    name: str
    kind: str
    polygon: list[list[float]]
    capacity: int
    line: list[list[float]] | None = None
    service: Service | None = None


def zones_save(*, camera: Camera, zones: Sequence[ZoneEdit]) -> list[Zone]:
    """Make the camera's zones exactly `zones`: update those with an id, create the
    others, delete the ones left out (with their counts). Each is full_clean()ed; a
    ValidationError rolls the whole save back."""
    with transaction.atomic():
        current = {z.pk: z for z in Zone.objects.select_for_update().filter(camera=camera)}
        kept = {edit.id for edit in zones if edit.id is not None}
        Zone.objects.filter(camera=camera).exclude(pk__in=kept).delete()
        saved = []
        for edit in zones:
            zone = current.get(edit.id) if edit.id is not None else None
            if zone is None:
                zone = Zone(camera=camera)
            zone.name, zone.kind, zone.polygon = edit.name, edit.kind, edit.polygon
            zone.capacity, zone.line, zone.service = edit.capacity, edit.line, edit.service
            try:
                zone.full_clean(exclude=["camera"], validate_unique=False)
            except ValidationError as invalid:
                # name the zone and its field: the editor shows every zone at once
                raise ValidationError(
                    [
                        f"{edit.name} ({field}): {message}"
                        for field, messages in invalid.message_dict.items()
                        for message in messages
                    ]
                ) from None
            zone.save()
            saved.append(zone)
    return saved
