from __future__ import annotations

import datetime as dt
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from routecare.access import Rule, StaffRequest, staff_view, workable_service_points
from routecare.accounts.actions import (
    create_api_token,
    enrol_second_factor,
    enrolment_candidate,
    revoke_api_token,
)
from routecare.accounts.forms import (
    NODE_REFUSES_TWO_FACTOR,
    ApiTokenForm,
    OneTimeCodeForm,
    PickPointForm,
    SignInForm,
)
from routecare.accounts.models import ApiToken
from routecare.core.http import posted


def _next_url(request: StaffRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


@staff_view(Rule.PUBLIC)
def sign_in(request: StaffRequest) -> HttpResponse:
    form = SignInForm(request, posted(request))
    if request.method == "POST" and form.is_valid():
        login(request, form.user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_next_url(request, reverse("people:home")))
    context = {"form": form, "next": _next_url(request, ""), "at_node": settings.ROUTECARE_NODE}
    return render(request, "accounts/sign_in.html", context)


@staff_view(Rule.PUBLIC)
@require_POST
def sign_out(request: StaffRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


@staff_view(Rule.PUBLIC)
def two_factor(request: StaffRequest) -> HttpResponse:
    """Verify a TOTP code; a user without a confirmed device enrols one first."""
    user = request.user
    if not isinstance(user, User):
        return redirect("accounts:login")
    if settings.ROUTECARE_NODE:
        # No second factor at a node (secrets stay on the server), nor a new one enrolled
        # here: someone whose role became one that needs it is signed out.
        logout(request)
        messages.error(request, NODE_REFUSES_TWO_FACTOR)
        return redirect("accounts:login")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    candidate = enrolment_candidate(user, request.session) if device is None else None
    form = OneTimeCodeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"].strip()
        if device is not None and device.verify_token(code):
            otp_login(request, device)
            return redirect(_next_url(request, reverse("people:home")))
        if candidate is not None and enrol_second_factor(candidate, code, request.session):
            otp_login(request, candidate)
            return redirect(_next_url(request, reverse("people:home")))
        form.add_error("code", _("That code is not right or has expired. Try the next one."))
    context: dict[str, object] = {
        "form": form,
        "enrolling": candidate is not None,
        "next": _next_url(request, ""),
    }
    if candidate is not None:
        context["secret"] = b32encode(candidate.bin_key).decode()
        context["qr_svg"] = segno.make(candidate.config_url, error="m").svg_data_uri(scale=4)
    return render(request, "accounts/two_factor.html", context)


@staff_view(Rule.SIGNED_IN)
def pick_point(request: StaffRequest) -> HttpResponse:
    points = workable_service_points(request.actor.user)
    only = list(points[:2])
    if request.method != "POST" and len(only) == 1:
        # One place of work: nothing to ask.
        request.session["service_point_id"] = str(only[0].pk)
        return redirect(_next_url(request, reverse("people:home")))
    form = PickPointForm(points, posted(request))
    if request.method == "POST" and form.is_valid():
        request.session["service_point_id"] = str(form.cleaned_data["service_point"].pk)
        return redirect(_next_url(request, reverse("people:home")))
    return render(
        request,
        "accounts/pick_point.html",
        {"form": form, "next": _next_url(request, ""), "has_points": points.exists()},
    )


@staff_view(Rule.SIGNED_IN)
def api_tokens(request: StaffRequest) -> HttpResponse:
    user = request.actor.user
    points = workable_service_points(user)
    form = ApiTokenForm(points, posted(request))
    raw_token = None
    if request.method == "POST" and form.is_valid():
        _token, raw_token = create_api_token(
            user,
            form.cleaned_data["name"],
            form.cleaned_data["service_point"],
            timezone.now() + dt.timedelta(days=int(form.cleaned_data["lifetime_days"])),
        )
        form = ApiTokenForm(points)
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": tokens, "raw_token": raw_token},
    )


@staff_view(Rule.SIGNED_IN)
@require_POST
def revoke_token(request: StaffRequest, token_id: str) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    revoke_api_token(token)
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:api_tokens")
