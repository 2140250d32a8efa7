"""Flows tests run on the demo networks, where routes have real stops and travel times."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from routecare.access import Actor, build_actor
from routecare.demo.loader import load_demo
from routecare.flows.models import DailyCount, StockItem, Trigger, TriggerEvent
from routecare.orgs.models import ServicePoint


@pytest.fixture
def demo(db: None) -> None:
    """The demo's places, routes and people; not its counts, stock and triggers, which each
    test sets up for itself."""
    load_demo()
    DailyCount.objects.all().delete()
    TriggerEvent.objects.all().delete()
    Trigger.objects.all().delete()
    StockItem.objects.all().delete()


def actor_at(code: str, role: str = "coordinator") -> Actor:
    """The demo society's user of that role, working at the point."""
    point = ServicePoint.objects.get(code=code)
    country = point.national_society.country_code.lower()
    user = get_user_model().objects.get(username=f"{country}-{role}")
    actor = build_actor(user, point.pk)
    assert actor is not None
    return actor
