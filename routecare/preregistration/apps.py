import datetime as dt

from django.apps import AppConfig


class PreRegistrationConfig(AppConfig):
    name = "routecare.preregistration"
    label = "preregistration"

    def ready(self) -> None:
        from routecare.core import periodic
        from routecare.preregistration import actions

        periodic.register("preregistration.purge", dt.timedelta(hours=1), actions.purge_expired)
