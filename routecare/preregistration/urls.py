from django.urls import path

from routecare.preregistration import views

app_name = "preregistration"
urlpatterns = [
    path("preregistration/", views.open_code, name="open"),
    path("preregistration/confirm/", views.confirm, name="confirm"),
    path("<str:lang>/register/", views.register, name="register"),
]
