"""Which pages may open the live sockets: this site's own, by scheme, host and port.

A browser sends `Origin` with every WebSocket handshake. The handshake is let through
when the origin is this site itself (same scheme, host and port as the request, the
host being one of ALLOWED_HOSTS) or one of CSRF_TRUSTED_ORIGINS, compared exactly.
Channels' AllowedHostsOriginValidator compared the host name only, so a page on
another port of the same host, or a plain-http page of an https site, could subscribe.
Behind a TLS-terminating proxy the request's scheme is read from SECURE_PROXY_SSL_HEADER
(the same setting Django's HTTP side trusts).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}


def _request_scheme(scope: dict[str, Any], headers: dict[str, str]) -> str:
    if scope.get("scheme") == "wss":
        return "https"
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, value = proxy_header
        key = name.removeprefix("HTTP_").replace("_", "-").lower()
        if headers.get(key) == value:
            return "https"
    return "http"


def origin_allowed(scope: dict[str, Any]) -> bool:
    headers = _headers(scope)
    origin = _origin_tuple(headers.get("origin", ""))
    if origin is None:
        return False
    trusted = {_origin_tuple(url) for url in settings.CSRF_TRUSTED_ORIGINS}
    if origin in trusted:
        return True
    host = headers.get("host", "")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin == _origin_tuple(f"{_request_scheme(scope, headers)}://{host}")


class SameOriginValidator:
    """ASGI middleware: refuse a WebSocket handshake whose Origin is not this site."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
