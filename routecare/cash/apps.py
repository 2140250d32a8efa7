from django.apps import AppConfig


class CashConfig(AppConfig):
    name = "routecare.cash"
    label = "cash"
