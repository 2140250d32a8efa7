from typing import Any

from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "routecare.indicators"
    label = "indicators"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from routecare.indicators.models import Training, TrainingAttendance
        from routecare.orgs.models import NationalSociety, Route, RouteStop, ServicePoint
        from routecare.referrals.models import Referral

        # What dashboards read besides the rollups (whose rebuilds drop them themselves).
        for model in (
            Training,
            TrainingAttendance,
            Referral,
            ServicePoint,
            Route,
            RouteStop,
            NationalSociety,
        ):
            for signal in (post_save, post_delete):
                signal.connect(_counted_data_changed, sender=model, dispatch_uid=f"ind-{model}")


def _counted_data_changed(sender: Any, **kwargs: Any) -> None:
    from routecare.core import caching
    from routecare.indicators.rollups import CACHE_KIND

    caching.changed_with_transaction(CACHE_KIND)
