import datetime as dt

from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "routecare.flows"
    label = "flows"

    def ready(self) -> None:
        from routecare.core import periodic
        from routecare.flows.stock_use import connect_signals, take_all_waiting
        from routecare.flows.triggers import evaluate_all

        connect_signals()
        periodic.register("flows.evaluate-triggers", dt.timedelta(minutes=15), evaluate_all)
        # The stock of recorded encounters (flows.stock_use): at every tick of `routecare periodic`,
        # so the levels shown lag by seconds.
        periodic.register("flows.take-stock", dt.timedelta(seconds=1), take_all_waiting)
