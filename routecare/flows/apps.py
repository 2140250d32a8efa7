from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "routecare.flows"
    label = "flows"

    def ready(self) -> None:
        from routecare.flows.stock import connect_signals

        connect_signals()
