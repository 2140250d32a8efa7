from django.contrib import admin

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
    list_display = ["user", "role", "national_society", "network"]
    list_filter = ["role", "national_society"]
    filter_horizontal = ["service_points"]
