"""The append-only audit trail of every access to and change of personal data."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("audit events are append-only")

    def delete(self) -> NoReturn:
        raise PermissionError("audit events are append-only")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        READ = "read", "read"
        CREATE = "create", "create"
        CHANGE = "change", "change"
        CONSENT = "consent", "consent"
        EXPORT = "export", "export"
        SHARE = "share", "share"
        SEARCH = "search", "search"
        ERASE = "erase", "erase"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept so the trail stays readable if the account is later removed.
    actor_username = models.CharField(max_length=150)
    national_society = models.ForeignKey(
        "orgs.NationalSociety", null=True, on_delete=models.PROTECT, related_name="+"
    )
    service_point = models.ForeignKey(
        "orgs.ServicePoint", null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    # e.g. "person", "health_summary", "encounter"
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64, blank=True)
    # The person concerned, so a person's whole trail can be listed.
    person_id = models.UUIDField(null=True, db_index=True)
    fields = models.JSONField(default=list, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    via = models.CharField(max_length=10, default="web")  # web, api, command

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["national_society", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("audit events are append-only")
