"""Signing in, choosing today's service point and managing API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from routecare.access import (
    ACCESS,
    Actor,
    actor_of,
    assignment_annotations,
    may_work_at,
    membership_of,
    needs_two_factor,
)
from routecare.accounts.models import ApiToken
from routecare.audit.actions import record_system_event, record_user_event
from routecare.core import caching
from routecare.orgs.models import ServicePoint

# Every token expires; a client that needs longer gets a new one.
DEFAULT_TOKEN_LIFETIME = dt.timedelta(days=90)
ENROLMENT_KEY = "totp_enrolment_key"
TOKEN_PREFIX = "rct_"  # noqa: S105 - a marker, not a secret
# Avoid a write on every API call: last_used_at is refreshed at most this often.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)
# Who a token is stays cached this long: the longest another server process may still accept a
# token revoked (or a user deactivated, reassigned) in this one (docs/threat-model.md).
ACTOR_SECONDS = 30


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(
    user: User,
    name: str,
    service_point: ServicePoint | None,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            digest=token_digest(raw),
            service_point=service_point,
            expires_at=expires_at or timezone.now() + DEFAULT_TOKEN_LIFETIME,
        )
        record_user_event(user, "create", "api_token", token.pk, detail=token.prefix)
    return token, raw


def revoke_api_token(token: ApiToken) -> ApiToken:
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record_user_event(token.user, "change", "api_token", token.pk, detail="revoked")
    return token


def enrolment_candidate(user: User, session: SessionBase) -> TOTPDevice:
    """An unsaved authenticator device whose key lives in this session only.

    The device is saved once its first code is right, so a key shown to one session (say, an
    attacker's who learnt the password) is never the key another session confirms.
    """
    key = session.get(ENROLMENT_KEY)
    if not key:
        key = session[ENROLMENT_KEY] = default_key()
    return TOTPDevice(user=user, key=key, name="authenticator", confirmed=True)


def enrol_second_factor(candidate: TOTPDevice, code: str, session: SessionBase) -> bool:
    totp = TOTP(candidate.bin_key, candidate.step, candidate.t0, candidate.digits)
    if not totp.verify(int(code), tolerance=candidate.tolerance):
        return False
    with transaction.atomic():
        candidate.last_t = totp.t()
        candidate.save()
        record_user_event(candidate.user, "create", "totp_device", candidate.pk)
    session.pop(ENROLMENT_KEY, None)
    return True


def actor_for_token(raw: str) -> Actor | None:
    """Who a raw API token is, on every API call: kept in the cache for ``ACTOR_SECONDS``
    (core.caching: a change of a token, user, membership, assignment or point in this process
    drops it at once). Wrong tokens are never cached: each is looked up and counted."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    digest = token_digest(raw)
    now = timezone.now()
    # Shared as it is (no copy per call): the actor is frozen, and no caller changes its user
    # or point (they are read, and named in the audit trail).
    found = caching.remember(
        ACCESS, (digest,), ACTOR_SECONDS, lambda: _token_actor(digest, now), shared=True
    )
    if found is None:
        return None
    actor, expires_at = found
    if expires_at is not None and expires_at <= now:
        return None
    return actor


def _token_actor(digest: str, now: dt.datetime) -> tuple[Actor, dt.datetime | None] | None:
    # One query for token, user, role and service point. The digest is unique, so no ORDER BY
    # (``first()`` would add one, and building it costs).
    try:
        token: ApiToken | None = (
            ApiToken.objects.select_related("user__membership", "service_point")
            .defer("user__password")  # the actor is cached: never with a password hash
            .annotate(**assignment_annotations("user__membership__id", "service_point_id"))
            .get(digest=digest, revoked_at__isnull=True)
        )
    except ApiToken.DoesNotExist:
        token = None
    if token is None or not token.user.is_active:
        return None
    membership = membership_of(token.user)
    if membership is None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    point = token.service_point
    if point is not None and not may_work_at(
        membership,
        point,
        assigned_here=token.assigned_here,  # type: ignore[attr-defined]
        has_assignments=token.has_assignments,  # type: ignore[attr-defined]
    ):
        point = None  # e.g. reassigned since the token was made: records are refused
    return actor_of(token.user, membership, point, via="api"), token.expires_at


class NodePasswordError(Exception):
    """A node-local password that cannot be set: the reason is for the operator."""


def set_node_password(username: str, password: str) -> User:
    """Set a staff member's sign-in password at this field node (argon2, the first of
    ``PASSWORD_HASHERS``). It lives only in this node's ``auth_user`` row: users never travel
    up, and a pull of the user leaves the password alone (the server withholds its hashes).
    Roles that need a second factor sign in on the server only: their TOTP secrets stay there."""
    if not getattr(settings, "ROUTECARE_NODE", False):
        raise NodePasswordError("This is not a field node: staff set their password on the server.")
    user = User.objects.filter(username=username).first()
    membership = membership_of(user) if user is not None else None
    if user is None or membership is None or not user.is_active:
        raise NodePasswordError(
            f"No active staff member '{username}' at this node: sync first, "
            "or ask a focal point whether they may work at this point."
        )
    if needs_two_factor(membership.role):
        raise NodePasswordError(
            f"'{username}' needs a second factor, which stays on the server: "
            "they sign in on the server, not at a field node."
        )
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise NodePasswordError(" ".join(error.messages)) from error
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record_system_event(
            "change",
            "user",
            user.pk,
            national_society_id=membership.national_society_id,
            detail="node-local sign-in password set",
        )
    return user
