from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "routecare.indicators"
    label = "indicators"

    def ready(self) -> None:
        from routecare.indicators.signals import connect

        connect()
