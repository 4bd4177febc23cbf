from django.urls import URLPattern, path

from queueing.consumers import HallQueueConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/halls/<slug:code>/queue/", HallQueueConsumer.as_asgi(), name="hall-queue"),
]


def hall_queue_path(code: str) -> str:
    """Where a page of hall `code` opens its live socket (the route above)."""
    return f"/ws/halls/{code}/queue/"
