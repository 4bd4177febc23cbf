from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HallOpsConfig(AppConfig):
    name = "hall_ops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        # The operations layer listens to the queue; the queue never imports it.
        from hall_ops.alerts.rules import on_ticket_event
        from queueing.events import add_ticket_event_listener

        add_ticket_event_listener(on_ticket_event)
