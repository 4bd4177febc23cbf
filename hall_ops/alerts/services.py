"""Every change of an alert is one function here: raise (or update), acknowledge,
resolve, escalate, expire. Each takes the hall's next sequence number under a row lock
(which also serialises deduplication per hall), records a transition, and pushes only
after commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hall_ops.alerts.push import publish_alert_on_commit
from hall_ops.models import Alert, AlertSequence, AlertTransition
from queueing.models import Hall, Service, Ticket, Window
from queueing.services import QueueError

A = AlertTransition.Action


class AlertError(QueueError):
    """An alert change that cannot happen now (already handled, already closed)."""


def _next_seq(hall_id: int) -> int:
    AlertSequence.objects.bulk_create([AlertSequence(hall_id=hall_id)], ignore_conflicts=True)
    counter = AlertSequence.objects.select_for_update().get(hall_id=hall_id)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


def _transition(
    alert: Alert, action: str, at: dt.datetime, *, actor: User | None = None, note: str = ""
) -> None:
    alert.seq = _next_seq(alert.hall_id)
    alert.save()
    AlertTransition.objects.create(
        alert=alert,
        seq=alert.seq,
        action=action,
        at=at,
        actor=actor,
        severity=alert.severity,
        note=note,
    )
    publish_alert_on_commit(alert)


def _lock(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


def alert_raise(
    *,
    hall: Hall,
    kind: str,
    key: str,
    severity: int,
    ticket: Ticket | None = None,
    window: Window | None = None,
    service: Service | None = None,
    context: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Alert:
    """Raise an alert, or update the active one with the same key.

    An update happens only when the severity rises or the context changed; otherwise
    the existing alert is returned untouched (no new sequence number, no push), so a
    periodic rule can call this every scan without repeating itself.
    """
    now = at or timezone.now()
    context = context or {}
    current = Alert.objects.filter(hall=hall, key=key, state__in=Alert.ACTIVE_STATES).first()
    if current is not None and severity <= current.severity and context == current.context:
        return current  # the common case of a periodic scan: nothing new, no lock taken
    with transaction.atomic():
        seq = _next_seq(hall.pk)  # taken first: it serialises raising per hall
        existing = (
            Alert.objects.select_for_update()
            .filter(hall=hall, key=key, state__in=Alert.ACTIVE_STATES)
            .first()
        )
        if existing is not None:
            if severity <= existing.severity and context == existing.context:
                transaction.set_rollback(True)  # give the unused sequence number back
                return existing
            existing.severity = max(existing.severity, severity)
            existing.context = context
            existing.seq = seq
            existing.save()
            AlertTransition.objects.create(
                alert=existing, seq=seq, action=A.UPDATED, at=now, severity=existing.severity
            )
            publish_alert_on_commit(existing)
            return existing
        alert = Alert.objects.create(
            hall=hall,
            seq=seq,
            kind=kind,
            key=key,
            severity=severity,
            ticket=ticket,
            window=window,
            service=service,
            context=context,
            raised_at=now,
        )
        AlertTransition.objects.create(
            alert=alert, seq=seq, action=A.RAISED, at=now, severity=severity
        )
        publish_alert_on_commit(alert)
    return alert


def alert_acknowledge(*, alert: Alert, user: User, at: dt.datetime | None = None) -> Alert:
    """ "I'm on it": the user takes the alert. Someone else's alert cannot be taken over."""
    now = at or timezone.now()
    with transaction.atomic():
        alert = _lock(alert)
        if alert.state == Alert.State.ACKNOWLEDGED:
            raise AlertError(
                _("%(user)s is already handling this alert.")
                % {"user": alert.acknowledged_by or _("someone")}
            )
        _require_active(alert)
        alert.state = Alert.State.ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by = user
        _transition(alert, A.ACKNOWLEDGED, now, actor=user)
    return alert


def alert_resolve(
    *, alert: Alert, user: User, note: str = "", at: dt.datetime | None = None
) -> Alert:
    """Close the alert with a short note of what was done."""
    now = at or timezone.now()
    note = note.strip()[:300]
    with transaction.atomic():
        alert = _lock(alert)
        _require_active(alert)
        alert.state = Alert.State.RESOLVED
        alert.closed_at = now
        alert.closed_by = user
        alert.note = note
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by = now, user
        _transition(alert, A.RESOLVED, now, actor=user, note=note)
    return alert


def alert_escalate(
    *, alert: Alert, actor: User | None = None, at: dt.datetime | None = None
) -> Alert:
    """Raise the severity one step and flag it for the hall manager."""
    now = at or timezone.now()
    with transaction.atomic():
        alert = _lock(alert)
        _require_active(alert)
        if alert.escalated_at is not None:
            # once is enough: the manager has it; the board shows it escalated
            raise AlertError(_("This alert is already escalated."))
        alert.severity = min(alert.severity + 1, Alert.Severity.CRITICAL)
        alert.escalated_at = now
        _transition(alert, A.ESCALATED, now, actor=actor)
    return alert


def alert_expire(*, alert: Alert, reason: str, at: dt.datetime | None = None) -> Alert:
    """Close an alert whose cause disappeared (the ticket was called, the window got busy)."""
    now = at or timezone.now()
    with transaction.atomic():
        alert = _lock(alert)
        if not alert.is_active:
            return alert
        alert.state = Alert.State.EXPIRED
        alert.closed_at = now
        alert.note = reason[:300]
        _transition(alert, A.EXPIRED, now, note=reason[:300])
    return alert


def _require_active(alert: Alert) -> None:
    if not alert.is_active:
        raise AlertError(
            _("This alert is already %(state)s.") % {"state": alert.get_state_display()}
        )
