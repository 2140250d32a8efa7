import datetime as dt

from django.apps import AppConfig


class CashConfig(AppConfig):
    name = "routecare.cash"
    label = "cash"

    def ready(self) -> None:
        from routecare.cash import actions
        from routecare.core import periodic

        periodic.register("cash.close_ended", dt.timedelta(days=1), actions.close_ended_rounds)
