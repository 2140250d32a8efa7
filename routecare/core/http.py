from __future__ import annotations

from django.http import HttpRequest, QueryDict


def posted(request: HttpRequest) -> QueryDict | None:
    """Form data of a POST, even an empty one (``request.POST or None`` would drop it)."""
    return request.POST if request.method == "POST" else None
