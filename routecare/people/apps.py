from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "routecare.people"
    label = "people"
