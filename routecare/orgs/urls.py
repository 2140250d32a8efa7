from django.urls import path

from routecare.orgs import views

app_name = "orgs"
urlpatterns = [
    path("service-points/", views.service_point_list, name="service_points"),
    path("service-points/new/", views.service_point_edit, name="service_point_new"),
    path(
        "service-points/<uuid:service_point_id>/",
        views.service_point_edit,
        name="service_point_edit",
    ),
    path("staff/", views.staff_list, name="staff"),
    path("staff/new/", views.staff_create, name="staff_new"),
    path("staff/<int:membership_id>/", views.staff_edit, name="staff_edit"),
]
