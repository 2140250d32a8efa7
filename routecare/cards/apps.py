from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "routecare.cards"
    label = "cards"
