from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "routecare.core"
    label = "core"
