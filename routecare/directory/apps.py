from typing import Any

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "routecare.directory"
    label = "directory"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_migrate, post_save

        from routecare.core import caching
        from routecare.directory import precomputed
        from routecare.directory.selectors import PUBLIC_PAGES, STAFF_POINTS
        from routecare.orgs.models import NationalSociety, Network, Route, RouteStop, ServicePoint

        # What the public pages show.
        caching.drop_on_change(
            PUBLIC_PAGES, Network, NationalSociety, ServicePoint, Route, RouteStop
        )
        # A card's issuing point, as staff may see it.
        caching.drop_on_change(STAFF_POINTS, Network, NationalSociety, ServicePoint)

        # The precomputed entries and legs, refreshed in the transaction of the change (every
        # save through the ORM: actions, admin, imports, the demo loader, the sync's rows).
        def point_saved(sender: Any, instance: ServicePoint, **kwargs: Any) -> None:
            precomputed.refresh_point(instance.pk)
            precomputed.refresh_legs(
                RouteStop.objects.filter(service_point_id=instance.pk).values_list(
                    "route_id", flat=True
                )
            )

        def society_saved(sender: Any, instance: NationalSociety, **kwargs: Any) -> None:
            precomputed.refresh_society(instance.pk)

        def stop_changed(sender: Any, instance: RouteStop, **kwargs: Any) -> None:
            precomputed.refresh_legs([instance.route_id])

        def migrated(**kwargs: Any) -> None:
            # Points made before the entries existed, or by a path that sends no signal.
            precomputed.refresh_all()

        uid = "directory-precomputed"
        post_save.connect(point_saved, sender=ServicePoint, weak=False, dispatch_uid=uid)
        post_save.connect(society_saved, sender=NationalSociety, weak=False, dispatch_uid=uid)
        post_save.connect(stop_changed, sender=RouteStop, weak=False, dispatch_uid=uid)
        post_delete.connect(stop_changed, sender=RouteStop, weak=False, dispatch_uid=uid)
        post_migrate.connect(migrated, sender=self, weak=False, dispatch_uid=uid)
