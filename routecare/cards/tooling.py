"""The command line's card encoder and decoder, for operators and second implementations."""

from __future__ import annotations

import json
import os
from typing import Any

from django.utils import timezone
from pydantic import ValidationError

from routecare.cards import format
from routecare.cards.build import fit
from routecare.cards.keys import (
    DatabaseKeys,
    KeyManagementError,
    check_not_revoked,
    issuing_keys,
)
from routecare.cards.summary import CardSummary, read_text, to_record
from routecare.orgs.models import NationalSociety, Network


class ToolError(ValueError):
    pass


def encode_json(source: str, country_code: str) -> tuple[str, dict[str, int]]:
    """QR text for a JSON summary; ``serial`` and ``issued_at`` default to new ones."""
    society = NationalSociety.objects.filter(country_code=country_code.upper()).first()
    if society is None:
        raise ToolError(f"no National Society with country code {country_code!r}")
    try:
        data: Any = json.loads(source)
    except json.JSONDecodeError as error:
        raise ToolError(f"the summary is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise ToolError("the summary must be a JSON object")
    data.setdefault("serial", os.urandom(8).hex())
    data.setdefault("issued_at", timezone.now().replace(microsecond=0).isoformat())
    try:
        summary = CardSummary.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise ToolError(f"the summary does not follow the card format: {problems}") from error
    try:
        keys = issuing_keys(society)
    except KeyManagementError as error:
        raise ToolError(str(error)) from error
    card_key, signing_key = keys.materials()

    def seal(candidate: CardSummary) -> str:
        return format.seal(
            to_record(candidate),
            network=keys.network_number,
            card_key=card_key,
            signing_key=signing_key,
        )

    fitted, text = fit(summary, seal)
    return text, fitted.dropped


def decode_text(source: str) -> dict[str, Any]:
    """The JSON summary of a card's QR text, checked against any network's keys here."""
    keys = DatabaseKeys()
    unsealed, summary = read_text(source, keys)
    network = Network.objects.get(card_number=unsealed.network)
    check_not_revoked(network.pk, summary.serial)
    keys.check_node_serial(summary.serial)
    result: dict[str, Any] = summary.model_dump(mode="json")
    return result
