import datetime as dt

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "routecare.core"
    label = "core"

    def ready(self) -> None:
        from routecare.core import periodic
        from routecare.core.ratelimit import forget_passed

        periodic.register(
            "core.forget-rate-windows",
            dt.timedelta(minutes=15),
            lambda: f"{forget_passed()} rate-limit windows deleted",
        )
