from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from routecare.access import membership_of, needs_two_factor
from routecare.orgs.models import ServicePoint

# At a field node, roles that need a second factor cannot have it (TOTP secrets stay on the
# server): they are refused there, whatever password they give.
NODE_REFUSES_TWO_FACTOR = _(
    "This is a field node: roles that need a second factor sign in on the server."
)


class SignInForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autocomplete="username", autofocus=True)
        self.fields["password"].widget.attrs.update(autocomplete="current-password")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        username, password = cleaned.get("username"), cleaned.get("password")
        if username and password:
            user = authenticate(self.request, username=username, password=password)
            if user is None or not user.is_active:
                raise forms.ValidationError(_("The user name or password is not right."))
            membership = membership_of(user)
            if settings.ROUTECARE_NODE and membership and needs_two_factor(membership.role):
                raise forms.ValidationError(NODE_REFUSES_TWO_FACTOR)
            self.user = user
        return cleaned


class OneTimeCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Six-digit code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the six digits shown in your app.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(
            autocomplete="one-time-code", inputmode="numeric", autofocus=True
        )


class PickPointForm(forms.Form):
    service_point = forms.ModelChoiceField(
        label=_("Where are you working today?"),
        queryset=ServicePoint.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
    )

    def __init__(self, points: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_point"].queryset = points  # type: ignore[attr-defined]


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("What is this token for?"), max_length=80)
    service_point = forms.ModelChoiceField(
        label=_("Service point the client records at"),
        queryset=ServicePoint.objects.none(),
        required=False,
    )
    lifetime_days = forms.TypedChoiceField(
        label=_("Valid for"),
        coerce=int,
        choices=[(7, _("7 days")), (30, _("30 days")), (90, _("90 days"))],
        initial=30,
    )

    def __init__(self, points: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_point"].queryset = points  # type: ignore[attr-defined]
