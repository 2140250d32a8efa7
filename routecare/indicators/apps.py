import datetime as dt

from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "routecare.indicators"
    label = "indicators"

    def ready(self) -> None:
        from routecare.core import caching, periodic
        from routecare.indicators import rollups
        from routecare.indicators.kobo.importer import pull_all
        from routecare.indicators.models import Training, TrainingAttendance
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
        periodic.register("indicators.kobo-pull", dt.timedelta(minutes=15), pull_all)
