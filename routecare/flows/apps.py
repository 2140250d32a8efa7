import datetime as dt

from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "routecare.flows"
    label = "flows"

    def ready(self) -> None:
        from routecare.core import periodic
        from routecare.flows.stock import connect_signals
        from routecare.flows.triggers import evaluate_all

        connect_signals()
        periodic.register("flows.evaluate-triggers", dt.timedelta(minutes=15), evaluate_all)
