"""The page a public page falls back on when it was not kept for offline use (another filter,
another country): our own words, in the person's language, with links to what was kept, rather
than the browser's error page. The service worker keeps it with a country's pages and serves it
for any public page it does not have."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.gzip import gzip_page

from routecare.access import Rule, staff_view
from routecare.core import person_texts
from routecare.directory import selectors
from routecare.directory.views import public_base


@staff_view(Rule.PUBLIC)
@gzip_page  # public pages only: they hold no secret a compression attack could reveal
def public_offline(request: HttpRequest, lang: str) -> HttpResponse:
    """`/<lang>/offline/?country=XX`."""
    if lang not in person_texts.PERSON_LANGUAGES:
        return redirect(reverse("directory:public_offline", args=["en"]))
    filters = selectors.parse_filters(request.GET)
    return render(
        request,
        "directory/public_offline.html",
        {**public_base(request, lang), "filters": filters},
    )
