"""What an external queue system sent us, where no TicketEvent row records it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queueing.models.organisation import Hall


class IngestedEvent(models.Model):
    """A window event (opened, paused, closed) ingested from an external queue system.

    Ticket events keep their external id on their TicketEvent row; a window event has
    none, so its id is kept here, and a retried batch applies it only once.
    """

    hall = models.ForeignKey(
        Hall, on_delete=models.CASCADE, related_name="+", verbose_name=_("hall")
    )
    external_id = models.CharField(_("external id"), max_length=100)
    kind = models.CharField(_("event"), max_length=16)
    at = models.DateTimeField(_("at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "external_id"], name="ingested_event_external_id_unique"
            ),
        ]
        verbose_name = _("ingested window event")
        verbose_name_plural = _("ingested window events")

    def __str__(self) -> str:
        return f"{self.external_id} {self.kind} {self.at:%H:%M:%S}"
