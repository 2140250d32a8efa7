from __future__ import annotations

from django.http import HttpRequest

from routecare.access import Actor, Rule, allows


def actor(request: HttpRequest) -> dict[str, object]:
    current: Actor | None = getattr(request, "actor", None)
    return {
        "actor": current,
        "can_handle_records": allows(current, Rule.PERSONAL_RECORDS),
        "can_read_cards": allows(current, Rule.CARD_READING),
        "can_admin_society": allows(current, Rule.SOCIETY_ADMIN),
    }
