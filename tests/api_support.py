"""Helpers for the API tests: a client that sends a bearer token, and every route."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

from queueing.models import ApiToken, Hall, Ticket, Window
from queueing.tokens import api_token_create

API = "/api/v1"


@dataclass
class ApiClient:
    """A Django test client that sends `Authorization: Bearer <key>` (or nothing)."""

    key: str | None
    token: ApiToken | None = None

    def _headers(self) -> dict[str, str]:
        # a machine client asking for English messages (the API follows Accept-Language)
        headers = {"Accept-Language": "en"}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        return headers

    def get(self, path: str) -> Any:
        return Client().get(API + path, headers=self._headers())

    def post(self, path: str, body: Any = None, *, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps({} if body is None else body)
        return Client().post(
            API + path, data=data, content_type="application/json", headers=self._headers()
        )

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.get(path) if method == "GET" else self.post(path, body)


@dataclass
class TokenClient(ApiClient):
    """An ApiClient made with a fresh token, kept for the test to inspect."""

    key: str
    token: ApiToken


def token_client(*halls: Hall, name: str = "queue system") -> TokenClient:
    token, key = api_token_create(name=name, halls=halls)
    return TokenClient(key=key, token=token)


def issue(api: ApiClient, hall: Hall, service: str = "A", **fields: Any) -> dict[str, Any]:
    response = api.post(f"/halls/{hall.code}/tickets", {"service": service, **fields})
    assert response.status_code == 201, response.content
    return dict(response.json())


def routes(hall: Hall, ticket: Ticket, window: Window) -> list[tuple[str, str, dict[str, Any]]]:
    """Every route of the API, with a body it would accept."""
    t, w = f"/tickets/{ticket.pk}", f"/windows/{window.pk}"
    event = {"id": "e-1", "ts": "2026-03-02T09:00:00+08:00", "event": "window_open"}
    return [
        ("POST", f"/halls/{hall.code}/tickets", {"service": "A"}),
        ("GET", f"/halls/{hall.code}/state", {}),
        ("POST", f"/halls/{hall.code}/events", {"events": [{**event, "window": window.label}]}),
        ("GET", t, {}),
        ("POST", f"{t}/call", {"window": window.pk}),
        ("POST", f"{t}/recall", {}),
        ("POST", f"{t}/start", {}),
        ("POST", f"{t}/complete", {"outcome": "done"}),
        ("POST", f"{t}/no-show", {}),
        ("POST", f"{t}/transfer", {"service": "B"}),
        ("POST", f"{t}/cancel", {"reason": "left"}),
        ("GET", w, {}),
        ("POST", f"{w}/call-next", {}),
        ("POST", f"{w}/status", {"status": "paused"}),
    ]
