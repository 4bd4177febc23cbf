"""Cameras and their zones in the administrator's screens. Counts are not edited here:
they come from the worker. Worker tokens are made with `manage.py create_camera_token`
(their key is shown once) and granted here or there."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from vision.models import Camera, Zone


class ZoneInline(admin.TabularInline):
    model = Zone
    extra = 0
    fields = ["name", "kind", "capacity", "service", "polygon", "line"]


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["name", "hall", "enabled", "sample_fps", "last_seen_at"]
    list_filter = ["hall", "enabled"]
    search_fields = ["name", "hall__code", "hall__name"]
    readonly_fields = ["last_seen_at", "last_health", "created_at"]
    filter_horizontal = ["api_tokens"]
    inlines = [ZoneInline]
    fieldsets = [
        (None, {"fields": ["hall", "name", "source", "enabled"]}),
        (_("Sampling"), {"fields": ["sample_fps", "offline_after_s"]}),
        (_("Worker"), {"fields": ["api_tokens", "last_seen_at", "last_health", "created_at"]}),
    ]


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "camera", "kind", "capacity", "service"]
    list_filter = ["kind", "camera__hall"]
    search_fields = ["name", "camera__name"]
    list_select_related = ["camera__hall", "service"]
