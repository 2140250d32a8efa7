import datetime as dt

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "routecare.retention"
    label = "retention"

    def ready(self) -> None:
        from routecare.core import periodic
        from routecare.retention.actions import purge_all

        periodic.register("retention.purge", dt.timedelta(days=1), purge_all)
