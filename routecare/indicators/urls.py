from django.urls import path

from routecare.indicators import views

app_name = "indicators"
urlpatterns = [
    path("indicators/", views.dashboard, name="dashboard"),
    path("indicators/export/<slug:table>.<slug:extension>", views.export, name="export"),
    path("indicators/trainings/", views.trainings, name="trainings"),
    path("indicators/report.pdf", views.monthly_report, name="report"),
]
