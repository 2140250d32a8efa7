from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "routecare.feedback"
    label = "feedback"
