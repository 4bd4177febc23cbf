"""Cameras, their zones, and what the vision worker counted in them, per minute.

A missing minute is absent, never a row of zeros: "nobody was seen" and "nothing was
observed" must stay apart, or a camera that went dark would look like an empty hall.
The figures arrive through `vision.services.counts_ingest` (POST /api/v1/vision/counts,
see `vision/schemas.py` for the contract with the worker).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queueing.models import ApiToken, Hall, Service
from vision.geometry import GeometryError, Point, check_polygon, parse_points
from vision.sources import SourceError, check_source

MAX_POLYGON_POINTS = 64


def validate_source(value: str) -> None:
    try:
        check_source(value)
    except SourceError as error:
        raise ValidationError(str(error)) from None


def _geometry_message(error: GeometryError, *, least: int, most: int) -> str:
    messages = {
        "count": _("Give %(least)s to %(most)s corners.") % {"least": least, "most": most},
        "point": _("Each corner must be [x, y] with numbers."),
        "range": _("Coordinates must lie between 0 and 1."),
        "area": _("The polygon has no area."),
        "crossing": _("The polygon's edges cross each other."),
    }
    return str(messages.get(error.code, str(error)))


def validate_polygon(value: Any) -> None:
    try:
        check_polygon(parse_points(value, at_least=3, at_most=MAX_POLYGON_POINTS))
    except GeometryError as error:
        message = _geometry_message(error, least=3, most=MAX_POLYGON_POINTS)
        raise ValidationError(message, code=error.code) from None


def validate_line(value: Any) -> None:
    if value is None:
        return
    try:
        a, b = parse_points(value, at_least=2, at_most=2)
    except GeometryError as error:
        raise ValidationError(_geometry_message(error, least=2, most=2), code=error.code) from None
    if a == b:
        raise ValidationError(_("The line's two points must differ."))


class Camera(models.Model):
    hall = models.ForeignKey(
        Hall, on_delete=models.CASCADE, related_name="cameras", verbose_name=_("hall")
    )
    name = models.CharField(_("name"), max_length=80)
    source = models.CharField(
        _("source"),
        max_length=500,
        validators=[validate_source],
        help_text=_(
            "An RTSP/HTTP URL or a video file path. Never a password: write "
            "${CAMERA_<NAME>_PASSWORD} and set that variable on the vision worker."
        ),
    )
    sample_fps = models.FloatField(
        _("samples per second"),
        default=1.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(30)],
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    offline_after_s = models.PositiveIntegerField(
        _("offline after (seconds)"),
        default=60,
        validators=[MinValueValidator(15)],
        help_text=_("A camera-offline alert is raised after this long without a report."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last report"), null=True, blank=True, editable=False)
    # What the worker said last: fps, last frame time, detector backend, online.
    last_health = models.JSONField(_("last health"), default=dict, blank=True, editable=False)
    # Tokens of the vision workers allowed to read this camera's zones and post its
    # counts: the queue API's tokens, hashed the same way (see create_camera_token).
    api_tokens = models.ManyToManyField(
        ApiToken, related_name="cameras", blank=True, verbose_name=_("worker tokens")
    )

    class Meta:
        ordering = ["hall", "name"]
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        constraints = [
            models.UniqueConstraint(fields=["hall", "name"], name="camera_name_unique_per_hall")
        ]

    def __str__(self) -> str:
        return f"{self.hall.code} / {self.name}"


class Zone(models.Model):
    class Kind(models.TextChoices):
        ENTRANCE = "entrance", _("entrance")
        WAITING_AREA = "waiting_area", _("waiting area")
        QUEUE_LINE = "queue_line", _("queue line")
        WINDOW_AREA = "window_area", _("window area")

    camera = models.ForeignKey(
        Camera, on_delete=models.CASCADE, related_name="zones", verbose_name=_("camera")
    )
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    polygon = models.JSONField(
        _("polygon"),
        validators=[validate_polygon],
        help_text=_("Corners [[x, y], ...] in 0–1 image coordinates, at least three."),
    )
    line = models.JSONField(
        _("counting line"),
        null=True,
        blank=True,
        validators=[validate_line],
        help_text=_("Entrances: [[x1, y1], [x2, y2]]; crossing it left to right is 'in'."),
    )
    capacity = models.PositiveIntegerField(
        _("capacity (people)"),
        default=20,
        validators=[MinValueValidator(1)],
        help_text=_("Congestion is measured against this."),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="zones",
        help_text=_("For a queue line: the service it queues for."),
        verbose_name=_("service"),
    )

    class Meta:
        ordering = ["camera", "name"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        constraints = [
            models.UniqueConstraint(fields=["camera", "name"], name="zone_name_unique_per_camera")
        ]

    def __str__(self) -> str:
        return f"{self.camera} / {self.name}"

    def clean(self) -> None:
        if self.service_id and self.kind != self.Kind.QUEUE_LINE:
            raise ValidationError({"service": _("Only a queue line names a service.")})

    @property
    def points(self) -> list[Point]:
        return [(float(x), float(y)) for x, y in self.polygon]


class ZoneMinute(models.Model):
    """People in a zone during one minute: time-weighted mean, peak, samples taken."""

    zone = models.ForeignKey(
        Zone, on_delete=models.CASCADE, related_name="minutes", verbose_name=_("zone")
    )
    minute = models.DateTimeField(_("minute"))
    mean = models.FloatField(_("mean people"), validators=[MinValueValidator(0)])
    peak = models.PositiveIntegerField(_("peak people"))
    samples = models.PositiveIntegerField(_("samples"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("zone minute")
        verbose_name_plural = _("zone minutes")
        constraints = [
            models.UniqueConstraint(fields=["zone", "minute"], name="zone_minute_unique"),
            models.CheckConstraint(condition=Q(samples__gte=1), name="zone_minute_observed"),
        ]
        indexes = [models.Index(fields=["minute"], name="zone_minute_minute")]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.minute:%Y-%m-%d %H:%M} {self.mean:.1f}"


class LineCrossing(models.Model):
    """People crossing a zone's counting line during one minute, each way."""

    zone = models.ForeignKey(
        Zone, on_delete=models.CASCADE, related_name="crossings", verbose_name=_("zone")
    )
    minute = models.DateTimeField(_("minute"))
    in_count = models.PositiveIntegerField(_("in"))
    out_count = models.PositiveIntegerField(_("out"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("line crossing")
        verbose_name_plural = _("line crossings")
        constraints = [
            models.UniqueConstraint(fields=["zone", "minute"], name="line_crossing_unique")
        ]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.minute:%Y-%m-%d %H:%M} +{self.in_count} -{self.out_count}"
