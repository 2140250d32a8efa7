from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "routecare.indicators"
    label = "indicators"
