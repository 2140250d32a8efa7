"""The pages of people on the move: giving feedback without an account, reading the answer
with the reference of the receipt, and the public FAQ. Light (the directory's one small script,
no image), in the directory's languages, right to left where needed. The FAQ and the form are
kept for offline use with a country's pages; a message written offline is kept in the browser
until sent (never contact details, never an abuse report: see directory/services.js)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.gzip import gzip_page

from routecare.access import Rule, staff_view
from routecare.core import person_texts, ratelimit
from routecare.directory.views import public_base, public_countries
from routecare.feedback import actions, selectors
from routecare.feedback.forms import about_choices
from routecare.feedback.models import Category, ContactMethod, Status
from routecare.orgs.models import NationalSociety

# An action's field -> the person text that explains it.
ERRORS = {
    "about": "err_about", "category": "err_kind", "text": "err_text",
    "contact_consent": "err_contact", "contact_method": "err_contact",
    "contact_value": "err_contact", "form_token": "err_expired", "language": "err_expired",
}  # fmt: skip
ANSWER_LOOKUPS_PER_HOUR = 30


def _gzip_get(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Compress what is fetched (the form, the FAQ: kept in the background for offline use, so
    their size counts on 2G), never what answers a POST: a receipt holds its reference beside
    the text just posted, which a compression attack could use to guess it. The form's CSRF
    token is masked afresh in each response, which is Django's own defence for that case."""
    compressed = gzip_page(view)

    @wraps(view)
    def serve(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return (compressed if request.method == "GET" else view)(request, *args, **kwargs)

    return serve


def _base(request: HttpRequest, lang: str, page: str) -> dict[str, Any]:
    return {**public_base(request, lang), "page": page}


def _society(request: HttpRequest) -> NationalSociety | None:
    country = request.GET.get("country", "").strip().upper()
    return NationalSociety.objects.filter(country_code=country).select_related("network").first()


def _form_context(texts: dict[str, str], society: NationalSociety, lang: str) -> dict[str, Any]:
    def label(value: Any) -> str:
        if value == "general":
            return texts["about_general"]
        return person_texts.text("whole_society", lang, society=value.public_name(lang))

    methods = {"sms": texts["sms"], "email": texts["email"]}
    return {
        "society": society,
        "about_groups": about_choices(society.network, public_only=True, label=label),
        "categories": [(c, texts[f"cat_{c}"]) for c in Category.values],
        "methods": [(m, methods.get(m, str(name))) for m, name in ContactMethod.choices],
        "form_token": secrets.token_urlsafe(24),
    }


@staff_view(Rule.PUBLIC)
@never_cache
@_gzip_get
def give_feedback(request: HttpRequest, lang: str) -> HttpResponse:
    """`/<lang>/feedback/?country=XX`: the form; a POST stores it once and shows the receipt."""
    if lang not in person_texts.PERSON_LANGUAGES:
        return redirect(reverse("feedback:public_form", args=["en"]))
    context = _base(request, lang, "feedback")
    texts = context["texts"]
    society = _society(request)
    if society is None:
        return render(
            request,
            "feedback/public_country.html",
            {**context, "countries": public_countries(lang)},
        )
    context.update(_form_context(texts, society, lang))
    if request.method != "POST":
        return render(request, "feedback/public_form.html", context)
    data = request.POST
    if data.get("website"):  # filled only by robots: the field is hidden from people
        return render(request, "feedback/public_form.html", context, status=400)
    resent = actions.already_submitted(data.get("form_token", ""))
    if resent is not None:  # a double tap or a reload: the same receipt, not counted again
        return render(request, "feedback/public_thanks.html", {**context, "item": resent})
    if not ratelimit.allow(
        "feedback", request, limit=settings.ROUTECARE_FEEDBACK_PER_HOUR, seconds=3600
    ):
        context["error"] = texts["too_many"]
        return render(request, "feedback/public_form.html", context, status=429)
    try:
        item, _new = actions.submit_feedback(
            about=actions.parse_about(society.network, data.get("about", ""), public_only=True),
            category=data.get("category", ""), text=data.get("text", ""), language=lang,
            form_token=data.get("form_token", ""), contact_method=data.get("contact_method", ""),
            contact_value=data.get("contact_value", ""),
            contact_consent=data.get("contact_consent") == "yes", received_by=society,
        )  # fmt: skip
    except ValidationError as error:
        field = next(iter(getattr(error, "error_dict", {"about": None})))
        context.update(error=texts[ERRORS.get(field, "err_about")], posted=data)
        return render(request, "feedback/public_form.html", context, status=400)
    return render(request, "feedback/public_thanks.html", {**context, "item": item})


@staff_view(Rule.PUBLIC)
@never_cache
def read_answer(request: HttpRequest, lang: str) -> HttpResponse:
    """The status and answers of one's own message, by its reference. A POST, so the
    reference stays out of addresses, histories and server logs."""
    if lang not in person_texts.PERSON_LANGUAGES:
        return redirect(reverse("feedback:public_answer", args=["en"]))
    context = _base(request, lang, "answer")
    texts = context["texts"]
    if request.method == "POST":
        if not ratelimit.allow(
            "feedback-answer", request, limit=ANSWER_LOOKUPS_PER_HOUR, seconds=3600
        ):
            context["error"] = texts["too_many"]
            return render(request, "feedback/public_answer.html", context, status=429)
        item = selectors.public_answer(request.POST.get("reference", "")[:40])
        if item is None:
            context["error"] = texts["reference_unknown"]
            return render(request, "feedback/public_answer.html", context, status=404)
        status_key = "fb_status_" + Status(item.status).value.replace("-", "_")
        context.update(item=item, status_text=texts[status_key])
    return render(request, "feedback/public_answer.html", context)


@staff_view(Rule.PUBLIC)
@_gzip_get
def public_faq(request: HttpRequest, lang: str) -> HttpResponse:
    """`/<lang>/faq/?country=XX`: the network's approved public answers, searchable."""
    if lang not in person_texts.PERSON_LANGUAGES:
        return redirect(reverse("feedback:public_faq", args=["en"]))
    context = _base(request, lang, "faq")
    society = _society(request)
    if society is None:
        return render(
            request,
            "feedback/public_country.html",
            {**context, "countries": public_countries(lang)},
        )
    query = request.GET.get("q", "")[:200]
    hits = selectors.public_faq(society.network, lang, query)
    return render(
        request,
        "feedback/public_faq.html",
        {**context, "society": society, "q": query, "hits": hits},
    )
