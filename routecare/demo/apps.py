from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "routecare.demo"
    label = "demo"
