"""The server's sync pages: a society's field nodes (focal points enrol and revoke them) and
its sync conflicts (coordinators and focal points pick or combine the two values).

Enrolment codes are shown once, in the answer to the POST that made them, never in a URL."""

from __future__ import annotations

from cryptography import x509
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core.http import posted
from routecare.orgs.models import NationalSociety
from routecare.sync import actions, nodes, selectors, tls
from routecare.sync.forms import EnrolmentCodeForm, RevokeNodeForm


@staff_view(Rule.SOCIETY_ADMIN)
def nodes_page(request: StaffRequest) -> HttpResponse:
    form = EnrolmentCodeForm(selectors.enrolment_points(request.actor), posted(request))
    if form.is_valid():
        point = form.cleaned_data["service_point"]
        # Never later than the code's own expiry (computed a moment after this).
        expires_at = timezone.now() + nodes.CODE_VALIDITY
        code = nodes.create_enrolment_code(request.actor, point)
        response = render(
            request, "sync/code.html", {"code": code, "point": point, "expires_at": expires_at}
        )
        add_never_cache_headers(response)  # the code must not stay in any cache
        return response
    authority = tls.authority_for(NationalSociety.objects.get(pk=request.actor.society_id))
    return render(
        request,
        "sync/nodes.html",
        {"rows": selectors.node_rows(request.actor), "form": form, "authority": authority},
    )


def certificate_download(certificate: x509.Certificate) -> HttpResponse:
    """A root certificate as phones install it: DER, named ``.crt``."""
    response = HttpResponse(tls.der(certificate), content_type=tls.CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="routecare-field-nodes-ca.crt"'
    return response


@staff_view(Rule.SOCIETY_ADMIN)
@require_GET
def authority_download(request: StaffRequest) -> HttpResponse:
    """The society's field-node root, for staff phones (made on first need)."""
    authority = tls.authority_for(NationalSociety.objects.get(pk=request.actor.society_id))
    return certificate_download(tls.authority_certificate(authority))


@staff_view(Rule.SOCIETY_ADMIN)
def revoke(request: StaffRequest, node_id: str) -> HttpResponse:
    node = selectors.node_of(request.actor, node_id)
    if node.revoked_at is not None:
        if request.method == "POST":
            messages.info(request, _("This node was already revoked."))
            return redirect("sync:nodes")
        return render(request, "sync/revoke.html", {"node": node})
    form = RevokeNodeForm(posted(request))
    if form.is_valid():
        nodes.revoke_node(request.actor, node, form.cleaned_data["reason"])
        messages.success(
            request,
            _(
                "%(node)s was revoked. This node can no longer sync: its credential stopped "
                "working now."
            )
            % {"node": node.name},
        )
        return redirect("sync:nodes")
    return render(request, "sync/revoke.html", {"node": node, "form": form})


def _conflicts(request: StaffRequest, status: int = 200) -> HttpResponse:
    return render(
        request,
        "sync/conflicts.html",
        {
            "open": selectors.open_conflicts(request.actor),
            "resolved": selectors.resolved_conflicts(request.actor),
        },
        status=status,
    )


@staff_view(Rule.COORDINATION)
@require_GET
def conflicts_page(request: StaffRequest) -> HttpResponse:
    return _conflicts(request)


@staff_view(Rule.COORDINATION)
@require_POST
def resolve(request: StaffRequest, conflict_id: str, choice: str) -> HttpResponse:
    conflict = selectors.conflict_of(request.actor, conflict_id)
    if conflict.resolved_at is not None:
        # Another coordinator was quicker: not an error of this one's.
        messages.info(request, _("This conflict was already resolved: nothing was changed."))
        return redirect("sync:conflicts")
    if choice not in actions.CHOICES:
        messages.error(request, _("Unknown choice: nothing was changed."))
        return _conflicts(request, status=400)
    try:
        resolution = actions.resolve_conflict(request.actor, conflict, choice)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return _conflicts(request, status=400)
    except PermissionError:
        messages.error(request, _("You may not change this record: nothing was changed."))
        return _conflicts(request, status=403)
    if resolution.written:
        messages.success(request, _("Conflict resolved: the chosen value was saved."))
    else:
        messages.info(
            request,
            _("The record no longer exists here: the conflict was closed without a change."),
        )
    return redirect("sync:conflicts")
