"""The camera alert rules, run in the periodic scan (vision.tasks): a congested zone,
and a camera gone dark. Both go through hall_ops.alerts.services, keyed per zone or
camera, so a scan that finds nothing new changes nothing.

Congestion has hysteresis (thresholds in vision.selectors): it is raised once a zone
has been at the congested level for SUSTAIN_MINUTES observed minutes (entered at
≥ 100 % of capacity), and expires only when the zone falls below 90 % or stops being
counted; a zone hovering between the two keeps its one alert.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hall_ops.alerts.services import alert_expire, alert_raise
from hall_ops.models import Alert
from vision.models import Camera, Zone
from vision.selectors import (
    CONGESTED,
    CONGESTED_CLEAR,
    camera_is_offline,
    zone_occupancy,
)

K = Alert.Kind
SEV = Alert.Severity
SUSTAIN_MINUTES = 3
# Twice the capacity is no longer "busy": the hall manager should hear it louder.
HIGH_RATIO = 1.5


def congestion_key(zone: Zone | int) -> str:
    return f"{K.CONGESTION}:zone:{zone if isinstance(zone, int) else zone.pk}"


def camera_key(camera: Camera | int) -> str:
    return f"{K.CAMERA_OFFLINE}:camera:{camera if isinstance(camera, int) else camera.pk}"


def _active(kind: str) -> dict[str, Alert]:
    return {a.key: a for a in Alert.objects.filter(kind=kind, state__in=Alert.ACTIVE_STATES)}


def scan_congestion(*, at: dt.datetime | None = None) -> int:
    """Raise congestion for zones congested for SUSTAIN_MINUTES; expire the alerts of
    zones that fell below the lower threshold or are no longer counted. Returns the
    number raised or raised in severity."""
    now = at or timezone.now()
    active = _active(K.CONGESTION)
    zones = Zone.objects.filter(camera__enabled=True).select_related("camera__hall")
    changed = 0
    still: set[str] = set()
    for occupancy in zone_occupancy(zones, at=now):
        zone, ratio = occupancy.zone, occupancy.ratio
        key = congestion_key(zone)
        current = active.get(key)
        if ratio is None:
            continue  # unknown: expired below; the camera-offline rule speaks for it
        if current is not None:
            if ratio < CONGESTED_CLEAR:
                continue  # fell below the lower threshold: expired below
        elif not (occupancy.level == CONGESTED and occupancy.level_minutes >= SUSTAIN_MINUTES):
            continue
        still.add(key)  # new, or inside the hysteresis band: one alert, kept
        severity = SEV.HIGH if ratio >= HIGH_RATIO else SEV.WARNING
        if current is not None and current.severity >= severity:
            continue  # nothing new: no update, no push
        alert_raise(
            hall=zone.camera.hall,
            kind=K.CONGESTION,
            key=key,
            severity=severity,
            service=zone.service,
            context={
                "zone": zone.name,
                "zone_kind": zone.kind,
                "camera": zone.camera.name,
                "people": round(occupancy.people or 0.0, 1),
                "capacity": zone.capacity,
            },
            at=now,
        )
        changed += 1
    for key, alert in active.items():
        if key not in still:
            alert_expire(alert=alert, reason="zone no longer congested", at=now)
    return changed


def scan_cameras_offline(*, at: dt.datetime | None = None) -> int:
    """Raise camera-offline for every enabled camera without a report for its
    `offline_after_s` (or whose worker sees no frames); expire it once it reports
    again, or is disabled or removed. Returns the number of cameras offline."""
    now = at or timezone.now()
    active = _active(K.CAMERA_OFFLINE)
    offline: set[str] = set()
    for camera in Camera.objects.filter(enabled=True).select_related("hall"):
        if not camera_is_offline(camera, at=now):
            continue
        key = camera_key(camera)
        offline.add(key)
        if key in active:
            continue  # raised once; its context (last seen) is not refreshed every scan
        alert_raise(
            hall=camera.hall,
            kind=K.CAMERA_OFFLINE,
            key=key,
            severity=SEV.HIGH,
            context={
                "camera": camera.name,
                "last_seen_at": camera.last_seen_at.isoformat() if camera.last_seen_at else None,
                "backend": camera.last_health.get("backend", ""),
            },
            at=now,
        )
    for key, alert in active.items():
        if key not in offline:
            alert_expire(alert=alert, reason="camera reports again", at=now)
    return len(offline)


def run_vision_alert_scans(*, at: dt.datetime | None = None) -> dict[str, int]:
    now = at or timezone.now()
    return {
        "congestion": scan_congestion(at=now),
        "camera_offline": scan_cameras_offline(at=now),
    }
