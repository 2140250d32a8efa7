from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "routecare.feedback"
    label = "feedback"

    def ready(self) -> None:
        from routecare.feedback import data_checks

        data_checks.register()
