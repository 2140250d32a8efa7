"""Enrolling, recognising and revoking field nodes (server side).

A focal point creates a one-time enrolment code bound to one service point (valid 24 hours);
``routecare node enroll`` on the laptop trades it for the node's own credential. Only the
credential's SHA-256 is kept here. Revoking a node stops its credential at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.orgs.models import Role, ServicePoint
from routecare.sync import signals
from routecare.sync.models import EnrolmentCode, Node

CREDENTIAL_PREFIX = "rcn_"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # read aloud or typed from a phone message
CODE_LENGTH = 12
CODE_VALIDITY = dt.timedelta(hours=24)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _normal_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def may_manage_nodes(actor: Actor, point: ServicePoint) -> bool:
    return actor.role == Role.FOCAL_POINT and point.national_society_id == actor.national_society_id


def create_enrolment_code(actor: Actor, point: ServicePoint) -> str:
    """A one-time code for a node at ``point``; shown once, only its digest is kept."""
    if not may_manage_nodes(actor, point):
        raise PermissionError("only the society's focal points enrol nodes")
    code = "".join(secrets.choice(CODE_ALPHABET) for _n in range(CODE_LENGTH))
    with transaction.atomic():
        created = EnrolmentCode.objects.create(
            digest=_digest(code), service_point=point, created_by=actor.user,
            expires_at=timezone.now() + CODE_VALIDITY,
        )  # fmt: skip
        record_event(actor, "create", "enrolment_code", created.pk, detail=f"point {point.pk}")
    return "-".join(code[i : i + 4] for i in range(0, CODE_LENGTH, 4))


@dataclass(frozen=True)
class Enrolment:
    node: Node
    credential: str  # shown to the node once
    extra: dict[str, Any] = field(default_factory=dict)  # from other apps (signals)


def enroll(
    code: str, name: str, version: str = "", extra: dict[str, Any] | None = None
) -> Enrolment:
    """Trade an enrolment code for a node credential. One use; refused when expired."""
    name = name.strip()[:80]
    if not name:
        raise ValidationError({"name": _("Give the node a name.")})
    now = timezone.now()
    with transaction.atomic():
        found = (
            EnrolmentCode.objects.select_for_update()
            .select_related("service_point")
            .filter(digest=_digest(_normal_code(code)))
            .first()
        )
        if found is None or found.used_at is not None or found.expires_at <= now:
            raise ValidationError({"code": _("This enrolment code is unknown, used or expired.")})
        credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
        node = Node.objects.create(
            name=name, service_point=found.service_point,
            national_society_id=found.service_point.national_society_id,
            credential_digest=_digest(credential), enrolled_by=found.created_by,
            version=version[:40], last_contact_at=now,
        )  # fmt: skip
        found.used_at, found.node = now, node
        found.save(update_fields=["used_at", "node"])
        answer: dict[str, Any] = {}
        for _receiver, returned in signals.node_enrolling.send(
            sender=Node, node=node, extra=extra or {}
        ):
            if isinstance(returned, dict):
                answer.update(returned)
    return Enrolment(node, credential, answer)


def node_for_credential(raw: str) -> Node | None:
    """The node a credential belongs to; a revoked node is told so (HTTP 403)."""
    if not raw.startswith(CREDENTIAL_PREFIX):
        return None
    node = Node.objects.select_related("service_point").filter(credential_digest=_digest(raw))
    found = node.first()
    if found is None:
        return None
    if found.revoked_at is not None:
        raise HttpError(403, _("This node was revoked: it can no longer sync."))
    return found


def record_contact(node: Node, backlog: object, version: str | None) -> None:
    updates: dict[str, object] = {"last_contact_at": timezone.now()}
    if isinstance(backlog, int) and 0 <= backlog < 10**9:
        updates["backlog"] = backlog
    if version:
        updates["version"] = version[:40]
    Node.objects.filter(pk=node.pk).update(**updates)


def revoke_node(actor: Actor | None, node: Node, reason: str = "") -> Node:
    """Cut a node off (a stolen laptop): its credential stops working at once."""
    if actor is not None and not may_manage_nodes(actor, node.service_point):
        raise PermissionError("only the society's focal points revoke nodes")
    with transaction.atomic():
        if node.revoked_at is None:
            node.revoked_at = timezone.now()
            node.revoked_by = actor.user if actor else None
            node.save(update_fields=["revoked_at", "revoked_by"])
        if actor is not None:
            record_event(actor, "revoke", "node", node.pk, detail=reason[:150])
        signals.node_revoked.send(sender=Node, node=node, actor=actor)
    return node


def nodes_of(actor: Actor) -> list[Node]:
    if actor.role != Role.FOCAL_POINT or actor.national_society_id is None:
        return []
    return list(
        Node.objects.filter(national_society_id=actor.national_society_id).select_related(
            "service_point"
        )
    )


def node_by_id(node_id: str | uuid.UUID) -> Node | None:
    try:
        return Node.objects.select_related("service_point").filter(pk=node_id).first()
    except (ValueError, ValidationError):
        return None
