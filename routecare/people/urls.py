from django.urls import path

from routecare.people import views

app_name = "people"
urlpatterns = [
    path("", views.home, name="home"),
    path("people/register/", views.register, name="register"),
    path("people/find/", views.find, name="find"),
    path("people/<uuid:person_id>/", views.detail, name="detail"),
    path(
        "people/<uuid:person_id>/encounters/new/", views.record_encounter, name="record_encounter"
    ),
    path("people/<uuid:person_id>/health/", views.edit_health, name="edit_health"),
    path("people/<uuid:person_id>/consents/", views.change_consent, name="change_consent"),
    path(
        "people/<uuid:person_id>/follow-ups/<uuid:follow_up_id>/done/",
        views.complete_follow_up,
        name="complete_follow_up",
    ),
]
