"""WhatsApp Cloud API deliveries as the platform sends them, for the bench and the load test:
a ``whatsapp_business_account`` notification with one text message (the shape of
``messaging/tests/payloads/whatsapp/text.json``), signed as Meta signs it
(``X-Hub-Signature-256``: ``sha256=`` and the HMAC-SHA256 of the raw body with the app secret).

Nothing of Django is imported here: the load test's locust process loads this module."""

from __future__ import annotations

import hashlib
import hmac
import json
import time


def whatsapp_text(
    number_id: str, sender: str, wamid: str, text: str, sent_at: float | None = None
) -> bytes:
    """The raw body of one text message from ``sender`` to the number ``number_id``."""
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "10000000000", "phone_number_id": number_id},
            "contacts": [{"profile": {"name": "Bench"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": wamid,
                          "timestamp": str(int(time.time() if sent_at is None else sent_at)),
                          "type": "text", "text": {"body": text}}],
        }}]}],
    }).encode()  # fmt: skip


def signed_headers(app_secret: str, raw: bytes) -> dict[str, str]:
    """The headers Meta sends with ``raw``."""
    digest = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
