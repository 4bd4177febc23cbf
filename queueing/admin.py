"""The administrator's screens: halls, services, windows, staff roles, API tokens.

Tickets and their events are shown read-only: they change only through the services,
and the event log is never edited or deleted.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from queueing import services, tokens
from queueing.models import (
    ApiToken,
    Hall,
    HallService,
    Service,
    StaffRole,
    Ticket,
    TicketEvent,
    Window,
)


class HallServiceInline(admin.TabularInline):
    model = HallService
    extra = 0


class StaffRoleInline(admin.TabularInline):
    model = StaffRole
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "district", "opens_at", "closes_at", "capacity"]
    search_fields = ["code", "name", "name_en", "district"]
    inlines = [HallServiceInline, StaffRoleInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_en", "district", "timezone", "capacity"]}),
        (_("Opening hours"), {"fields": ["opens_at", "closes_at"]}),
        (_("Location"), {"fields": ["latitude", "longitude"]}),
        (_("Queue rules"), {"fields": ["elderly_age", "recall_limit", "priority_head_start_min"]}),
    ]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["prefix", "code", "name_zh", "name_en", "category", "target_wait_min"]
    list_filter = ["category"]
    search_fields = ["code", "name_zh", "name_en"]


class WindowForm(forms.ModelForm):
    class Meta:
        model = Window
        fields = ["hall", "label", "skills", "is_priority", "auto_call"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hall, skills = data.get("hall"), data.get("skills")
        if hall is not None and skills is not None:
            offered = set(
                HallService.objects.filter(hall=hall, enabled=True).values_list(
                    "service_id", flat=True
                )
            )
            foreign = [s.prefix for s in skills if s.pk not in offered]
            if foreign:
                self.add_error(
                    "skills",
                    gettext("Not offered at this hall: %(list)s") % {"list": ", ".join(foreign)},
                )
        return data


def _window_action(status: str, label: Any) -> Any:
    @admin.action(description=label)
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, qs: QuerySet[Window]) -> None:
        for window in qs:
            try:
                services.window_set_status(window=window, status=status)
            except services.QueueError as exc:
                modeladmin.message_user(request, exc.message, messages.ERROR)

    action.__name__ = f"make_{status}"
    return action


@admin.register(Window)
class WindowAdmin(admin.ModelAdmin):
    form = WindowForm
    list_display = ["label", "hall", "status", "is_priority", "auto_call", "clerk"]
    list_filter = ["hall", "status", "is_priority"]
    filter_horizontal = ["skills"]
    readonly_fields = ["status", "status_changed_at", "clerk"]
    actions = [
        _window_action(Window.Status.OPEN, _("Open the selected windows")),
        _window_action(Window.Status.PAUSED, _("Pause the selected windows")),
        _window_action(Window.Status.CLOSED, _("Close the selected windows")),
    ]


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "hall"]
    list_filter = ["role", "hall"]
    search_fields = ["user__username", "hall__code"]
    autocomplete_fields = ["user", "hall"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = ["kind", "at", "service", "window", "actor", "outcome", "data"]
    readonly_fields = ["kind", "at", "service", "window", "actor", "outcome", "data"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["number", "hall", "business_date", "service", "status", "issued_at", "window"]
    list_filter = ["hall", "status", "service", "business_date"]
    search_fields = ["number"]
    date_hierarchy = "issued_at"
    inlines = [TicketEventInline]
    list_select_related = ["hall", "service", "window"]


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "kind", "at", "service", "window", "outcome"]
    list_filter = ["kind", "hall"]
    list_select_related = ["ticket__hall", "service", "window"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """A new token's key is made on save and shown once; the database keeps its hash."""

    list_display = ["name", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["halls"]
    filter_horizontal = ["halls"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "halls"]
        return ["name", "halls", *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            key = tokens.assign_new_key(obj)
            messages.warning(
                request,
                gettext(
                    "The key of token %(name)s is %(key)s. Copy it now: it is not stored "
                    "and will not be shown again."
                )
                % {"name": obj.name, "key": key},
            )
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            tokens.api_token_revoke(token=token)
        messages.success(
            request, gettext("%(count)d tokens revoked.") % {"count": queryset.count()}
        )
