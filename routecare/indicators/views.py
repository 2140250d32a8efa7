"""Dashboards per role, their exports, and trainings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from routecare.access import Rule, StaffRequest, staff_view
from routecare.audit.actions import record_user_event
from routecare.core.http import add_validation_errors, posted
from routecare.indicators import actions, exports, report, selectors
from routecare.indicators.definitions import INDICATORS
from routecare.indicators.forms import FilterForm, ReportForm, TrainingForm
from routecare.indicators.models import Training

FORMATS = {
    "csv": ("text/csv; charset=utf-8", exports.as_csv),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        exports.as_xlsx,
    ),
}


def _view_or_pick(request: StaffRequest) -> selectors.View | HttpResponse:
    view = selectors.view_for(request.actor)
    if view is None:
        return redirect(reverse("accounts:pick_point") + "?next=" + request.path)
    return view


@staff_view(Rule.DASHBOARDS)
@require_safe
def dashboard(request: StaffRequest) -> HttpResponse:
    view = _view_or_pick(request)
    if isinstance(view, HttpResponse):
        return view
    form = FilterForm(view, request.GET or None)
    board = selectors.dashboard(view, form.filters(), timezone.localdate())
    return render(
        request,
        "indicators/dashboard.html",
        {
            "form": form,
            "board": board,
            "definitions": INDICATORS,
            "chart": {
                "labels": [label for label, _value in board.series],
                "values": [value for _label, value in board.series],
                "locations": board.locations,
            },
            "query": request.GET.urlencode(),
        },
    )


@staff_view(Rule.DASHBOARDS)
@require_safe
def export(request: StaffRequest, table: str, extension: str) -> HttpResponse:
    view = _view_or_pick(request)
    if isinstance(view, HttpResponse):
        return view
    if extension not in FORMATS:
        raise Http404
    form = FilterForm(view, request.GET or None)
    if form.is_bound and not form.is_valid():
        return HttpResponse(
            " ".join(str(e) for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    board = selectors.build(view, form.filters(), timezone.localdate())
    # "<table>-totals": the table's total row, a file of its own (HXL tools read data rows).
    name, totals = table.removesuffix("-totals"), table.endswith("-totals")
    found = board.tables.get(name)
    if found is None:
        raise Http404
    content_type, write = FORMATS[extension]
    body = write(found, str(_("Place")) if name == "locations" else "", totals)
    record_user_event(request.actor.user, "export", "indicators", detail=f"{table}.{extension}")
    response = HttpResponse(body, content_type=content_type)
    name = f"routecare-{table}-{board.start:%Y%m%d}-{board.end:%Y%m%d}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_view(Rule.DASHBOARDS)
@require_safe
def monthly_report(request: StaffRequest) -> HttpResponse:
    """The month's programme report as a PDF (``?month=2026-10&lang=ar``)."""
    view = _view_or_pick(request)
    if isinstance(view, HttpResponse):
        return view
    form = ReportForm(request.GET)
    if not form.is_valid():
        return HttpResponse(
            " ".join(str(e) for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    month = form.cleaned_data["month"] or timezone.localdate()
    language = form.cleaned_data["lang"] or (get_language() or "en")[:2]
    if language not in report.LANGUAGES:
        language = "en"
    body = report.monthly_report(request.actor, view, month, language)
    record_user_event(request.actor.user, "export", "indicators", detail=f"report {month:%Y-%m}")
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="routecare-report-{month:%Y-%m}-{language}.pdf"'
    )
    return response


@staff_view(Rule.COORDINATION)
def trainings(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    form = TrainingForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_training(
                actor, title=data["title"], topic=data["topic"], day=data["day"],
                attendance=form.attendance(),
            )  # fmt: skip
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Training recorded."))
            return redirect("indicators:trainings")
    recorded = Training.objects.filter(
        national_society_id=actor.national_society_id
    ).prefetch_related("attendance")[:100]
    return render(request, "indicators/trainings.html", {"form": form, "trainings": recorded})
