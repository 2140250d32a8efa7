from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse

from routecare.access import Rule, staff_view


@staff_view(Rule.PUBLIC)
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers and monitoring."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})
