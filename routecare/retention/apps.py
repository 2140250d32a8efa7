from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "routecare.retention"
    label = "retention"
