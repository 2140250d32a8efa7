from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from routecare.audit.actions import record_user_event
from routecare.orgs.models import (
    Membership,
    NationalSociety,
    Network,
    Route,
    RouteStop,
    ServicePoint,
)


@admin.register(Network)
class NetworkAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "slug"]


@admin.register(NationalSociety)
class NationalSocietyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "country_code", "network"]
    list_filter = ["network"]


@admin.register(ServicePoint)
class ServicePointAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "code", "national_society", "kind", "status", "visibility"]
    list_filter = ["national_society", "kind", "status", "visibility"]
    search_fields = ["name", "code"]


class RouteStopInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RouteStop
    extra = 1
    autocomplete_fields = ["service_point"]


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "network"]
    inlines = [RouteStopInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Roles decide who reads personal records, so every change here is in the audit trail."""

    list_display = ["user", "role", "national_society", "network"]
    list_filter = ["role", "national_society"]
    filter_horizontal = ["service_points"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record_user_event(
                request.user,  # type: ignore[arg-type]
                "change" if change else "create",
                "membership",
                obj.pk,
                fields=form.changed_data,
                detail=f"{obj.user.get_username()}: {obj.role} (admin)",
                via="admin",
            )

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        with transaction.atomic():
            record_user_event(
                request.user,  # type: ignore[arg-type]
                "change",
                "membership",
                obj.pk,
                detail=f"{obj.user.get_username()}: removed (admin)",
                via="admin",
            )
            super().delete_model(request, obj)
