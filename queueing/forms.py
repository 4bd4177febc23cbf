"""Forms of the kiosk and the window console. They only parse input; the services judge
whether the queue allows the change."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from queueing.models import Outcome, Service


class UnechoedTextInput(forms.TextInput):
    """A text box that never writes the submitted value back into the page: a form
    redisplayed after an error must not carry the visitor's ID number. What the visitor
    typed stays on their screen all the same: the box is marked `hx-preserve`, so htmx
    keeps the box already on the page (with its value) when it swaps the answer in, and
    the number never travels back in a response (nor into a cache or a log on the way)."""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        return super().get_context(name, None, attrs)


class TicketIssueForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(),
        to_field_name="code",
        error_messages={
            "required": _("Choose a service."),
            "invalid_choice": _("Unknown service."),
        },
    )
    id_number = forms.CharField(
        label=_("ID number (optional)"),
        required=False,
        max_length=32,
        widget=UnechoedTextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "maxlength": "18",
                # the page shows its own keypad (digits and X); no on-screen keyboard
                "inputmode": "none",
                "class": "id-input",
                "hx-preserve": "true",
                "aria-describedby": "id-number-hint id-number-error",
                "placeholder": _("18 characters"),
            }
        ),
    )
    is_disabled = forms.BooleanField(label=_("I have a disability"), required=False)
    has_appointment = forms.BooleanField(label=_("I have an appointment"), required=False)


class TicketForm(forms.Form):
    """The ticket a console action is about: the one the clerk saw on screen."""

    ticket = forms.IntegerField(min_value=1)


class CompleteForm(TicketForm):
    outcome = forms.ChoiceField(choices=Outcome.choices)
    missing_documents = forms.CharField(
        label=_("Which documents are missing"), required=False, max_length=300
    )


class TransferForm(TicketForm):
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(),
        to_field_name="code",
        error_messages={"invalid_choice": _("Unknown service.")},
    )


class CallForm(TicketForm):
    pass


class AutoCallForm(forms.Form):
    enabled = forms.BooleanField(required=False)
