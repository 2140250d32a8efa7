import datetime as dt
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.models import signals
from django.utils import timezone


def _regional_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    """A training, its attendance or a referral changed: its year's regional figures are
    stale (``regional.store``)."""
    from routecare.indicators.models import Training, TrainingAttendance
    from routecare.indicators.regional.store import changed
    from routecare.orgs.models import ServicePoint

    if isinstance(instance, TrainingAttendance):
        found = Training.objects.filter(pk=instance.training_id).values_list(
            "day", "national_society_id"
        )
        for day, society in found:
            changed([day], [society])
    elif isinstance(instance, Training):
        changed([instance.day], [instance.national_society_id])
    else:  # a referral, counted on the day it was made, at the point it came from
        societies = ServicePoint.objects.filter(pk=instance.from_point_id).values_list(
            "national_society_id", flat=True
        )
        changed([timezone.localdate(instance.created_at)], list(societies))


class IndicatorsConfig(AppConfig):
    name = "routecare.indicators"
    label = "indicators"

    def ready(self) -> None:
        from routecare.core import caching, periodic
        from routecare.indicators import rollups
        from routecare.indicators.kobo.importer import pull_all
        from routecare.indicators.models import Training, TrainingAttendance
        from routecare.indicators.regional import store as regional_store
        from routecare.indicators.rollups import CACHE_KIND, refresh
        from routecare.orgs.models import NationalSociety, Route, RouteStop, ServicePoint
        from routecare.people.signals import person_changed
        from routecare.referrals.models import Referral

        # What dashboards read besides the rollups (whose rebuilds drop them themselves).
        caching.drop_on_change(
            CACHE_KIND, Training, TrainingAttendance, Referral, ServicePoint, Route, RouteStop,
            NationalSociety,
        )  # fmt: skip
        periodic.register("indicators.refresh", dt.timedelta(seconds=30), refresh)
        person_changed.connect(rollups.person_changed, dispatch_uid="rollups-person-changed")
        periodic.register(
            regional_store.JOB,
            dt.timedelta(seconds=settings.REGIONAL_PATTERN_EVERY),
            regional_store.refresh_all,
        )
        # Regional years computed ahead go stale with what they read besides the rollups
        # (whose rebuilds mark them themselves).
        for model in (Training, TrainingAttendance, Referral):
            signals.post_save.connect(
                _regional_changed, sender=model, dispatch_uid=f"regional-{model.__name__}"
            )
            signals.post_delete.connect(
                _regional_changed, sender=model, dispatch_uid=f"regional-{model.__name__}-gone"
            )
        periodic.register("indicators.kobo-pull", dt.timedelta(minutes=15), pull_all)
