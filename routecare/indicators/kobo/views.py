"""Connecting Kobo forms, pulling them now, uploading exports, reading the import reports."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core.http import add_validation_errors, posted
from routecare.indicators.kobo import importer
from routecare.indicators.models import ImportTarget, KoboConnection

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ConnectForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    server_url = forms.URLField(
        label=gettext_lazy("Kobo server"),
        initial="https://kf.kobotoolbox.org",
        max_length=200,
        assume_scheme="https",
    )
    token = forms.CharField(
        label=gettext_lazy("API token"), max_length=200, widget=forms.PasswordInput
    )
    asset_uid = forms.CharField(label=gettext_lazy("Form (asset uid)"), max_length=64)
    target = forms.ChoiceField(
        label=gettext_lazy("Submissions become"), choices=ImportTarget.choices
    )
    mapping = forms.CharField(
        label=gettext_lazy("Mapping (JSON: RouteCare field → Kobo question path)"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
    include_not_approved = forms.BooleanField(
        label=gettext_lazy("Also import submissions marked Not Approved in Kobo"),
        required=False,
    )

    def clean_mapping(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["mapping"])
        except ValueError:
            raise forms.ValidationError(_("The mapping is not valid JSON.")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The mapping is a JSON object of RouteCare fields."))
        return value


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Kobo export (.json or .xlsx)"))


def _connection(request: StaffRequest, connection_id: uuid.UUID) -> KoboConnection:
    return get_object_or_404(
        KoboConnection, pk=connection_id, national_society_id=request.actor.national_society_id
    )


class SettingForm(forms.Form):
    connection = forms.UUIDField(widget=forms.HiddenInput)
    include_not_approved = forms.BooleanField(required=False)


def _change_setting(request: StaffRequest) -> HttpResponse:
    """A connection's setting, posted from its card on the same page."""
    form = SettingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That setting could not be read."))
        return redirect("indicators:kobo")
    connection = _connection(request, form.cleaned_data["connection"])
    include = form.cleaned_data["include_not_approved"]
    importer.set_include_not_approved(request.actor, connection, include)
    messages.success(request, _("Setting saved; it applies from the next pull."))
    return redirect("indicators:kobo")


@staff_view(Rule.SOCIETY_ADMIN)
def connections(request: StaffRequest) -> HttpResponse:
    if request.method == "POST" and "setting" in request.POST:
        return _change_setting(request)
    form = ConnectForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            importer.connect_form(
                request.actor, name=data["name"], server_url=data["server_url"],
                token=data["token"], asset_uid=data["asset_uid"], target=data["target"],
                form_mapping=data["mapping"],
                include_not_approved=data["include_not_approved"],
            )  # fmt: skip
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Form connected. Pull it now or wait for the next pull."))
            return redirect("indicators:kobo")
    found = KoboConnection.objects.filter(
        national_society_id=request.actor.national_society_id
    ).prefetch_related("runs")
    return render(
        request,
        "indicators/kobo.html",
        {"form": form, "connections": found, "upload_form": UploadForm()},
    )


@staff_view(Rule.SOCIETY_ADMIN)
@require_POST
def pull(request: StaffRequest, connection_id: uuid.UUID) -> HttpResponse:
    run = importer.pull(_connection(request, connection_id))
    _report(request, run)
    return redirect("indicators:kobo")


@staff_view(Rule.SOCIETY_ADMIN)
@require_POST
def upload(request: StaffRequest, connection_id: uuid.UUID) -> HttpResponse:
    connection = _connection(request, connection_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a .json or .xlsx export to upload."))
        return redirect("indicators:kobo")
    uploaded = form.cleaned_data["file"]
    if uploaded.size > MAX_UPLOAD_BYTES:
        messages.error(request, _("The file is larger than 20 MB."))
        return redirect("indicators:kobo")
    run = importer.upload(request.actor, connection, uploaded.name, uploaded.read())
    _report(request, run)
    return redirect("indicators:kobo")


def _report(request: StaffRequest, run: Any) -> None:
    summary = _(
        "%(created)d new, %(updated)d updated, %(unchanged)d unchanged, %(errors)d refused."
    ) % {
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "errors": len(run.errors),
    }
    if run.skipped or run.withdrawn:
        summary += " " + _(
            "%(skipped)d marked Not Approved in Kobo skipped, %(withdrawn)d withdrawn."
        ) % {"skipped": run.skipped, "withdrawn": run.withdrawn}
    if run.status == "failed":
        messages.error(request, run.message)
    elif run.errors:
        messages.warning(request, summary)
    else:
        messages.success(request, summary)
