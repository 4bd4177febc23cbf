"""WebSocket routes of every app, in one list."""

from django.urls import URLPattern, path

from hall_ops.consumers import AlertConsumer
from queueing.routing import websocket_urlpatterns as queueing_ws

websocket_urlpatterns: list[URLPattern] = [
    *queueing_ws,
    path("ws/halls/<slug:hall>/alerts/", AlertConsumer.as_asgi(), name="hall-alerts"),
]
