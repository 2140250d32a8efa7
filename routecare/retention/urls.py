from django.urls import path

from routecare.retention import views

app_name = "retention"
urlpatterns = [
    path("retention/", views.policy, name="policy"),
    path("retention/requests/", views.request_page, name="requests"),
    path("retention/requests/erase/", views.erase, name="erase"),
]
