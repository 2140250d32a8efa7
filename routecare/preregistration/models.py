"""A registration a person filled in on their own phone, waiting to be confirmed at a point.

Held encrypted and found only by a keyed digest of its code (``codes.digest``): the code
itself is never stored, so the table lists nobody and a copy of it opens nothing. Read only
through ``selectors.open_by_code`` (a point, with the code the person shows) and changed only
through ``actions``. Once used, what the person entered is deleted and only the digest and the
time of use stay, so that the same code shown again is answered "already used"; at expiry the
row goes (``actions.purge_expired``).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from routecare.core.crypto import EncryptedJSONField


class PreRegistration(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code_digest = models.CharField(max_length=64, unique=True)
    # The keyed digest of the form's one-time token: a form sent twice (a double tap, a reply
    # lost on the way) is stored once and shows the same code.
    submission_digest = models.CharField(max_length=64, unique=True)
    # Sex, age, languages, travel group, services needed, consents, the form's language.
    details = EncryptedJSONField(null=True, blank=True)
    # Allergies and medicines, as the person wrote them.
    health = EncryptedJSONField(null=True, blank=True)
    # A phone number, only when the person asked for an answer by message.
    contact = EncryptedJSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pre-registration {self.id}"
