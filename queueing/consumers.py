"""Live updates for a hall's pages: one WebSocket per open page, in the hall's group.

A message says only "the queue changed" (what and where); the page then fetches its
fragment over HTTP, where the usual permission checks and the database answer. The
channel layer may drop a message, so the pages also poll now and then.

Both live sockets (this one and hall_ops.consumers.AlertConsumer) build on
`LiveJsonConsumer`: a frame that is not JSON text (garbage, binary) is answered with
an error frame and the socket stays open; and every `ALERT_SESSION_RECHECK_S` seconds
the consumer checks that the session still holds its user and the user may still see
the hall, and closes (4401 logged out / 4403 forbidden) when not.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.http import Http404

from queueing.access import VIEW_ROLES, access_hall_for_user
from queueing.events import hall_group

# "Not allowed" (4000-4999 belong to applications), as the alert feed says it. Closing
# before accepting refuses the handshake: a browser sees only 1006 and keeps retrying
# with backoff, while its pages' next fetch, redirected to the login page, takes the
# user there (static/js/live.js).
CLOSE_FORBIDDEN = 4403
CLOSE_LOGGED_OUT = 4401


def session_user(scope: dict[str, Any]) -> User | None:
    """The scope's user as the session now stands: None once logged out (session gone,
    another user, password changed) or deactivated. Reads the database: call it in a
    thread."""
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    stored = SessionStore(session_key=key).load() if key else {}
    user = get_user_model().objects.filter(pk=scope["user"].pk, is_active=True).first()
    if (
        user is None
        or str(stored.get(SESSION_KEY)) != str(user.pk)
        or stored.get(HASH_SESSION_KEY) != user.get_session_auth_hash()
    ):
        return None
    return user


class LiveJsonConsumer(AsyncJsonWebsocketConsumer):
    """A JSON socket that survives bad frames and closes when its session ends."""

    _recheck: asyncio.Task[None] | None = None

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self.send_json({"type": "error", "detail": "expected a JSON text frame"})
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, RecursionError):
            await self.send_json({"type": "error", "detail": "not JSON"})
            return
        await self.receive_json(content, **kwargs)

    def start_recheck(self) -> None:
        self._recheck = asyncio.create_task(self._recheck_loop())

    def stop_recheck(self) -> None:
        if self._recheck is not None:
            self._recheck.cancel()

    async def _recheck_loop(self) -> None:
        while True:
            await asyncio.sleep(settings.ALERT_SESSION_RECHECK_S)
            verdict = await self.still_allowed()
            if verdict is not None:
                with contextlib.suppress(Exception):
                    await self.close(code=verdict)
                return

    async def still_allowed(self) -> int | None:
        """None while the user may go on; else the close code."""
        raise NotImplementedError


@database_sync_to_async
def _hall_id_for(user: Any, code: str) -> int | None:
    try:
        return access_hall_for_user(user, code, VIEW_ROLES).pk
    except (PermissionDenied, Http404):
        return None


@database_sync_to_async
def _queue_verdict(scope: dict[str, Any], code: str) -> int | None:
    user = session_user(scope)
    if user is None:
        return CLOSE_LOGGED_OUT
    try:
        access_hall_for_user(user, code, VIEW_ROLES)
    except (PermissionDenied, Http404):
        return CLOSE_FORBIDDEN
    return None


class HallQueueConsumer(LiveJsonConsumer):
    group: str | None = None

    async def connect(self) -> None:
        code = self.scope["url_route"]["kwargs"]["code"]
        hall_id = await _hall_id_for(self.scope["user"], code)
        if hall_id is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = hall_group(hall_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.start_recheck()

    async def disconnect(self, code: int) -> None:
        self.stop_recheck()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def still_allowed(self) -> int | None:
        return await _queue_verdict(self.scope, self.scope["url_route"]["kwargs"]["code"])

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The browser has nothing to say; whatever JSON it sends is ignored."""

    async def queue_changed(self, message: dict[str, Any]) -> None:
        await self.send_json(message)
