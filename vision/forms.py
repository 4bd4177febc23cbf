"""The zone editor's form: the camera's zones as one JSON list, which static/js/zones.js
writes from the drawing (and a person without JavaScript may edit by hand)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from queueing.models import Hall
from vision.services import ZoneEdit

MAX_ZONES = 50


class BoundedJSONField(forms.JSONField):
    """JSON that a person may type: text nested past the parser's depth is refused with
    a message (json.loads raises RecursionError, not ValueError), and so are strings
    that are not valid Unicode (a lone surrogate escaped as \\ud800), which no
    database column nor page could hold."""

    def to_python(self, value: Any) -> Any:
        try:
            parsed = super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(_("The zones are nested too deeply.")) from None
        try:
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise forms.ValidationError(
                _("The zones contain characters that are not valid text.")
            ) from None
        except RecursionError:
            raise forms.ValidationError(_("The zones are nested too deeply.")) from None
        return parsed


class ZonesForm(forms.Form):
    zones = BoundedJSONField(label=gettext_lazy("Zones (JSON)"))

    def __init__(self, *args: Any, hall: Hall, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hall = hall

    def clean_zones(self) -> list[ZoneEdit]:
        """Shapes only (a list of objects with the right types); the model validates
        the polygon, kind and capacity when the service saves."""
        value = self.cleaned_data["zones"]
        if not isinstance(value, list) or len(value) > MAX_ZONES:
            raise forms.ValidationError(_("Send a list of at most %(n)s zones.") % {"n": MAX_ZONES})
        services = {s.pk: s for s in self.hall.services.all()}
        edits, names = [], set()
        for index, item in enumerate(value, start=1):
            if not isinstance(item, dict):
                raise forms.ValidationError(_("Zone %(n)s is not an object.") % {"n": index})
            name = item.get("name")
            capacity = item.get("capacity")
            zone_id = item.get("id")
            service = item.get("service")
            if not isinstance(name, str) or not name.strip() or len(name) > 80:
                raise forms.ValidationError(_("Zone %(n)s needs a name.") % {"n": index})
            if name.strip() in names:
                raise forms.ValidationError(_("Two zones are named %(name)s.") % {"name": name})
            names.add(name.strip())
            if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
                raise forms.ValidationError(
                    _("Zone %(name)s needs a capacity of at least one person.") % {"name": name}
                )
            if zone_id is not None and (isinstance(zone_id, bool) or not isinstance(zone_id, int)):
                raise forms.ValidationError(_("Zone %(name)s has a bad id.") % {"name": name})
            if service is not None and service not in services:
                raise forms.ValidationError(
                    _("Zone %(name)s names a service this hall does not offer.") % {"name": name}
                )
            edits.append(
                ZoneEdit(
                    id=zone_id,
                    name=name.strip(),
                    kind=str(item.get("kind", "")),
                    polygon=item.get("polygon"),  # type: ignore[arg-type]  # checked on save
                    capacity=capacity,
                    line=item.get("line"),
                    service=services.get(service) if service is not None else None,
                )
            )
        return edits
