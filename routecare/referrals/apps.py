from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "routecare.referrals"
    label = "referrals"

    def ready(self) -> None:
        from routecare.referrals import data_checks

        data_checks.register()
