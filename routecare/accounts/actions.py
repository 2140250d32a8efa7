"""Signing in, choosing today's service point and managing API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from routecare.access import Actor, build_actor
from routecare.accounts.models import ApiToken
from routecare.orgs.models import ServicePoint

TOKEN_PREFIX = "rct_"  # noqa: S105 - a marker, not a secret
# Avoid a write on every API call: last_used_at is refreshed at most this often.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


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
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(raw),
        service_point=service_point,
        expires_at=expires_at,
    )
    return token, raw


def revoke_api_token(token: ApiToken) -> ApiToken:
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def actor_for_token(raw: str) -> Actor | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__membership")
        .filter(digest=token_digest(raw), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return build_actor(token.user, token.service_point_id, via="api")
