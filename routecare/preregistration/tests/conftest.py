"""A pre-registration as the public form sends it, for the tests of this app."""

from __future__ import annotations

import secrets
from typing import Any

from django.test import Client

ANSWERS: dict[str, Any] = {
    "sex": "female",
    "birth_year": "1994",
    "travel_group": "family",
    "languages": ["ps", "fa"],
    "services": ["water", "medicines"],
    "consents": ["care", "share-network"],
    "allergies": "penicillin\nlatex",
    "medicines": "metformin",
}


def send_form(client: Client, lang: str = "ps", **changes: Any) -> Any:
    """POST the public form (a fresh form token unless one is given); the response."""
    data = {**ANSWERS, "form_token": secrets.token_urlsafe(24), **changes}
    data = {name: value for name, value in data.items() if value is not None}
    return client.post(f"/{lang}/register/", data)


def code_of(response: Any) -> str:
    """The code shown on the page that answered a form."""
    body: str = response.content.decode()
    marker = 'data-testid="prereg-code">'
    start = body.index(marker) + len(marker)
    return body[start : body.index("<", start)]
