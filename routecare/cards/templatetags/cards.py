"""What a card says about itself, for the card pages."""

from __future__ import annotations

from django import template

from routecare.cards.messages import list_label

register = template.Library()


@register.filter
def not_whole(dropped: dict[str, int]) -> str:
    """Key 19 for staff: "2 × Allergies, 1 × Encounters" (left off or shortened)."""
    return ", ".join(f"{count} × {list_label(name)}" for name, count in dropped.items())
