"""The Western Balkans route: Serbia behind Slovenia. Each society's points are public; Serbia
and the IFRC cluster each have a safeguarding focal point."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from routecare.conftest import Society, _society, make_user
from routecare.orgs.models import Network, Role, ServicePoint


@dataclass
class Balkans:
    network: Network
    serbia: Society
    slovenia: Society
    serbian_safeguarding: User
    regional: User
    regional_safeguarding: User


@pytest.fixture
def balkans(db: None) -> Balkans:
    network = Network.objects.create(slug="balkans", name="Western Balkans route")
    serbia = _society(network, "RS", "Red Cross of Serbia")
    slovenia = _society(network, "SI", "Slovenian Red Cross")
    ServicePoint.objects.filter(national_society__network=network).update(
        visibility=ServicePoint.Visibility.PUBLIC
    )
    # A coordinator designated safeguarding focal point (not a focal point of the society).
    safeguarding = make_user(
        "rs-safeguarding", Role.COORDINATOR, national_society=serbia.society, safeguarding=True
    )
    regional_safeguarding = make_user(
        "ifrc-safeguarding", Role.REGIONAL, network=network, safeguarding=True
    )
    return Balkans(
        network=network,
        serbia=serbia,
        slovenia=slovenia,
        serbian_safeguarding=safeguarding,
        regional=make_user("ifrc-balkans", Role.REGIONAL, network=network),
        regional_safeguarding=regional_safeguarding,
    )
