import datetime as dt

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "routecare.referrals"
    label = "referrals"

    def ready(self) -> None:
        from routecare.core import periodic
        from routecare.referrals.actions import expire_overdue

        periodic.register(
            "referrals.expire-overdue",
            dt.timedelta(hours=1),
            lambda: f"{expire_overdue()} referrals expired",
        )
        from routecare.referrals import data_checks

        data_checks.register()
