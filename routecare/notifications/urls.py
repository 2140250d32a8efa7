from django.urls import path

from routecare.notifications import views

app_name = "notifications"
urlpatterns = [
    path("notifications/", views.centre, name="centre"),
    path("notifications/read-all/", views.read_all, name="read_all"),
    path("notifications/<uuid:notification_id>/", views.open_notification, name="open"),
]
