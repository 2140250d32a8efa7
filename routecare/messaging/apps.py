import datetime as dt

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "routecare.messaging"
    label = "messaging"

    def ready(self) -> None:
        from routecare.core import periodic
        from routecare.messaging import retention, updates

        periodic.register("messaging.purge", dt.timedelta(hours=1), retention.purge)
        periodic.register("messaging.updates", dt.timedelta(minutes=10), updates.send_updates)
