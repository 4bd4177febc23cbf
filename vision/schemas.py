"""What the vision worker sends to the app, and what it gets back: the contract between
`vision/pipeline/` (the worker) and `vision/api.py` (the app), mounted at /api/v1/vision/.

Authentication: `Authorization: Bearer <key>`, a key made by
`manage.py create_camera_token NAME --camera ID [--camera ID ...]`. A key acts only on
its cameras: another camera's id is a 403, an unknown one a 404, no or a bad key a 401.

1. On start (and every few minutes, to pick up edits) the worker loads each camera's
   zones: `GET /api/v1/vision/cameras/{id}/config` → `CameraConfigOut`:

       {"camera": 3, "hall": "h1", "name": "entrance", "enabled": true,
        "source": "rtsp://viewer:${CAMERA_ENTRANCE_PASSWORD}@10.0.0.5/sub",
        "sample_fps": 1.0, "offline_after_s": 60,
        "zones": [{"id": 7, "name": "queue A", "kind": "queue_line", "capacity": 12,
                   "polygon": [[0.1, 0.5], [0.4, 0.5], [0.4, 0.9]], "line": null}]}

   `source` may hold `${NAME}` placeholders: the worker fills them from its own
   environment (`vision.sources.expand_source`); credentials never reach the app's
   database. Polygons are in 0–1 image coordinates (x right, y down). A zone's optional
   `line` is two points [[x1, y1], [x2, y2]] to count crossings on: walking from the
   left of the first→second direction to its right is "in".

2. Every few seconds (a batch per camera) the worker posts what it counted:
   `POST /api/v1/vision/counts` with a `CountsBatchIn`:

       {"camera": 3,
        "batch": "3-2026-03-02T09:15:10Z",            (optional, for the logs)
        "health": {"fps": 1.0, "last_frame_at": "2026-03-02T09:15:09+08:00",
                   "backend": "ssdlite-onnx", "tracker": "bytetrack", "online": true,
                   "dropped_minutes": 0},
        "minutes": [{"zone": 7, "minute": "2026-03-02T09:15:00+08:00",
                     "mean": 3.4, "peak": 5, "samples": 10}],
        "crossings": [{"zone": 6, "minute": "2026-03-02T09:15:00+08:00",
                       "in": 2, "out": 1}]}

   - `minute` is the start of a calendar minute (seconds and microseconds zero), with
     a UTC offset.
   - `mean` is the time-weighted mean count of people in the zone over the part of
     the minute that was observed (each sample holds until the next one;
     `vision.minutes.MinuteAccumulator` computes it), `peak` the largest sample,
     `samples` how many samples were taken. A minute with no observation is left out,
     never sent as zero: an absent minute means "unknown", zero means "seen empty".
   - A minute may be sent again while it is still running, with the figures so far:
     the app keeps, per zone and minute, the figures with the most samples (equal:
     the later post). Crossings likewise keep the larger in+out. So a retried or
     replayed batch changes nothing, and the last post of a minute is what stays.
   - `health` is required; a batch with only health (no minutes) is a heartbeat. The
     app marks the camera seen at the time the batch arrives; `online: false` (the
     watchdog saw no frame) makes the camera count as offline at once.
     `dropped_minutes` counts the minutes the worker's full outbox dropped while the
     app was unreachable (they will never arrive); `tracker` names the person tracker.
   - At most 1000 minutes and 1000 crossings per batch.

   Answer 200 `CountsResultOut` `{"minutes": n, "crossings": n, "unchanged": n}`.
   Input at fault is a 422 `{"detail": [{"loc": ["body", "minutes", 0, "zone"],
   "msg": ...}]}` naming the field, and nothing of the batch is saved: a zone of
   another camera, a minute not on a minute boundary, a mean above the peak, a minute
   in the future. Fix the batch rather than retry it. 503 and connection errors are
   the ones to retry (with backoff, buffering on disk meanwhile).

3. For the zone editor, the worker may post a calibration snapshot, people already
   blurred: `POST /api/v1/vision/cameras/{id}/snapshot` with the JPEG bytes as the body
   (`Content-Type: image/jpeg`, at most 2 MB). The app keeps it in its cache for a few
   minutes, never in the database or on disk. Answer 204.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, Field, model_validator

from queueing.api.schemas import ObjectId, Storable

MAX_ITEMS = 1000
# Counts from further ahead than this are a clock fault on the edge box.
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
EARLIEST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
MAX_PEOPLE = 10_000


def _on_minute(value: dt.datetime) -> dt.datetime:
    if value.second or value.microsecond:
        raise ValueError("must be the start of a minute (seconds zero)")
    if not EARLIEST <= value <= timezone.now() + MAX_CLOCK_SKEW:
        raise ValueError("must lie between 2020 and now (check the clock)")
    return value


Minute = Annotated[
    AwareDatetime,
    AfterValidator(_on_minute),
    Field(description="Start of the minute, ISO 8601 with offset: 2026-03-02T09:15:00+08:00"),
]
People = Annotated[int, Field(ge=0, le=MAX_PEOPLE)]


class HealthIn(Schema):
    fps: float = Field(ge=0, le=1000, description="frames analysed per second lately")
    last_frame_at: AwareDatetime | None = Field(
        default=None, description="capture time of the last frame read; null: none yet"
    )
    backend: Annotated[str, Field(max_length=40), Storable] = Field(
        default="", description="detector in use: yolo, ssdlite-onnx, hog, ..."
    )
    online: bool = Field(default=True, description="false: the watchdog sees no frames")
    tracker: Annotated[str, Field(max_length=40), Storable] = Field(
        default="", description="person tracker in use: bytetrack, iou; none: no counting line"
    )
    dropped_minutes: int = Field(
        default=0,
        ge=0,
        le=10_000_000,
        description="minutes of counts the worker dropped from its full outbox: never sent",
    )


class MinuteIn(Schema):
    zone: ObjectId
    minute: Minute
    mean: float = Field(ge=0, le=MAX_PEOPLE, description="time-weighted mean people; at most peak")
    peak: People
    samples: int = Field(ge=1, le=100_000)

    @model_validator(mode="after")
    def _mean_within_peak(self) -> MinuteIn:
        if self.mean > self.peak + 1e-6:
            raise ValueError("mean must not exceed peak")
        return self


class CrossingIn(Schema):
    zone: ObjectId
    minute: Minute
    in_: People = Field(alias="in")
    out: People

    model_config = {"populate_by_name": True}


class CountsBatchIn(Schema):
    camera: ObjectId
    batch: Annotated[str, Field(max_length=100), Storable] = ""
    health: HealthIn
    minutes: list[MinuteIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    crossings: list[CrossingIn] = Field(default_factory=list, max_length=MAX_ITEMS)


class CountsResultOut(Schema):
    minutes: int = Field(description="minute figures stored or replaced")
    crossings: int = Field(description="crossing figures stored or replaced")
    unchanged: int = Field(description="items already known with as many samples")


class ZoneOut(Schema):
    id: int
    name: str
    kind: str = Field(description="entrance, waiting_area, queue_line or window_area")
    capacity: int
    polygon: list[tuple[float, float]]
    line: list[tuple[float, float]] | None


class CameraConfigOut(Schema):
    camera: int
    hall: str
    name: str
    enabled: bool
    source: str
    sample_fps: float
    offline_after_s: int
    zones: list[ZoneOut]
