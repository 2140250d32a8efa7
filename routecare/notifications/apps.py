from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "routecare.notifications"
    label = "notifications"
