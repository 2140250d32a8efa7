"""The service directory: public pages for people on the move (no sign-in, in their language,
light enough for 2G) and the staff directory; exports for map apps and referral systems."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, may_edit_service_point, staff_view
from routecare.core import caching, person_texts
from routecare.core.languages import (
    country_name_in,
    join_groups,
    join_list,
    language_name_in,
    number_in,
)
from routecare.directory import actions, exports, selectors
from routecare.directory.booklet import booklet_pdf, simple_map
from routecare.directory.cards import public_point_html
from routecare.directory.entries import PublicPoint
from routecare.directory.hours import (
    by_day,
    is_open,
    next_change,
    opening_line,
    opening_state,
    zone_of,
)
from routecare.orgs.models import NationalSociety, Role, ServicePoint
from routecare.orgs.taxonomy import Service

# Plain symbols, no image requests: a page must stay light on 2G.
SERVICE_ICONS = {
    "information": "📢", "connectivity": "🔌", "cash-voucher": "💵", "psychosocial-support": "💬",
    "first-aid": "🩹", "health-primary": "🩺", "health-maternal-child": "🤱", "medicines": "💊",
    "referral": "↪️", "food": "🍞", "water": "💧", "rfl": "📞", "safe-space-women-children": "🛡️",
    "shelter": "🏠", "wash-hygiene": "🚿", "nfi": "🧥", "dignity-kit": "🧴", "protection": "🤝",
    "transport-medical": "🚑", "legal-information": "⚖️", "integration": "📚",
    "social-inclusion": "🎲", "first-aid-training": "⛑️", "self-care-messages": "❤️",
}  # fmt: skip


def _language(lang: str) -> str | None:
    return lang if lang in person_texts.PERSON_LANGUAGES else None


def _public_url(request: HttpRequest, lang: str, code: str, country: str) -> str:
    path = reverse("directory:public_detail", args=[lang, code])
    query = f"?{urlencode({'country': country})}" if country else ""
    return request.build_absolute_uri(path + query)


def _options(scope: list[PublicPoint], start: str, lang: str) -> str:
    """The "from" list's options: 500 points along a route are 500 options, written here
    rather than by a template loop (a quarter of the page's drawing time)."""
    return mark_safe(  # noqa: S308 - every value is escaped
        "".join(
            f'<option value="{escape(point.code)}"{" selected" if point.code == start else ""}>'
            f"{escape(point.public_text('name', lang))}</option>"
            for point in scope
        )
    )


# Public pages are the same for everyone who asks the same address (no sign-in, nothing
# personal): each is drawn once and served from the cache for selectors.PUBLIC_SECONDS ("open
# now" and "updated at" are that old at most). A change of a point, route, society or network
# drops them at once in its process (selectors.PUBLIC_PAGES); other processes redraw them
# when they expire.
PUBLIC_QUERY = frozenset({"country", "service", "from", "direction", "open_now"})


def _public_page(
    request: HttpRequest, draw: Callable[[], HttpResponse], shown: list[PublicPoint]
) -> HttpResponse:
    """``draw()``'s page, or the same page drawn for this address less than a minute ago and
    since the last opening or closing of any of the ``shown`` points (the page says which are
    open now). Addresses with other query parameters are drawn each time (they must not fill
    the cache)."""
    if not set(request.GET) <= PUBLIC_QUERY:
        return draw()
    # The scheme and host: the share links on the page are absolute. The next change: a page
    # drawn at 17:59 ("open until 18:00") is not the page of 18:00.
    change = next_change(shown, timezone.now())
    parts = (request.scheme, request.get_host(), request.get_full_path(), change)
    body = caching.remember(
        selectors.PUBLIC_PAGES, parts, selectors.PUBLIC_SECONDS, lambda: draw().content
    )
    return HttpResponse(body)


def _point_context(
    point: PublicPoint, lang: str, now: dt.datetime, texts: dict[str, str]
) -> dict[str, Any]:
    """``texts``: ``person_texts.texts_for(lang)``, built once per page rather than per point
    (a few hundred catalogue look-ups each time). A point read from the database rather than
    from its precomputed entry: ``PublicPoint.of(point)``."""
    state = opening_state(point, now)
    services = [
        (code, SERVICE_ICONS.get(code, "•"), texts.get(f"service:{code}", code))
        for code in point.services or []
    ]
    hours = [(texts[f"day_{day}"], join_list(periods, lang)) for day, periods in point.days]
    return {
        "point": point,
        # In the page's language when the point gives them in it, else its default ones.
        "name": point.public_text("name", lang),
        "address": point.public_text("address", lang),
        "directions": point.public_text("directions", lang),
        "open_now": state.open_now,
        "state": state,
        # "Open now, until 18:00": the status word only when it is not the usual "open".
        "opening_line": opening_line(state, texts),
        "status_text": texts[f"status_{point.status.replace('-', '_')}"],
        "services": services,
        # Lists joined with the page language's comma ("08:00–12:00، 14:00–18:00").
        "hours": hours,
        "hours_text": join_groups([f"{day} {periods}" for day, periods in hours], lang),
        # Not "languages": that is the public pages' language switcher (public_base).
        "spoken_languages": join_list(
            [language_name_in(code, lang) for code in point.languages or []], lang
        ),
        "services_text": join_list([name for _code, _icon, name in services], lang),
        "stale": selectors.is_stale(point, now.date()),
        "country_name": country_name_in(point.country, lang),
        "society_name": point.public_society_name(lang),
    }


def _card_context(
    point: PublicPoint,
    lang: str,
    now: dt.datetime,
    texts: dict[str, str],
    memo: dict[Any, Any] | None = None,
) -> dict[str, Any]:
    """What a point's card on the list shows (``cards.public_point_html``): a part of
    ``_point_context``, which a list of hundreds of points would compute for nothing.
    ``memo``: what one page's points share (countries, service lists), worked out once."""
    memo = {} if memo is None else memo
    state = opening_state(point, now)
    services = tuple(point.services or ())
    if services not in memo:
        memo[services] = [
            (code, SERVICE_ICONS.get(code, "•"), texts.get(f"service:{code}", code))
            for code in services
        ]
    country = ("country", point.country)
    if country not in memo:
        memo[country] = country_name_in(point.country, lang)
    return {
        "point": point,
        "name": point.public_text("name", lang),
        "state": state,
        "opening_line": opening_line(state, texts),
        "status_text": texts[f"status_{point.status.replace('-', '_')}"],
        "services": memo[services],
        "country_name": memo[country],
    }


def _share_text(context: dict[str, Any], texts: dict[str, str], url: str) -> str:
    point: PublicPoint = context["point"]
    lines = [
        f"{context['name']} ({context['country_name']})",
        context["address"],
        context["services_text"],
        context["hours_text"],
        f"{texts['phone']}: {point.phone}" if point.phone else "",
        f"{texts['whatsapp']}: {point.whatsapp}" if point.whatsapp else "",
        f"{texts['open_in_maps']}: https://www.openstreetmap.org/?mlat={point.latitude}"
        f"&mlon={point.longitude}#map=16/{point.latitude}/{point.longitude}",
        url,
    ]
    return "\n".join(line for line in lines if line)


def public_countries(lang: str) -> list[tuple[str, str]]:
    """Countries with public points, by their name in ``lang`` (the countries are kept like
    the public pages)."""

    def read() -> frozenset[str]:
        societies = NationalSociety.objects.filter(
            service_points__visibility=ServicePoint.Visibility.PUBLIC
        )
        return frozenset(societies.values_list("country_code", flat=True))

    codes = caching.remember(selectors.PUBLIC_PAGES, ("countries",), selectors.PUBLIC_SECONDS, read)
    return sorted(((code, country_name_in(code, lang)) for code in codes), key=lambda c: c[1])


def public_base(
    request: HttpRequest, lang: str, texts: dict[str, str] | None = None
) -> dict[str, Any]:
    """What every page for people on the move needs (the feedback pages too); ``texts`` when
    the caller already has them."""
    return {
        "lang": lang,
        "rtl": person_texts.is_rtl(lang),
        "texts": texts if texts is not None else person_texts.texts_for(lang),
        "languages": [
            (code, language_name_in(code, code)) for code in person_texts.PERSON_LANGUAGES
        ],
        "query": request.GET.urlencode(),
        "generated_at": timezone.now(),
    }


@staff_view(Rule.PUBLIC)
@gzip_page  # public pages only: they hold no secret a compression attack could reveal
def public_list(request: HttpRequest, lang: str) -> HttpResponse:
    """`/<lang>/services/`: a country's points, filters, and what is next along the way."""
    if _language(lang) is None:
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return redirect(reverse("directory:public_list", args=["en"]) + query)
    # Every point the page may show: its country's (onward ones included) and what is next
    # along the way from one of them, which lies in the same country's list.
    shown = selectors.public_point_list(selectors.parse_filters(request.GET).country)
    return _public_page(request, lambda: _draw_public_list(request, lang), shown)


def _draw_public_list(request: HttpRequest, lang: str) -> HttpResponse:
    filters = selectors.parse_filters(request.GET)
    now = timezone.now()
    texts = person_texts.texts_for(lang)
    scope = selectors.public_point_list(filters.country)
    listing = selectors.Filters(service=filters.service, open_now=filters.open_now)
    start = next((point for point in scope if point.code == filters.start), None)
    memo: dict[Any, Any] = {}
    next_points = []
    if start is not None:
        # What is next is seen from where the person is: that country's onward setting holds.
        next_points = [
            {
                **_card_context(n.point, lang, now, texts, memo),
                # "about 2 hours", "unas 5,5 horas": never "2.0" (issue 19, item 9).
                "hours_away": number_in(n.hours, lang),
                "km": number_in(n.km, lang),
            }
            for n in selectors.public_next_along(
                start, service=filters.service, direction=filters.direction
            )
        ]
    country = filters.country or ""

    def cards(points: Iterable[PublicPoint]) -> list[SafeString]:
        return [public_point_html(_card_context(p, lang, now, texts, memo), lang, country, texts)
                for p in points]  # fmt: skip

    next_cards = [public_point_html(entry, lang, country, texts) for entry in next_points]
    countries = public_countries(lang)
    own, onward = selectors.split_onward(
        selectors.apply_filters(scope, listing, now), filters.country
    )
    return render(
        request,
        "directory/public_list.html",
        {
            **public_base(request, lang, texts),
            "filters": filters,
            "points": cards(own),
            # Other countries' points, after the country's own and under their own heading.
            "onward_points": cards(onward),
            # 500 points along a route are 500 options and codes: written here, not by a
            # template loop (half the page's drawing time).
            "scope_options": _options(scope, filters.start, lang),
            "keep_points": "".join(
                f"{point.code} " for point in scope if point.country == filters.country
            ),
            "start": start,
            "start_name": start.public_text("name", lang) if start is not None else "",
            "next_points": next_cards,
            "countries": countries,
            "service_choices": [
                (code, texts.get(f"service:{code}", code), SERVICE_ICONS.get(code, ""))
                for code in Service.values
            ],
        },
    )


@staff_view(Rule.PUBLIC)
@gzip_page  # public pages only: they hold no secret a compression attack could reveal
def public_detail(request: HttpRequest, lang: str, code: str) -> HttpResponse:
    if _language(lang) is None:
        return redirect(reverse("directory:public_detail", args=["en", code]))
    shown = [
        point
        for point in selectors.public_point_list(selectors.parse_filters(request.GET).country)
        if point.code == code
    ]
    return _public_page(request, lambda: _draw_public_detail(request, lang, code), shown)


def _draw_public_detail(request: HttpRequest, lang: str, code: str) -> HttpResponse:
    filters = selectors.parse_filters(request.GET)
    point = selectors.public_point(code, filters.country)
    now = timezone.now()
    texts = person_texts.texts_for(lang)
    context = _point_context(PublicPoint.of(point), lang, now, texts)
    url = _public_url(request, lang, point.code, filters.country)
    return render(
        request,
        "directory/public_detail.html",
        {
            **public_base(request, lang, texts),
            **context,
            "filters": filters,
            "share_text": _share_text(context, texts, url),
            "whatsapp_share": "https://wa.me/?"
            + urlencode({"text": _share_text(context, texts, url)}),
        },
    )


def export_points(request: HttpRequest) -> tuple[list[ServicePoint], dict[str, str]]:
    filters = selectors.parse_filters(request.GET)
    points = list(selectors.public_points(filters.country))
    lang = request.GET.get("lang", "en")
    lang = lang if _language(lang) else "en"
    return points, {p.code: _public_url(request, lang, p.code, filters.country) for p in points}


@staff_view(Rule.PUBLIC)
@gzip_page  # public pages only: they hold no secret a compression attack could reveal
def export_geojson(request: HttpRequest) -> HttpResponse:
    points, urls = export_points(request)
    return JsonResponse(
        exports.geojson(points, urls),
        content_type="application/geo+json",
        json_dumps_params={"ensure_ascii": False},
    )


@staff_view(Rule.PUBLIC)
@gzip_page  # public pages only: they hold no secret a compression attack could reveal
def export_kml(request: HttpRequest) -> HttpResponse:
    points, urls = export_points(request)
    body = exports.kml(points, urls, "Red Cross and Red Crescent service points")
    response = HttpResponse(body, content_type="application/vnd.google-earth.kml+xml")
    response["Content-Disposition"] = 'attachment; filename="routecare-service-points.kml"'
    return response


@staff_view(Rule.PUBLIC)
@gzip_page  # public pages only: they hold no secret a compression attack could reveal
def export_hsds(request: HttpRequest) -> HttpResponse:
    points, urls = export_points(request)
    with translation.override("en"):
        organizations = exports.hsds(points, urls)
    return HttpResponse(
        json.dumps(organizations, ensure_ascii=False, indent=1), content_type="application/json"
    )


@staff_view(Rule.SIGNED_IN)
def staff_list(request: StaffRequest) -> HttpResponse:
    """Every point the staff member may see, with filters; internal and network ones marked."""
    filters = selectors.parse_filters(request.GET)
    now = timezone.now()
    points = selectors.apply_filters(selectors.staff_points(request.actor), filters, now)
    status = request.GET.get("status", "")
    if status in ServicePoint.Status.values:
        points = [point for point in points if point.status == status]
    return render(
        request,
        "directory/staff_list.html",
        {
            "filters": filters,
            "status": status,
            "rows": [
                {
                    "point": point,
                    "open_now": is_open(point, now),
                    "stale": selectors.is_stale(point, now.date()),
                }
                for point in points
            ],
            "countries": sorted(
                {p.national_society.country_code for p in selectors.staff_points(request.actor)}
            ),
            "services": Service.choices,
            "statuses": ServicePoint.Status.choices,
        },
    )


@staff_view(Rule.SIGNED_IN)
def staff_geojson(request: StaffRequest) -> HttpResponse:
    """The staff directory's points for its map, with the same filters as the list."""
    filters = selectors.parse_filters(request.GET)
    points = selectors.apply_filters(selectors.staff_points(request.actor), filters, timezone.now())
    urls = {p.code: reverse("directory:staff_detail", args=[p.pk]) for p in points}
    return JsonResponse(exports.geojson(points, urls), content_type="application/geo+json")


@staff_view(Rule.SIGNED_IN)
def staff_detail(request: StaffRequest, service_point_id: str) -> HttpResponse:
    point = selectors.staff_point(request.actor, service_point_id)
    now = timezone.now()
    return render(
        request,
        "directory/staff_detail.html",
        {
            "point": point,
            "open_now": is_open(point, now),
            "hours": by_day(point),
            "stale": selectors.is_stale(point, now.date()),
            "next_points": selectors.next_along(point, selectors.staff_points(request.actor)),
            "can_edit": request.actor.administers_society
            and point.national_society_id == request.actor.national_society_id,
            "can_update": may_edit_service_point(request.actor, point),
            "show_capacity": request.actor.role != Role.PARTNER,
            "statuses": ServicePoint.Status.choices,
        },
    )


@staff_view(Rule.DIRECTORY_EDITING)
@require_POST
def update_status(request: StaffRequest, service_point_id: str) -> HttpResponse:
    """Quick changes from the directory page: the status (shown everywhere at once), and
    "verified today"."""
    actor = request.actor
    point = selectors.staff_point(actor, service_point_id)
    if not may_edit_service_point(actor, point):
        raise PermissionDenied
    status = request.POST.get("status", "")
    try:
        if request.POST.get("verified"):
            actions.mark_verified(actor, point)
        elif status in ServicePoint.Status.values:
            actions.update_service_point(actor, point, status=status)
        else:
            raise ValidationError(_("Choose a status."))
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
    else:
        messages.success(request, _("Service point updated."))
    return redirect("directory:staff_detail", service_point_id=point.pk)


@staff_view(Rule.PUBLIC)
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the site root so that it may control the public pages under /<lang>/."""
    path = finders.find("directory/services-sw.js")
    body = Path(str(path)).read_bytes() if path else b""
    response = HttpResponse(body, content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response


@staff_view(Rule.PUBLIC)
def public_booklet(request: HttpRequest, lang: str) -> HttpResponse:
    """A country's points as a printable A5 booklet in one language."""
    if _language(lang) is None:
        return redirect(reverse("directory:booklet", args=["en"]))
    filters = selectors.parse_filters(request.GET)
    now = timezone.now()
    own, onward = selectors.split_onward(selectors.public_points(filters.country), filters.country)
    points = own + onward
    # A booklet takes seconds to draw: the same one is served until a point changes, or one
    # of them opens or closes (it says which are open when it was drawn).
    newest = max((point.updated_at for point in points), default=None)
    change = next_change(points, now)
    key = (
        f"booklet:{lang}:{filters.country}:{newest and newest.isoformat()}:{len(points)}:"
        f"{change and change.timestamp()}"
    )
    cached = cache.get(key)
    if cached is not None:
        return _pdf_response(cached, filters.country, lang)
    texts = person_texts.texts_for(lang)
    pdf = booklet_pdf(
        {
            **public_base(request, lang, texts),
            "points": [_point_context(PublicPoint.of(point), lang, now, texts) for point in points],
            # Where the onward points start (numbered on, under their heading).
            "onward_from": len(own) + 1 if onward else None,
            "map": simple_map(points),
            "country_name": country_name_in(filters.country, lang) if filters.country else "",
            # Printed and read later: "open now" holds for the moment it was drawn, said so.
            "taken_at": texts["state_taken_at"] % {"time": _moment(now, points, filters.country)},
        }
    )
    cache.set(key, pdf, timeout=24 * 3600)
    return _pdf_response(pdf, filters.country, lang)


def _moment(now: dt.datetime, points: list[ServicePoint], country: str) -> str:
    """``now`` in the country's time (UTC for a booklet of every country), with its offset."""
    own = next((p for p in points if p.national_society.country_code == country), None)
    local = now.astimezone(zone_of(own) if own is not None else dt.UTC)
    offset = local.isoformat(timespec="minutes")[-6:]
    return f"{local:%Y-%m-%d %H:%M} UTC{'' if offset == '+00:00' else offset}"


def _pdf_response(pdf: bytes, country: str, lang: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"routecare-{(country or 'all').lower()}-{lang}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
