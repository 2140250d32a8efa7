import datetime as dt

from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "routecare.sync"
    label = "sync"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from routecare.core import periodic
        from routecare.sync import capture, signals, tls
        from routecare.sync.client import sync_if_enrolled

        # Each app declares what it syncs in its own ``sync.py``; this app knows none by name.
        autodiscover_modules("sync")
        capture.connect()
        # The node's HTTPS certificate, signed by its society's authority at enrolment.
        signals.node_enrolling.connect(tls.issue_on_enrolment, dispatch_uid="sync-tls")
        signals.node_revoked.connect(tls.revoke_on_revocation, dispatch_uid="sync-tls")
        signals.enrolment_preparing.connect(tls.prepare_request, dispatch_uid="sync-tls")
        signals.enrolment_completed.connect(tls.store_certificate, dispatch_uid="sync-tls")
        periodic.register("sync.node-sync", dt.timedelta(minutes=1), sync_if_enrolled)
