"""A system administrator sets a society's channels up here (their secrets are not in the
database: ``ROUTECARE_MESSAGING_SECRETS``, docs/messaging.md). Contacts, conversations and
messages are personal data: they are not in the admin (staff use the helpdesk inbox)."""

from django.contrib import admin

from routecare.messaging.models import Channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["slug", "kind", "national_society", "active", "retention_days"]
    list_filter = ["kind", "active"]
    fields = [
        "national_society", "kind", "slug", "platform_id", "active", "emergency_number",
        "retention_days",
    ]  # fmt: skip
