"""The absolute session timeout: signed out a fixed time after signing in, whatever happens."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "signed_in_at"


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            signed_in_at = request.session.get(SIGNED_IN_AT)
            limit = settings.ROUTECARE_SESSION_ABSOLUTE_SECONDS
            if signed_in_at is None or time.time() - float(signed_in_at) > limit:
                logout(request)
        return self.get_response(request)
