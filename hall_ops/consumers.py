"""The live alert feed over WebSocket: `ws/halls/<code>/alerts/`.

A user joins only the alert group of a hall where they hold an alert role. A push
carries the alert as read from the database after its commit (hall_ops.alerts.push);
the consumer forwards it. A browser that reconnects sends
`{"type": "resync", "since": <last seq>}` and receives everything it missed. Every
`ALERT_SESSION_RECHECK_S` seconds the consumer checks the session and the role again
and closes (4401 / 4403) when either is gone.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from hall_ops.alerts.push import alerts_group
from hall_ops.alerts.selectors import alert_as_dict, alerts_since, last_seq
from queueing.access import roles_for
from queueing.consumers import CLOSE_FORBIDDEN, CLOSE_LOGGED_OUT, LiveJsonConsumer, session_user
from queueing.models import Hall, StaffRole

ALERT_ROLES = {StaffRole.Role.FLOOR, StaffRole.Role.MANAGER, StaffRole.Role.DIRECTOR}
__all__ = ["CLOSE_FORBIDDEN", "CLOSE_LOGGED_OUT", "AlertConsumer"]


class AlertConsumer(LiveJsonConsumer):
    hall: Hall | None = None
    group: str | None = None

    async def connect(self) -> None:
        code = self.scope["url_route"]["kwargs"]["hall"]
        self.hall = await self._allowed_hall(code)
        if self.hall is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = alerts_group(self.hall.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.start_recheck()

    async def disconnect(self, code: int) -> None:
        self.stop_recheck()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "resync":
            await self.send_json({"type": "error", "detail": "expected {type: resync, since}"})
            return
        since = content.get("since", 0)
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            await self.send_json({"type": "error", "detail": "since: a non-negative integer"})
            return
        alerts, last = await self._since(since)
        await self.send_json({"type": "resync", "since": since, "last_seq": last, "alerts": alerts})

    async def alert_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "alert", "alert": event["alert"]})

    # ------------------------------------------------------------------ helpers

    async def still_allowed(self) -> int | None:
        return await self._verdict()

    @database_sync_to_async
    def _allowed_hall(self, code: str) -> Hall | None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        hall = Hall.objects.filter(code=code).first()
        if hall is None or not (user.is_superuser or roles_for(user, hall) & ALERT_ROLES):
            return None
        return hall

    @database_sync_to_async
    def _verdict(self) -> int | None:
        """None while the session and the role hold; else the close code."""
        user = session_user(self.scope)
        if user is None:
            return CLOSE_LOGGED_OUT
        assert self.hall is not None
        if not (user.is_superuser or roles_for(user, self.hall) & ALERT_ROLES):
            return CLOSE_FORBIDDEN
        return None

    @database_sync_to_async
    def _since(self, seq: int) -> tuple[list[dict[str, Any]], int]:
        assert self.hall is not None
        return [alert_as_dict(a) for a in alerts_since(self.hall, seq)], last_seq(self.hall)
