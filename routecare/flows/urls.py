from django.urls import path

from routecare.flows import views

app_name = "flows"
urlpatterns = [
    path("flows/counts/", views.counts, name="counts"),
    path("flows/alerts/", views.alerts, name="alerts"),
    path("flows/alerts/new/", views.send_alert, name="send_alert"),
    path("flows/alerts/<uuid:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
]
