from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "routecare.people"
    label = "people"

    def ready(self) -> None:
        from routecare.people import data_checks

        data_checks.register()
