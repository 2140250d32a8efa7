from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "routecare.orgs"
    label = "orgs"
