"""Builders for the vision app's tests (models, API, alerts, pages): a camera with
zones, a worker token, a counts batch. (tests/vision_support.py is the worker's.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from queueing.models import Hall
from tests.api_support import TokenClient
from vision.models import Camera, Zone
from vision.services import camera_token_create

SQUARE = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]


def make_camera(hall: Hall, name: str = "entrance", **fields: Any) -> Camera:
    fields.setdefault("source", "rtsp://viewer:${CAMERA_ENTRANCE_PASSWORD}@10.0.0.5/sub")
    return Camera.objects.create(hall=hall, name=name, **fields)


def make_zone(camera: Camera, name: str = "waiting", **fields: Any) -> Zone:
    fields.setdefault("kind", Zone.Kind.WAITING_AREA)
    fields.setdefault("polygon", SQUARE)
    fields.setdefault("capacity", 10)
    return Zone.objects.create(camera=camera, name=name, **fields)


def camera_client(*cameras: Camera) -> TokenClient:
    token, key = camera_token_create(name="edge box", cameras=cameras)
    return TokenClient(key=key, token=token)


def this_minute(ago: int = 0) -> dt.datetime:
    return timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=ago)


def batch(camera: Camera, *minutes: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "camera": camera.pk,
        "health": {"fps": 1.0, "backend": "hog", "online": True},
        "minutes": list(minutes),
    }
    body.update(fields)
    return body


def minute(zone: Zone, ago: int = 0, mean: float = 3.0, peak: int = 4, samples: int = 60) -> Any:
    return {
        "zone": zone.pk,
        "minute": this_minute(ago).isoformat(),
        "mean": mean,
        "peak": peak,
        "samples": samples,
    }
