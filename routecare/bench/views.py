"""The reference point for "our overhead over bare Django"."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt


# Deliberately no access rule, no database and no ninja: it runs through the same middleware
# stack as the API, so the difference to it is what RouteCare itself adds. It is only mounted
# by the bench URLconf (routecare.bench.urls), never by the project's.
@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
