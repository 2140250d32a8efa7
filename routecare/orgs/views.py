"""Focal points manage their own society's service points and staff."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core.http import posted
from routecare.orgs import actions, selectors
from routecare.orgs.forms import ServicePointForm, StaffCreateForm, StaffEditForm
from routecare.orgs.models import ServicePoint


@staff_view(Rule.SOCIETY_ADMIN)
def service_point_list(request: StaffRequest) -> HttpResponse:
    points = selectors.society_service_points(request.actor)
    return render(request, "orgs/service_point_list.html", {"points": points})


@staff_view(Rule.SOCIETY_ADMIN)
def service_point_edit(
    request: StaffRequest, service_point_id: uuid.UUID | None = None
) -> HttpResponse:
    actor = request.actor
    if service_point_id is None:
        point = ServicePoint(national_society_id=actor.society_id)
    else:
        point = selectors.society_service_point(actor, service_point_id)
    form = ServicePointForm(posted(request), instance=point)
    if request.method == "POST" and form.is_valid():
        try:
            actions.save_service_point(actor, form.instance, form.changed_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Service point saved."))
            return redirect("orgs:service_points")
    return render(request, "orgs/service_point_form.html", {"form": form, "point": point})


@staff_view(Rule.SOCIETY_ADMIN)
def staff_list(request: StaffRequest) -> HttpResponse:
    members = selectors.society_staff(request.actor)
    return render(request, "orgs/staff_list.html", {"members": members})


@staff_view(Rule.SOCIETY_ADMIN)
def staff_create(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    form = StaffCreateForm(selectors.society_service_points(actor), posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.create_staff_member(
                actor,
                username=data["username"],
                password=data["password"],
                role=data["role"],
                service_points=data["service_points"],
            )
        except ValidationError as error:
            form.add_error("password", error)
        else:
            messages.success(request, _("Staff member added."))
            return redirect("orgs:staff")
    return render(request, "orgs/staff_form.html", {"form": form})


@staff_view(Rule.SOCIETY_ADMIN)
def staff_edit(request: StaffRequest, membership_id: int) -> HttpResponse:
    actor = request.actor
    membership = selectors.society_staff_member(actor, membership_id)
    form = StaffEditForm(
        selectors.society_service_points(actor),
        posted(request),
        initial={
            "role": membership.role,
            "active": membership.user.is_active,
            "service_points": list(membership.service_points.all()),
            "designations": [d for d in actions.DESIGNATIONS if getattr(membership, d)],
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actions.update_staff_member(
            actor,
            membership,
            role=data["role"],
            active=data["active"],
            service_points=data["service_points"],
            designations=data["designations"],
        )
        messages.success(request, _("Staff member updated."))
        return redirect("orgs:staff")
    return render(request, "orgs/staff_form.html", {"form": form, "membership": membership})
