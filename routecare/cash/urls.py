from django.urls import path

from routecare.cash import views

app_name = "cash"
urlpatterns = [
    path("cash/", views.rounds, name="rounds"),
    path("cash/new/", views.new_round, name="new_round"),
    path("cash/<uuid:round_id>/", views.round_page, name="round"),
    path("cash/<uuid:round_id>/enrol/", views.enrol_by_code, name="enrol"),
    path(
        "cash/<uuid:round_id>/people/<uuid:person_id>/enrol/",
        views.enrol_person,
        name="enrol_person",
    ),
    path("cash/<uuid:round_id>/close/", views.close, name="close"),
    path("cash/<uuid:round_id>/delete/", views.delete, name="delete"),
    path("cash/people/<uuid:person_id>/", views.person_rounds, name="person"),
    path("cash/enrolments/<uuid:enrolment_id>/", views.enrolment_page, name="enrolment"),
    path("cash/enrolments/<uuid:enrolment_id>/check/", views.check, name="check"),
    path("cash/enrolments/<uuid:enrolment_id>/pay/", views.pay, name="pay"),
    path("cash/enrolments/<uuid:enrolment_id>/review/", views.review, name="review"),
]
