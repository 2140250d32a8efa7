from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "routecare.directory"
    label = "directory"

    def ready(self) -> None:
        from routecare.core import caching
        from routecare.directory.selectors import PUBLIC_PAGES, STAFF_POINTS
        from routecare.orgs.models import NationalSociety, Network, Route, RouteStop, ServicePoint

        # What the public pages show.
        caching.drop_on_change(
            PUBLIC_PAGES, Network, NationalSociety, ServicePoint, Route, RouteStop
        )
        # A card's issuing point, as staff may see it.
        caching.drop_on_change(STAFF_POINTS, Network, NationalSociety, ServicePoint)
