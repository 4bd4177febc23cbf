"""Connecting to the live feeds as a logged-in user, the way a browser does."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from hall_ops.asgi import application

ORIGIN = (b"origin", b"http://localhost")


def cookie_for(user: Any) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def connect(
    user: Any,
    hall: str = "h1",
    origin: tuple[bytes, bytes] = ORIGIN,
    *,
    feed: str = "alerts",
    host: bytes | None = None,
) -> tuple[WebsocketCommunicator, bool, Any]:
    """(communicator, connected, close code) for the `feed` socket of `hall`. The Host
    header is the origin's host and port unless given, as for a page of this site."""
    if host is None:
        host = origin[1].split(b"://", 1)[-1]
    headers = [origin, (b"host", host)]
    if user is not None:
        headers.append(await database_sync_to_async(cookie_for)(user))
    communicator = WebsocketCommunicator(application, f"/ws/halls/{hall}/{feed}/", headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code
