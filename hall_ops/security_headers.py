"""The Permissions-Policy header: the browser features this site never uses, off.

Read from settings.PERMISSIONS_POLICY, `{feature: [allowed origins]}`; an empty list
means no one (`feature=()`), "self" this site. The Content-Security-Policy header is
django-csp's (settings.CONTENT_SECURITY_POLICY).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def permissions_policy_value(policy: dict[str, list[str]]) -> str:
    parts = []
    for feature, origins in policy.items():
        allowed = " ".join("self" if o == "self" else f'"{o}"' for o in origins)
        parts.append(f"{feature}=({allowed})")
    return ", ".join(parts)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.value = permissions_policy_value(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.value)
        return response
