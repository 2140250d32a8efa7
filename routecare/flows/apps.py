from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "routecare.flows"
    label = "flows"
