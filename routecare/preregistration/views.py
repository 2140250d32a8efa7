"""The public form (``/<lang>/register/``) and the point's page that opens a code.

Public: no account, the directory's public pages' look, languages and weight; works without
JavaScript, and offline after one visit with ``register.js``. Staff: a volunteer of a point
scans, photographs or types the code, sees the people app's registration form prefilled,
confirms it with the person and saves. Codes travel in POST bodies only, never in addresses.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.cards import qr
from routecare.cards.messages import photo_error
from routecare.core import person_texts, ratelimit
from routecare.core.http import add_validation_errors, posted
from routecare.core.languages import ROUTE_LANGUAGES, language_name_in
from routecare.directory.views import SERVICE_ICONS, public_base
from routecare.orgs.taxonomy import AgeBand, Service, Sex
from routecare.people.consent import PERSON_TEXT_KEYS
from routecare.people.models import TravelGroup
from routecare.preregistration import actions, codes, selectors
from routecare.preregistration.forms import ConfirmForm, OpenForm, PreRegistrationForm

# The public form's field -> the person text that explains what to change.
ERRORS = {
    "sex": "prereg_err_sex", "age_band": "prereg_err_age", "birth_year": "prereg_err_age",
    "travel_group": "prereg_err_travel", "consents": "prereg_err_care",
    "allergies": "prereg_err_health", "medicines": "prereg_err_health",
    "phone": "prereg_err_phone", "form_token": "prereg_err_expired",
}  # fmt: skip
CHOICES = ("sex", "age_band", "travel_group", "languages", "services", "consents")
# Failed openings a staff member may make in an hour: a code is not guessed at a point.
FAILED_OPENINGS_PER_HOUR = 20

REFUSALS = {
    codes.Problem.MALFORMED.value: gettext_lazy(
        "That is not a pre-registration code. They look like P-7K3M-9Q4."
    ),
    codes.Problem.PERSON_CODE.value: gettext_lazy(
        "This is a person's short code (RC-…), not a pre-registration: use Find."
    ),
    codes.Problem.TYPO.value: gettext_lazy(
        "The code has a typing mistake: check each character with the person."
    ),
    selectors.UNKNOWN: gettext_lazy(
        "No pre-registration has this code. It may have been deleted after 14 days: "
        "register the person here."
    ),
    selectors.USED: gettext_lazy(
        "This code was already used: the person is registered. Find them by their short code "
        "or card."
    ),
    selectors.EXPIRED: gettext_lazy(
        "This pre-registration has expired (codes are valid 14 days): register the person here."
    ),
}


def _gzip_get(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Compress the form (kept for offline use: its size counts on 2G), never the answer to
    a POST, where the code stands beside what was just posted (a compression attack)."""
    compressed = gzip_page(view)

    @wraps(view)
    def serve(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return (compressed if request.method == "GET" else view)(request, *args, **kwargs)

    return serve


def _form_context(request: HttpRequest, lang: str) -> dict[str, Any]:
    context = public_base(request, lang)
    texts = context["texts"]
    context.update(
        sexes=[(code, texts[f"sex_{code}"]) for code in Sex.values],
        age_bands=AgeBand.choices,
        travel_groups=[(code, texts[f"travel_{code.replace('-', '_')}"]) for code in TravelGroup],
        spoken=[(code, language_name_in(code, code)) for code in ROUTE_LANGUAGES],
        services=[
            (code, SERVICE_ICONS.get(code, "•"), texts[f"service:{code}"]) for code in Service
        ],
        consents=[
            (code, texts[f"consent_{code.replace('-', '_')}"], texts[PERSON_TEXT_KEYS[code]])
            for code in actions.PUBLIC_PURPOSES
        ],
        form_token=actions.new_form_token(),
        # What a refused form had ticked, ticked again.
        chosen={name: request.POST.getlist(name) for name in CHOICES},
    )
    return context


@staff_view(Rule.PUBLIC)
@never_cache
@_gzip_get
@sensitive_post_parameters("phone", "allergies", "medicines")
def register(request: HttpRequest, lang: str) -> HttpResponse:
    """`/<lang>/register/`: the form; a POST stores it once and shows the code."""
    if lang not in person_texts.PERSON_LANGUAGES:
        return redirect(reverse("preregistration:register", args=["en"]))
    context = _form_context(request, lang)
    texts = context["texts"]
    if not codes.available():
        context["error"] = texts["prereg_unavailable"]
        return render(request, "preregistration/register.html", context, status=503)
    if request.method != "POST":
        return render(request, "preregistration/register.html", context)
    form = PreRegistrationForm(request.POST)
    context["posted"] = request.POST
    if request.POST.get("website") or not form.is_valid():  # "website": robots only
        field = next(iter(form.errors), "form")
        context["error"] = texts[ERRORS.get(field, "prereg_err_form")]
        return render(request, "preregistration/register.html", context, status=400)
    token = form.cleaned_data["form_token"]
    limit = ratelimit.allow  # a form sent again is answered, not counted
    if not actions.already_sent(token) and not limit(
        "preregistration", request, limit=actions.per_hour(), seconds=3600
    ):
        context["error"] = texts["prereg_too_many"]
        return render(request, "preregistration/register.html", context, status=429)
    try:
        submitted = actions.preregister(form.answers(lang), form_token=token)
    except ValidationError as error:
        field = next(iter(getattr(error, "error_dict", {"form": None})))
        context["error"] = texts[ERRORS.get(field, "prereg_err_form")]
        return render(request, "preregistration/register.html", context, status=400)
    context.update(
        submitted=submitted,
        qr_svg=qr.svg(submitted.code, scale=6) if submitted.code else "",
    )
    return render(request, "preregistration/code.html", context, status=201)


@staff_view(Rule.PERSONAL_RECORDS)
@never_cache
def open_code(request: StaffRequest) -> HttpResponse:
    """Scan, photograph or type the code the person shows: the registration form, prefilled.
    A code that opens nothing is said so on the page (and counted: ``FAILED_OPENINGS_PER_HOUR``)."""
    form = OpenForm(posted(request), request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "preregistration/open.html", {"form": form})
    if _too_many_failed_openings(request):
        form.add_error(None, _("Too many codes that open nothing. Try again in an hour."))
        return render(request, "preregistration/open.html", {"form": form}, status=429)
    typed = form.cleaned_data["code"]
    photo = form.cleaned_data["photo"]
    if photo is not None:
        try:
            if photo.size > qr.MAX_PHOTO_BYTES:
                raise qr.PhotoError("too_large")
            typed = qr.read_photo(photo.read())
        except qr.PhotoError as failure:
            form.add_error("photo", photo_error(failure.code))
            return render(request, "preregistration/open.html", {"form": form})
    try:
        opened = selectors.open_by_code(request.actor, typed)
    except selectors.RefusedError as refusal:
        _count_failed_opening(request)
        form.add_error(None, str(REFUSALS[refusal.reason]))
        return render(request, "preregistration/open.html", {"form": form})
    return _confirm_page(request, opened, ConfirmForm.prefilled(opened))


def _openings_scope(request: StaffRequest) -> str:
    return f"preregistration-open-{request.actor.user_id}"


def _too_many_failed_openings(request: StaffRequest) -> bool:
    scope = _openings_scope(request)
    return ratelimit.blocked(scope, request, limit=FAILED_OPENINGS_PER_HOUR, seconds=3600)


def _count_failed_opening(request: StaffRequest) -> None:
    """A code that opened nothing, from the open page or a posted confirmation alike: both
    count towards the limit, so neither can be used to guess codes."""
    ratelimit.allow(_openings_scope(request), request, limit=FAILED_OPENINGS_PER_HOUR, seconds=3600)


def _confirm_page(
    request: StaffRequest, opened: selectors.Opened, form: ConfirmForm
) -> HttpResponse:
    services = [Service(code).label for code in opened.services if code in Service.values]
    return render(
        request,
        "preregistration/confirm.html",
        {"form": form, "opened": opened, "services": services},
    )


@staff_view(Rule.PERSONAL_RECORDS)
@require_POST
@sensitive_post_parameters("allergies", "medicines")
def confirm(request: StaffRequest) -> HttpResponse:
    """Save what the volunteer confirmed with the person: a person of the volunteer's
    society, and the pre-registration used and emptied."""
    form = ConfirmForm(request.POST)
    if _too_many_failed_openings(request):
        refused = OpenForm({})
        refused.is_valid()
        refused.add_error(None, _("Too many codes that open nothing. Try again in an hour."))
        return render(request, "preregistration/open.html", {"form": refused}, status=429)
    try:
        if form.is_valid():
            try:
                person = actions.register_from_preregistration(
                    request.actor, form.cleaned_data["code"], registration=form.registration(),
                    allergies=form.cleaned_data["allergies"],
                    medicines=form.cleaned_data["medicines"],
                )  # fmt: skip
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(
                    request,
                    _(
                        "Registered. Give the person their short code, then record what they "
                        "receive."
                    ),
                )
                return redirect("people:record_encounter", person_id=person.pk)
        opened = selectors.open_by_code(request.actor, request.POST.get("code", ""))
    except selectors.RefusedError as refusal:
        _count_failed_opening(request)
        refused = OpenForm({})
        refused.is_valid()
        refused.add_error(None, str(REFUSALS[refusal.reason]))
        return render(request, "preregistration/open.html", {"form": refused})
    return _confirm_page(request, opened, form)
