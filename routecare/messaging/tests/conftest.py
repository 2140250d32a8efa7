"""The messaging tests' loopback platforms: the Graph API and the Telegram Bot API faked on
loopback, with the test channels' secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from routecare.messaging.loopback import FakePlatforms
from routecare.messaging.tests.test_webhooks import SECRETS


@pytest.fixture
def platforms() -> Iterator[FakePlatforms]:
    fake = FakePlatforms(
        SECRETS["hn-whatsapp"]["access_token"], SECRETS["mk-telegram"]["bot_token"]
    )
    with (
        fake,
        override_settings(
            ROUTECARE_MESSAGING_SECRETS=SECRETS,
            ROUTECARE_WHATSAPP_API=f"{fake.url}/v21.0",
            ROUTECARE_TELEGRAM_API=fake.url,
        ),
    ):
        yield fake
