from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from routecare.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the trail is append-only."""

    list_display = ["at", "actor_username", "action", "object_type", "national_society", "via"]
    list_filter = ["action", "object_type", "via", "national_society"]
    search_fields = ["actor_username", "object_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
