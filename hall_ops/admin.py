"""The administrator's screens of the operations layer: each hall's alert thresholds are
edited here; alerts and their transitions are shown read-only, since they change only
through hall_ops.alerts.services and reports measure response times from them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hall_ops.models import Alert, AlertRules, AlertTransition
from queueing.admin import ReadOnlyAdmin


@admin.register(AlertRules)
class AlertRulesAdmin(admin.ModelAdmin):
    list_display = [
        "hall",
        "long_wait_enabled",
        "elderly_enabled",
        "repeat_visit_enabled",
        "repeat_visit_days",
        "idle_window_enabled",
        "idle_window_min",
        "escalate_after_min",
    ]
    list_select_related = ["hall"]
    autocomplete_fields = ["hall"]
    search_fields = ["hall__code", "hall__name"]


class AlertTransitionInline(admin.TabularInline):
    model = AlertTransition
    fields = ["seq", "action", "at", "actor", "severity", "note"]
    readonly_fields = ["seq", "action", "at", "actor", "severity", "note"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = [
        "seq",
        "hall",
        "kind",
        "severity",
        "state",
        "ticket",
        "window",
        "raised_at",
        "acknowledged_by",
        "closed_at",
    ]
    list_filter = ["hall", "kind", "state", "severity"]
    list_select_related = ["hall", "ticket__hall", "window__hall", "acknowledged_by"]
    date_hierarchy = "raised_at"
    inlines = [AlertTransitionInline]


@admin.register(AlertTransition)
class AlertTransitionAdmin(ReadOnlyAdmin):
    list_display = ["alert", "seq", "action", "at", "actor", "severity"]
    list_filter = ["action", "alert__hall"]
    list_select_related = ["alert__hall", "actor"]
