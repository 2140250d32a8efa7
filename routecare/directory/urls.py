from django.urls import path

from routecare.directory import offline, views

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
