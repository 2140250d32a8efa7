from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from routecare.orgs.models import ServicePoint


class EnrolmentCodeForm(forms.Form):
    service_point = forms.ModelChoiceField(
        label=_("Service point of the new node"), queryset=ServicePoint.objects.none()
    )

    def __init__(self, points: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_point"].queryset = points  # type: ignore[attr-defined]


class RevokeNodeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this node revoked?"),
        max_length=150,
        help_text=_("For example: laptop stolen, lost, or no longer used at this point."),
    )
