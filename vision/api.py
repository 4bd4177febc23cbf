"""The vision worker's side of the API, at /api/v1/vision/ (contract: vision/schemas.py).

A worker's token (`manage.py create_camera_token`) is an ApiToken granted cameras
instead of halls: the same bearer check, hashing and revocation as the queue API.
Routes load their camera through `access_camera_for_token` (404 unknown, 403 not its).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import HttpError, ValidationError

from queueing.api.auth import token_of
from queueing.api.schemas import ERRORS, ErrorOut, ObjectId
from queueing.models import ApiToken
from vision import services
from vision.models import Camera
from vision.schemas import CameraConfigOut, CountsBatchIn, CountsResultOut, ZoneOut

router = Router(tags=["vision"])


def access_camera_for_token(token: ApiToken, camera_id: int) -> Camera:
    camera = Camera.objects.select_related("hall").filter(pk=camera_id).first()
    if camera is None:
        raise HttpError(404, _("No such camera."))
    if not camera.api_tokens.filter(pk=token.pk).exists():
        raise HttpError(
            403, _("This API token is not valid for camera %(id)s.") % {"id": camera.pk}
        )
    return camera


def _check_zones(camera: Camera, payload: CountsBatchIn) -> None:
    """Every zone named must be the camera's: a 422 naming each one that is not."""
    own = set(camera.zones.values_list("pk", flat=True))
    named = [("minutes", i, m.zone) for i, m in enumerate(payload.minutes)]
    named += [("crossings", i, c.zone) for i, c in enumerate(payload.crossings)]
    errors: list[dict[str, Any]] = [
        {
            "loc": ["body", part, index, "zone"],
            "msg": _("Not a zone of camera %(id)s.") % {"id": camera.pk},
            "type": "invalid",
        }
        for part, index, zone in named
        if zone not in own
    ]
    if errors:
        raise ValidationError(errors)


@router.post("/vision/counts", response={200: CountsResultOut, **ERRORS})
def vision_counts(request: HttpRequest, payload: CountsBatchIn) -> CountsResultOut:
    """Minute figures, line crossings and health of one camera, from its worker.

    Idempotent: per zone and minute the figures with the most samples stay, so a
    retried batch changes nothing. A 422 names the field at fault and saves nothing.
    """
    camera = access_camera_for_token(token_of(request), payload.camera)
    _check_zones(camera, payload)
    health = payload.health.model_dump(mode="json")
    result = services.counts_ingest(
        camera=camera,
        health=health,
        minutes=[
            services.MinuteCount(
                zone_id=m.zone, minute=m.minute, mean=m.mean, peak=m.peak, samples=m.samples
            )
            for m in payload.minutes
        ],
        crossings=[
            services.Crossing(zone_id=c.zone, minute=c.minute, in_count=c.in_, out_count=c.out)
            for c in payload.crossings
        ],
    )
    return CountsResultOut(
        minutes=result.minutes, crossings=result.crossings, unchanged=result.unchanged
    )


@router.get("/vision/cameras/{camera_id}/config", response={200: CameraConfigOut, **ERRORS})
def vision_camera_config(request: HttpRequest, camera_id: ObjectId) -> CameraConfigOut:
    """The camera's source (placeholders unexpanded), sampling rate and zones."""
    camera = access_camera_for_token(token_of(request), camera_id)
    return CameraConfigOut(
        camera=camera.pk,
        hall=camera.hall.code,
        name=camera.name,
        enabled=camera.enabled,
        source=camera.source,
        sample_fps=camera.sample_fps,
        offline_after_s=camera.offline_after_s,
        zones=[
            ZoneOut(
                id=z.pk,
                name=z.name,
                kind=z.kind,
                capacity=z.capacity,
                polygon=z.points,
                line=z.line,
            )
            for z in camera.zones.order_by("pk")
        ],
    )


@router.post(
    "/vision/cameras/{camera_id}/snapshot",
    response={204: None, 415: ErrorOut, **ERRORS},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def vision_camera_snapshot(request: HttpRequest, camera_id: ObjectId) -> HttpResponse:
    """A blurred calibration snapshot (JPEG bytes as the body) for the zone editor;
    kept in the cache for a few minutes only."""
    camera = access_camera_for_token(token_of(request), camera_id)
    jpeg = request.body
    if request.content_type != "image/jpeg":
        raise HttpError(415, _("Send the snapshot as Content-Type: image/jpeg."))
    if len(jpeg) > services.SNAPSHOT_MAX_BYTES:
        raise HttpError(413, _("The request body is too large."))
    if not jpeg.startswith(b"\xff\xd8"):
        raise ValidationError([{"loc": ["body"], "msg": _("Not a JPEG image."), "type": "invalid"}])
    services.snapshot_store(camera=camera, jpeg=jpeg)
    return HttpResponse(status=204)
