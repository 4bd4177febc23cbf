"""Alerts: rows first, pushes second.

An alert is deduplicated by a key while it is active, moves open → acknowledged →
resolved (or expired when its cause disappears), escalates when nobody acknowledges it,
and records every transition with actor and time. Each change takes the next number of
the hall's alert sequence, so a client that missed pushes asks for "everything after
N" and gets it from here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from queueing.models import Hall, Service, Ticket, Window


class AlertRules(models.Model):
    """Per-hall thresholds of the alert rules, editable in the admin."""

    hall = models.OneToOneField(
        Hall, on_delete=models.CASCADE, related_name="alert_rules", verbose_name=_("hall")
    )
    long_wait_enabled = models.BooleanField(_("long-wait alerts"), default=True)
    repeat_visit_enabled = models.BooleanField(_("repeat-visit alerts"), default=True)
    repeat_visit_days = models.PositiveSmallIntegerField(
        _("repeat visit within (days)"), default=30, validators=[MinValueValidator(1)]
    )
    elderly_enabled = models.BooleanField(_("elderly-visitor alerts"), default=True)
    idle_window_enabled = models.BooleanField(_("idle-window alerts"), default=True)
    idle_window_min = models.PositiveSmallIntegerField(
        _("idle window after (minutes)"), default=5, validators=[MinValueValidator(1)]
    )
    escalate_after_min = models.PositiveSmallIntegerField(
        _("escalate unacknowledged after (minutes)"), default=5, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("alert rules")
        verbose_name_plural = _("alert rules")

    def __str__(self) -> str:
        return str(self.hall)


class AlertSequence(models.Model):
    """The last sequence number used for the hall's alert changes; locked to take one."""

    hall = models.OneToOneField(
        Hall, on_delete=models.CASCADE, related_name="+", verbose_name=_("hall")
    )
    last = models.PositiveBigIntegerField(default=0, verbose_name=_("last number"))

    class Meta:
        verbose_name = _("alert sequence")
        verbose_name_plural = _("alert sequences")

    def __str__(self) -> str:
        return f"{self.hall_id}: {self.last}"


class Alert(models.Model):
    class Kind(models.TextChoices):
        LONG_WAIT = "long_wait", _("long wait")
        PREDICTED_BREACH = "predicted_breach", _("predicted breach")
        REPEAT_VISIT = "repeat_visit", _("repeat visit")
        ELDERLY = "elderly", _("elderly visitor")
        CONGESTION = "congestion", _("congestion")
        IDLE_WINDOW = "idle_window", _("idle window")
        CAMERA_OFFLINE = "camera_offline", _("camera offline")

    class Severity(models.IntegerChoices):
        INFO = 1, _("info")
        WARNING = 2, _("warning")
        HIGH = 3, _("high")
        CRITICAL = 4, _("critical")

    class State(models.TextChoices):
        # "open" is also a window's status, translated otherwise: give these a context
        OPEN = "open", pgettext_lazy("alert state", "open")
        ACKNOWLEDGED = "acknowledged", pgettext_lazy("alert state", "acknowledged")
        RESOLVED = "resolved", pgettext_lazy("alert state", "resolved")
        EXPIRED = "expired", pgettext_lazy("alert state", "expired")

    ACTIVE_STATES = (State.OPEN, State.ACKNOWLEDGED)

    hall = models.ForeignKey(
        Hall, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("hall")
    )
    seq = models.PositiveBigIntegerField(_("sequence"), help_text=_("of its latest change"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=120, verbose_name=_("key"))
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("ticket"),
    )
    window = models.ForeignKey(
        Window,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("window"),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
    )
    # What staff need to act without another lookup: waited, visitor flags, earlier visits.
    context = models.JSONField(default=dict, blank=True, verbose_name=_("context"))
    raised_at = models.DateTimeField(_("raised at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["hall", "key"],
                condition=Q(state__in=["open", "acknowledged"]),
                name="one_active_alert_per_key",
            ),
            models.UniqueConstraint(fields=["hall", "seq"], name="alert_seq_unique_per_hall"),
        ]
        indexes = [
            models.Index(
                fields=["hall", "state", "-severity"],
                condition=Q(state__in=["open", "acknowledged"]),
                name="alert_active_idx",
            ),
        ]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.hall.code})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES


class AlertTransition(models.Model):
    """One change of an alert, with who and when: response times are measured from these."""

    class Action(models.TextChoices):
        RAISED = "raised", _("raised")
        UPDATED = "updated", _("updated")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        ESCALATED = "escalated", _("escalated")
        RESOLVED = "resolved", _("resolved")
        EXPIRED = "expired", _("expired")

    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("alert")
    )
    seq = models.PositiveBigIntegerField(verbose_name=_("sequence"))
    action = models.CharField(max_length=12, choices=Action.choices, verbose_name=_("action"))
    at = models.DateTimeField(verbose_name=_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    severity = models.PositiveSmallIntegerField(
        choices=Alert.Severity.choices, verbose_name=_("severity")
    )
    note = models.CharField(max_length=300, blank=True, verbose_name=_("note"))

    class Meta:
        ordering = ["seq"]
        verbose_name = _("alert transition")
        verbose_name_plural = _("alert transitions")

    def __str__(self) -> str:
        return f"{self.alert_id} {self.action} @{self.seq}"
