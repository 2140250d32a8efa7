import datetime as dt

from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "routecare.sync"
    label = "sync"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from routecare.core import periodic
        from routecare.sync import capture
        from routecare.sync.client import sync_if_enrolled

        # Each app declares what it syncs in its own ``sync.py``; this app knows none by name.
        autodiscover_modules("sync")
        capture.connect()
        periodic.register("sync.node-sync", dt.timedelta(minutes=1), sync_if_enrolled)
