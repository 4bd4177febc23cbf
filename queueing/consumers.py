"""Live updates for a hall's pages: one WebSocket per open page, in the hall's group.

A message says only "the queue changed" (what and where); the page then fetches its
fragment over HTTP, where the usual permission checks and the database answer. The
channel layer may drop a message, so the pages also poll now and then.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.http import Http404

from queueing.access import VIEW_ROLES, access_hall_for_user
from queueing.events import hall_group

# "Not allowed" (4000-4999 belong to applications), as the alert feed says it. Closing
# before accepting refuses the handshake: a browser sees only 1006 and keeps retrying
# with backoff, while its pages' next fetch, redirected to the login page, takes the
# user there (static/js/live.js).
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _hall_id_for(user: Any, code: str) -> int | None:
    try:
        return access_hall_for_user(user, code, VIEW_ROLES).pk
    except (PermissionDenied, Http404):
        return None


class HallQueueConsumer(AsyncJsonWebsocketConsumer):
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

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """The browser has nothing to say; whatever it sends is ignored."""

    async def queue_changed(self, message: dict[str, Any]) -> None:
        await self.send_json(message)
