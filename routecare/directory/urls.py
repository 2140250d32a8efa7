from django.urls import path

from routecare.directory import hsds_api, offline, views

app_name = "directory"
urlpatterns = [
    path("directory/", views.staff_list, name="staff_list"),
    path("directory/points.geojson", views.staff_geojson, name="staff_geojson"),
    path("directory/<uuid:service_point_id>/", views.staff_detail, name="staff_detail"),
    path("directory/<uuid:service_point_id>/status/", views.update_status, name="update_status"),
    path("services.geojson", views.export_geojson, name="geojson"),
    path("services-sw.js", views.service_worker, name="service_worker"),
    path("services.kml", views.export_kml, name="kml"),
    path("services.hsds.json", views.export_hsds, name="hsds"),
    path("<str:lang>/services/", views.public_list, name="public_list"),
    path("<str:lang>/offline/", offline.public_offline, name="public_offline"),
    path("<str:lang>/services/booklet.pdf", views.public_booklet, name="booklet"),
    path("<str:lang>/services/<slug:code>/", views.public_detail, name="public_detail"),
]

# Open Referral HSDS 3.0 as an API (docs/hsds.md).
urlpatterns += [
    path("hsds/", hsds_api.about, name="hsds_about"),
    path("hsds/services", hsds_api.services, name="hsds_services"),
    path("hsds/services/<str:hsds_id>", hsds_api.service, name="hsds_service"),
    path("hsds/organizations", hsds_api.organizations, name="hsds_organizations"),
    path("hsds/organizations/<str:hsds_id>", hsds_api.organization, name="hsds_organization"),
    path("hsds/service_at_locations", hsds_api.service_at_locations, name="hsds_sals"),
    path(
        "hsds/service_at_locations/<str:hsds_id>",
        hsds_api.service_at_location,
        name="hsds_sal",
    ),
]
