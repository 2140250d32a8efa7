"""The node page, for staff at a field node: is the link up, when did the last sync succeed,
what is waiting, what the server refused, and a *Sync now* button.

These pages exist only on a node (``settings.ROUTECARE_NODE``): on a server their addresses
answer 404. The check is made per request, so that the URL names always exist (a template
that links to the node page renders on a server too) and a test may play a node."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.sync import client, registry, tls
from routecare.sync.context import NodeStatus, node_status_of
from routecare.sync.models import OutboxChange
from routecare.sync.views import certificate_download

SHOWN_REFUSALS = 50


@dataclass(frozen=True)
class Refusal:
    """A change the server refused: what kind of record and why, never its values."""

    kind: str
    message: str
    created_at: object
    attempts: int


def _kind(label: str) -> str:
    syncable = registry.syncable(label)
    return str(syncable.model._meta.verbose_name) if syncable else label


def _refusals() -> list[Refusal]:
    refused = OutboxChange.objects.filter(state=OutboxChange.State.REFUSED).order_by("hlc")
    return [
        Refusal(_kind(change.label), change.last_error, change.created_at, change.attempts)
        for change in refused.only("label", "last_error", "created_at", "attempts")[:SHOWN_REFUSALS]
    ]


def _own_node(request: StaffRequest) -> NodeStatus:
    """Staff of the node's society only (a node not enrolled yet shows that to anyone); on a
    server the page does not exist."""
    if not settings.ROUTECARE_NODE:
        raise Http404
    status = node_status_of(request)
    society = request.actor.national_society_id
    if status.enrolled and (society is None or str(society) != status.national_society_id):
        raise PermissionDenied
    return status


def _why(error: client.SyncUnavailable) -> str:
    reason = str(error)
    if reason.startswith("no link"):
        return _("the server cannot be reached (no connection)")
    if reason.startswith("the server refused this node"):
        return _("the server refused this node: ask your focal point whether it was revoked")
    if reason.startswith("this machine is not enrolled"):
        return _("this machine is not enrolled as a node yet")
    return _("the server's answer could not be used (%(reason)s)") % {"reason": reason}


@staff_view(Rule.SIGNED_IN)
@require_GET
def node_page(request: StaffRequest) -> HttpResponse:
    status = _own_node(request)
    return render(request, "sync/node_page.html", {"status": status, "refusals": _refusals()})


@staff_view(Rule.SIGNED_IN)
@require_POST
def sync_now(request: StaffRequest) -> HttpResponse:
    _own_node(request)
    try:
        report = client.sync_now()
    except client.SyncUnavailable as error:
        messages.error(
            request,
            _("Not synced: %(why)s. Your changes are kept here and go at the next sync.")
            % {"why": _why(error)},
        )
        return redirect("sync:node")
    pulled = report.pulled.records if report.pulled else 0
    messages.success(
        request,
        _(
            "Synced: %(acknowledged)s changes received by the server, %(refused)s refused, "
            "%(waiting)s still waiting; %(pulled)s records brought here."
        )
        % {
            "acknowledged": report.acknowledged,
            "refused": report.refused,
            "waiting": report.waiting,
            "pulled": pulled,
        },
    )
    return redirect("sync:node")


def _https_address(request: StaffRequest) -> str:
    """Over the plain-http listener of ``make node`` (sync.plain_wsgi): this node's HTTPS
    address, to go on to once the root is installed."""
    port = request.META.get("routecare.https_port")
    if request.is_secure() or not port:
        return ""
    host, _port = split_domain_port(request.get_host())
    return f"https://{host}:{port}/"


@staff_view(Rule.PUBLIC)
@require_GET
def authority_page(request: StaffRequest) -> HttpResponse:
    """Before sign-in, even over plain http: the society's root for a phone to install once,
    with its fingerprint to compare."""
    if not settings.ROUTECARE_NODE:
        raise Http404
    root = tls.node_authority()
    return render(
        request,
        "sync/node_authority.html",
        {
            "fingerprint": tls.fingerprint(root) if root else "",
            "https_address": _https_address(request),
        },
    )


@staff_view(Rule.PUBLIC)
@require_GET
def authority_download(request: StaffRequest) -> HttpResponse:
    if not settings.ROUTECARE_NODE:
        raise Http404
    root = tls.node_authority()
    if root is None:
        raise Http404
    return certificate_download(root)


def node_urlpatterns() -> list[URLPattern]:
    """The node's own pages (on a server they answer 404: see ``_own_node``)."""
    return [
        path("sync/node/", node_page, name="node"),
        path("sync/node/sync-now/", sync_now, name="node_sync"),
        path("sync/node/ca/", authority_page, name="node_authority"),
        path("sync/node/ca.crt", authority_download, name="node_authority_download"),
    ]
