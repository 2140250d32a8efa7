from django.urls import path

from routecare.indicators import views
from routecare.indicators.kobo import views as kobo_views

app_name = "indicators"
urlpatterns = [
    path("indicators/", views.dashboard, name="dashboard"),
    path("indicators/export/<slug:table>.<slug:extension>", views.export, name="export"),
    path("indicators/trainings/", views.trainings, name="trainings"),
    path("indicators/report.pdf", views.monthly_report, name="report"),
    path("indicators/kobo/", kobo_views.connections, name="kobo"),
    path("indicators/kobo/<uuid:connection_id>/pull/", kobo_views.pull, name="kobo_pull"),
    path("indicators/kobo/<uuid:connection_id>/upload/", kobo_views.upload, name="kobo_upload"),
]
