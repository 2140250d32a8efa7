"""A demo cash round between the Honduran and Guatemalan Red Cross, on the Americas route,
with one enrolment of a demo person (fictional names, encoded and dropped like any other)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from routecare.access import build_actor
from routecare.cash import actions
from routecare.cash.models import CashRound
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.people.models import Person

ROUND_NAME = "Onward transport, Danlí and Esquipulas (demo)"


def load_cash() -> None:
    honduras = NationalSociety.objects.filter(country_code="HN").first()
    guatemala = NationalSociety.objects.filter(country_code="GT").first()
    if honduras is None or guatemala is None:
        return
    if CashRound.objects.filter(name=ROUND_NAME, national_society=honduras).exists():
        return
    user_model = get_user_model()
    focal = build_actor(user_model.objects.get(username="hn-focal"), None, via="command")
    point = ServicePoint.objects.get(code="hnd-danli")
    volunteer = build_actor(user_model.objects.get(username="hn-volunteer"), point.pk, "command")
    if focal is None or volunteer is None:
        return
    today = timezone.now().date()
    cash_round = actions.create_round(
        focal,
        actions.RoundInput(
            name=ROUND_NAME, starts_on=today - dt.timedelta(days=7),
            ends_on=today + dt.timedelta(days=30), amount=Decimal("40.00"), currency="USD",
            participant_ids=[honduras.pk, guatemala.pk],
        ),
    )  # fmt: skip
    person = Person.objects.filter(national_society=honduras, sex="female").order_by("pk").first()
    if person is not None:
        actions.enrol_person(
            volunteer, cash_round, person, given_names="Ana Lucía", surnames="Demo Ejemplo",
            birth_date=dt.date(1994, 4, 12), sex="female",
        )  # fmt: skip
