"""The route view: every stop in order with today's count, forecast, alerts, triggers and
stock warnings — the morning picture of a regional coordinator."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from routecare.access import Rule, StaffRequest, staff_view
from routecare.flows import selectors
from routecare.flows.forecast import HORIZONS


@staff_view(Rule.ROUTE_OVERVIEW)
@require_safe
def routes(request: StaffRequest) -> HttpResponse:
    return render(request, "flows/routes.html", {"routes": selectors.routes_for(request.actor)})


@staff_view(Rule.ROUTE_OVERVIEW)
@require_safe
def route(request: StaffRequest, slug: str) -> HttpResponse:
    found = selectors.route_for(request.actor, slug)
    return render(
        request,
        "flows/route.html",
        {
            "route": found,
            "stops": selectors.route_overview(request.actor, found),
            "horizons": HORIZONS,
        },
    )
