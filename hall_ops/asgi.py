"""ASGI entry point: HTTP through Django, WebSockets through Channels.

In the embedded default (no REDIS_URL, so no Celery beat) this process also runs the
periodic jobs in a daemon thread: see hall_ops.scheduler.
"""

import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hall_ops.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from hall_ops.routing import websocket_urlpatterns  # noqa: E402
from hall_ops.scheduler import start_embedded_scheduler  # noqa: E402
from hall_ops.ws_origin import SameOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Tests import this module for the WebSocket routes; they run jobs themselves.
if settings.EMBEDDED_SCHEDULER and "pytest" not in sys.modules:
    start_embedded_scheduler()
