"""Visitors, tickets and the append-only event log that every figure is computed from."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queueing.models.organisation import Hall, Service, Window


class Visitor(models.Model):
    """A pseudonymous person: never the raw ID number, only its keyed hash, a mask of its
    last two characters and the birth year (see queueing.national_id for why no more)."""

    id_hmac = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("ID hash")
    )
    masked_id = models.CharField(_("masked ID number"), max_length=18, editable=False)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), editable=False)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")

    def __str__(self) -> str:
        return self.masked_id


class TicketCounter(models.Model):
    """The last number handed out per hall, prefix and business day; locked to issue."""

    hall = models.ForeignKey(
        Hall, on_delete=models.CASCADE, related_name="+", verbose_name=_("hall")
    )
    prefix = models.CharField(max_length=2, verbose_name=_("prefix"))
    business_date = models.DateField(verbose_name=_("business day"))
    last_number = models.PositiveIntegerField(default=0, verbose_name=_("last number"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "prefix", "business_date"], name="ticket_counter_unique"
            ),
        ]
        verbose_name = _("ticket counter")
        verbose_name_plural = _("ticket counters")

    def __str__(self) -> str:
        return f"{self.prefix} {self.business_date}: {self.last_number}"


class Outcome(models.TextChoices):
    DONE = "done", _("done")
    MISSING_DOCUMENTS = "missing_documents", _("incomplete: missing documents")
    REFERRED = "referred", _("referred elsewhere")
    CONSULTATION = "consultation", _("consultation only")


class TicketQuerySet(models.QuerySet["Ticket"]):
    def waiting(self) -> TicketQuerySet:
        return self.filter(status=Ticket.Status.WAITING)

    def current(self) -> TicketQuerySet:
        """Tickets a window holds right now (called or being served)."""
        return self.filter(status__in=Ticket.CURRENT_STATUSES)

    def in_call_order(self) -> TicketQuerySet:
        return self.order_by("queue_key", "id")


class Ticket(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting")
        CALLED = "called", _("called")
        SERVING = "serving", _("being served")
        COMPLETED = "completed", _("completed")
        NO_SHOW = "no_show", _("no-show")
        CANCELLED = "cancelled", _("cancelled")

    CURRENT_STATUSES = (Status.CALLED, Status.SERVING)
    OPEN_STATUSES = (Status.WAITING, Status.CALLED, Status.SERVING)

    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("hall")
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("service")
    )
    business_date = models.DateField(_("business day"))
    # a prefix of up to 2 letters and up to 6 digits: queueing.services.numbers bounds it
    number = models.CharField(_("number"), max_length=8)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    issued_at = models.DateTimeField(_("issued at"))
    # When the calling policy reaches it: issued_at, minus the hall's head start for
    # priority visitors. Kept as a column so "call next" is one indexed, lockable query.
    queue_key = models.DateTimeField(editable=False, verbose_name=_("queue order"))
    visitor = models.ForeignKey(
        Visitor,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("visitor"),
    )
    age_at_issue = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    is_elderly = models.BooleanField(_("elderly"), default=False)
    is_disabled = models.BooleanField(_("disabled"), default=False)
    has_appointment = models.BooleanField(_("appointment"), default=False)
    window = models.ForeignKey(
        Window,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("window"),
    )
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    recall_count = models.PositiveSmallIntegerField(_("recalls"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    missing_documents = models.CharField(_("missing documents"), max_length=300, blank=True)
    end_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # What the visitor was told at issue (queueing.estimation), so quoted vs actual wait
    # is a KPI; null when no estimate could be made.
    quoted_wait_s = models.PositiveIntegerField(_("quoted wait (s)"), null=True, blank=True)
    quoted_low_s = models.PositiveIntegerField(_("quoted wait, low (s)"), null=True, blank=True)
    quoted_high_s = models.PositiveIntegerField(_("quoted wait, high (s)"), null=True, blank=True)
    # The estimate before the online correction was applied: the correction learns from
    # this, so it never corrects its own earlier correction.
    quoted_base_s = models.PositiveIntegerField(
        _("quoted wait before correction (s)"), null=True, blank=True
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "business_date", "number"], name="ticket_number_unique_per_day"
            ),
            # The last guard behind the row locks: a window holds at most one ticket.
            models.UniqueConstraint(
                fields=["window"],
                condition=Q(status__in=["called", "serving"]),
                name="one_current_ticket_per_window",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["called", "serving"], window__isnull=False)
                | ~Q(status__in=["called", "serving"]),
                name="current_ticket_has_window",
            ),
        ]
        indexes = [
            models.Index(
                fields=["hall", "service", "queue_key"],
                condition=Q(status="waiting"),
                name="ticket_waiting_queue_idx",
            ),
            models.Index(fields=["hall", "business_date", "status"], name="ticket_day_status_idx"),
            # the tickets the windows hold, whatever day they were issued (the estimate
            # reads them on every quote; without it, every ticket the hall ever had)
            models.Index(fields=["hall", "status"], name="ticket_hall_status_idx"),
        ]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")

    def __str__(self) -> str:
        return f"{self.number} ({self.hall.code} {self.business_date})"

    @property
    def is_priority(self) -> bool:
        return self.is_elderly or self.is_disabled or self.has_appointment

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def waited_seconds(self, now: dt.datetime | None = None) -> int:
        """Seconds from issue to first call (or to now while still waiting)."""
        end = self.called_at if self.called_at and self.status != self.Status.WAITING else None
        return int(((end or now or timezone.now()) - self.issued_at).total_seconds())


class TicketEvent(models.Model):
    """One state change of a ticket. Rows are only ever appended."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("issued")
        CALLED = "called", _("called")
        RECALLED = "recalled", _("recalled")
        STARTED = "started", _("started")
        COMPLETED = "completed", _("completed")
        NO_SHOW = "no_show", _("no-show")
        TRANSFERRED = "transferred", _("transferred")
        CANCELLED = "cancelled", _("cancelled")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="events", verbose_name=_("ticket")
    )
    hall = models.ForeignKey(
        Hall, on_delete=models.PROTECT, related_name="+", verbose_name=_("hall")
    )
    kind = models.CharField(_("event"), max_length=12, choices=Kind.choices)
    at = models.DateTimeField(_("at"), db_index=True)
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("service")
    )
    window = models.ForeignKey(
        Window,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("window"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    outcome = models.CharField(
        max_length=20, choices=Outcome.choices, blank=True, verbose_name=_("outcome")
    )
    # kind-specific details: {"from_service": "A"}, {"reason": "..."}, {"missing_documents": ...}
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    # Set when an external queue system sent the event, so a retried batch changes nothing.
    # NULL, not "", for "none": the partial unique constraint below must skip them.
    external_id = models.CharField(  # noqa: DJ001
        max_length=100, null=True, blank=True, verbose_name=_("external id")
    )

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "external_id"],
                condition=Q(external_id__isnull=False),
                name="ticket_event_external_id_unique",
            ),
        ]
        indexes = [models.Index(fields=["hall", "at"], name="ticket_event_hall_at_idx")]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.kind} {self.at:%H:%M:%S}"
