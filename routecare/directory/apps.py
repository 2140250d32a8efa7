from typing import Any

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "routecare.directory"
    label = "directory"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from routecare.orgs.models import NationalSociety, Network, Route, RouteStop, ServicePoint

        # What the public pages show: a change drops the cached pages (selectors.PUBLIC_PAGES).
        for model in (Network, NationalSociety, ServicePoint, Route, RouteStop):
            for signal in (post_save, post_delete):
                signal.connect(_directory_changed, sender=model, dispatch_uid=f"dir-{model}")


def _directory_changed(sender: Any, **kwargs: Any) -> None:
    from routecare.core import caching
    from routecare.directory.selectors import PUBLIC_PAGES

    caching.changed_with_transaction(PUBLIC_PAGES)
