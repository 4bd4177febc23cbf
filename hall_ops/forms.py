"""Forms of the operations screens. They only parse input; the services judge whether
the queue or the alert allows the change."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from queueing.models import Service, Window


class WindowStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=Window.Status.choices,
        error_messages={
            "required": _("Choose open, paused or closed."),
            "invalid_choice": _("Unknown window status; use open, paused or closed."),
        },
    )


class WindowSkillsForm(forms.Form):
    # Empty is let through: "a window needs at least one service" is the service's rule.
    skills = forms.ModelMultipleChoiceField(
        queryset=Service.objects.all(),
        to_field_name="code",
        required=False,
        error_messages={
            "invalid_choice": _("Unknown service."),
            "invalid_pk_value": _("Unknown service."),
        },
    )


class AlertResolveForm(forms.Form):
    note = forms.CharField(
        max_length=300,
        strip=True,
        error_messages={
            "required": _("Write a short note of what was done."),
            "max_length": _("Keep the note under 300 characters."),
        },
    )
