"""The zone editor: the hall manager draws the camera's zones on its blurred
calibration snapshot and sets their capacities. Managers of the camera's hall only
(queueing.access.MANAGE_ROLES); another hall's camera is a 404 here, as an unknown one.

The snapshot comes from the worker (POST /api/v1/vision/cameras/{id}/snapshot) and is
read from the cache; it is never written to the database or to disk, and is served
with no-store so browsers do not keep it either.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from queueing.access import MANAGE_ROLES, access_hall_for_user
from queueing.views.common import StaffRequest, render_page
from vision import services
from vision.forms import ZonesForm
from vision.models import Camera, Zone

TEMPLATE = "vision/zones.html"


def access_camera_for_user(request: StaffRequest, code: str, camera_id: int) -> Camera:
    hall = access_hall_for_user(request.user, code, MANAGE_ROLES)
    camera = Camera.objects.select_related("hall").filter(pk=camera_id, hall=hall).first()
    if camera is None:
        raise Http404(_("No such camera."))
    return camera


def _zones_json(camera: Camera) -> list[dict[str, object]]:
    return [
        {
            "id": z.pk,
            "name": z.name,
            "kind": z.kind,
            "capacity": z.capacity,
            "polygon": z.polygon,
            "line": z.line,
            "service": z.service_id,
        }
        for z in camera.zones.order_by("pk")
    ]


def _drawn(camera: Camera, posted: str | None) -> list[object]:
    """What the editor draws: the refused zones as sent, so nothing drawn is lost,
    when they are still a list; else the saved ones."""
    if posted:
        try:
            value = json.loads(posted)
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
            value = None
        if isinstance(value, list):
            return value
    return list(_zones_json(camera))


@login_required
@require_http_methods(["GET", "POST"])
def zones(request: StaffRequest, code: str, camera_id: int) -> HttpResponse:
    camera = access_camera_for_user(request, code, camera_id)
    form = ZonesForm(request.POST or None, hall=camera.hall)
    error = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                services.zones_save(camera=camera, zones=form.cleaned_data["zones"])
            except ValidationError as invalid:
                error = "; ".join(invalid.messages)
            else:
                return redirect("vision:zones", code=camera.hall.code, camera_id=camera.pk)
        else:
            error = "; ".join(str(e) for e in form.errors.get("zones", []))
    context = {
        "camera": camera,
        "hall": camera.hall,
        "form": form,
        "error": error,
        "zones": _drawn(camera, request.POST.get("zones", "") if error else None),
        "zones_text": request.POST.get("zones", "") if error else None,
        "kinds": Zone.Kind.choices,
        "services": [
            [s.pk, f"{s.prefix} {s.display_name}"] for s in camera.hall.services.order_by("prefix")
        ],
        "labels": {"zone": _("Zone"), "none": _("none")},
        "has_snapshot": cache.get(services.snapshot_cache_key(camera.pk)) is not None,
    }
    return render_page(request, TEMPLATE, context, status=422 if error else 200)


@login_required
@require_GET
def snapshot(request: StaffRequest, code: str, camera_id: int) -> HttpResponse:
    camera = access_camera_for_user(request, code, camera_id)
    jpeg = cache.get(services.snapshot_cache_key(camera.pk))
    if jpeg is None:
        raise Http404(_("No snapshot: the camera's worker has not sent one lately."))
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response
