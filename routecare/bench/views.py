"""The reference points for "our overhead over bare Django": the bare view and the floor."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from routecare.bench import floor
from routecare.core.ratelimit import client_address


# Deliberately no access rule, no database and no ninja: it runs through the same middleware
# stack as the API, so the difference to it is what RouteCare itself adds. It is only mounted
# by the bench URLconf (routecare.bench.urls), never by the project's.
@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


# The floor (routecare.bench.floor): RouteCare's own SQL statements sent by hand, behind the
# same middleware, mounted beside the bare view only. Bearer-token requests, like the API's,
# so no CSRF (there is no cookie to ride on).
@csrf_exempt
@require_POST
def floor_lookup(request: HttpRequest) -> JsonResponse:
    header = request.headers.get("Authorization", "")
    try:
        found = floor.lookup(header, client_address(request), request.body)
    except floor.FloorError as error:
        return JsonResponse({"detail": error.detail}, status=error.status)
    return JsonResponse(found)


@csrf_exempt
@require_POST
def floor_write(request: HttpRequest, person_id: uuid.UUID) -> JsonResponse:
    header = request.headers.get("Authorization", "")
    try:
        found = floor.write(header, client_address(request), person_id, request.body)
    except floor.FloorError as error:
        return JsonResponse({"detail": error.detail}, status=error.status)
    return JsonResponse(found, status=201)
