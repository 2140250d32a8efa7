from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "routecare.messaging"
    label = "messaging"
