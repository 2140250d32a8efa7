from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "routecare.referrals"
    label = "referrals"
