"""Login lockout helpers for django-axes: the client address and the lockout page.

The address a request came from, as far as this deployment can trust it:
Behind `TRUSTED_PROXY_COUNT` reverse proxies, each appending the address it received
the request from to `X-Forwarded-For`, the last `TRUSTED_PROXY_COUNT` entries were
written by our proxies and the leftmost of those is the client as the outermost proxy
saw it. Anything further left was written by the client and may be forged, so it is
never read. With no proxy configured the header is ignored and `REMOTE_ADDR` is used.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR", ""))
    count: int = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    raw = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in raw.split(",") if hop.strip()]
    if len(hops) < count:
        # the request skipped a proxy we expect: the nearest peer is all we know
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """The translated lockout page (429), saying how long the lock lasts."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)
