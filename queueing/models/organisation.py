"""The organisation: halls, the services they offer, their windows, and who works where."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager


def _validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Unknown time zone %(tz)s"), params={"tz": value}) from None


def _default_time_zone() -> str:
    return settings.TIME_ZONE


def _default_recall_limit() -> int:
    return settings.HALL_RECALL_LIMIT


def _default_head_start() -> int:
    return settings.HALL_PRIORITY_HEAD_START_MIN


def _default_elderly_age() -> int:
    return settings.HALL_ELDERLY_AGE


class Hall(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    district = models.CharField(_("district"), max_length=80, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default=_default_time_zone, validators=[_validate_time_zone]
    )
    opens_at = models.TimeField(_("opens at"), default=dt.time(9, 0))
    closes_at = models.TimeField(_("closes at"), default=dt.time(17, 0))
    capacity = models.PositiveIntegerField(_("capacity (people)"), default=200)
    # Where the hall is (WGS 84), so a visitor can be pointed to a nearby hall with a
    # shorter wait; blank for a hall that has not been placed.
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    elderly_age = models.PositiveSmallIntegerField(
        _("elderly from age"), default=_default_elderly_age, validators=[MinValueValidator(1)]
    )
    recall_limit = models.PositiveSmallIntegerField(
        _("recalls allowed"), default=_default_recall_limit
    )
    priority_head_start_min = models.PositiveSmallIntegerField(
        _("priority head start (minutes)"),
        default=_default_head_start,
        help_text=_("A priority ticket is called as if issued this many minutes earlier."),
    )
    services: models.ManyToManyField[Service, HallService] = models.ManyToManyField(
        "Service",
        through="HallService",
        related_name="halls",
        blank=True,
        verbose_name=_("services"),
    )

    if TYPE_CHECKING:
        windows: RelatedManager[Window]

    class Meta:
        ordering = ["code"]
        verbose_name = _("service hall")
        verbose_name_plural = _("service halls")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_now(self, at: dt.datetime | None = None) -> dt.datetime:
        return (at or timezone.now()).astimezone(self.tz)

    def business_date(self, at: dt.datetime | None = None) -> dt.date:
        """The hall's business day for an instant: its local calendar date."""
        return self.local_now(at).date()

    def closing_time(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.closes_at, tzinfo=self.tz)


class Service(models.Model):
    class Category(models.TextChoices):
        SOCIAL_INSURANCE = "social_insurance", _("social insurance")
        PENSION = "pension", _("pension")
        MEDICAL_INSURANCE = "medical_insurance", _("medical insurance")
        EMPLOYMENT = "employment", _("employment")
        OTHER = "other", _("other")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    prefix = models.CharField(
        _("number prefix"),
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{1,2}$", _("One or two capital letters."))],
        help_text=_("Ticket numbers of this service start with it: A001, A002, ..."),
    )
    name_zh = models.CharField(_("Chinese name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120)
    target_wait_min = models.PositiveSmallIntegerField(
        _("target wait (minutes)"), default=20, validators=[MinValueValidator(1)]
    )
    category = models.CharField(
        _("category"), max_length=32, choices=Category.choices, default=Category.OTHER
    )

    class Meta:
        ordering = ["prefix"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return f"{self.prefix} {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class HallService(models.Model):
    """A service offered at a hall; disabling it stops new tickets, keeps history."""

    hall = models.ForeignKey(
        Hall, on_delete=models.CASCADE, related_name="hall_services", verbose_name=_("hall")
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="hall_services", verbose_name=_("service")
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hall", "service"], name="hall_service_unique"),
        ]
        verbose_name = _("service offered")
        verbose_name_plural = _("services offered")

    def __str__(self) -> str:
        return f"{self.hall.code}/{self.service.prefix}"


class Window(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PAUSED = "paused", _("paused")
        CLOSED = "closed", _("closed")

    hall = models.ForeignKey(
        Hall, on_delete=models.CASCADE, related_name="windows", verbose_name=_("hall")
    )
    label = models.CharField(_("label"), max_length=16)
    skills = models.ManyToManyField(
        Service, related_name="windows", blank=True, verbose_name=_("skills")
    )
    is_priority = models.BooleanField(_("priority window"), default=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.CLOSED
    )
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="windows",
        verbose_name=_("current clerk"),
    )
    auto_call = models.BooleanField(
        _("auto-call"),
        default=False,
        help_text=_("Call the next ticket as soon as the current one is completed."),
    )

    class Meta:
        ordering = ["hall", "label"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "label"], name="window_label_unique_in_hall"),
        ]
        verbose_name = _("window")
        verbose_name_plural = _("windows")

    def __str__(self) -> str:
        return f"{self.hall.code} {self.label}"


class StaffRole(models.Model):
    """A user's role at one hall. A director holds one row per hall in their scope."""

    class Role(models.TextChoices):
        DIRECTOR = "director", _("director")
        MANAGER = "manager", _("hall manager")
        FLOOR = "floor", _("floor staff")
        CLERK = "clerk", _("window clerk")
        KIOSK = "kiosk", _("kiosk / display device")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="hall_roles",
        verbose_name=_("user"),
    )
    hall = models.ForeignKey(
        Hall, on_delete=models.CASCADE, related_name="staff_roles", verbose_name=_("hall")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "hall", "role"], name="staff_role_unique"),
        ]
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.hall.code}"


class ApiToken(models.Model):
    """A bearer token for an external system, scoped to some halls. Only its hash is kept."""

    name = models.CharField(_("name"), max_length=80)
    key_prefix = models.CharField(_("key prefix"), max_length=12, editable=False)
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("key hash")
    )
    halls = models.ManyToManyField(Hall, related_name="api_tokens", verbose_name=_("halls"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
