from django.urls import path

from routecare.messaging import views

app_name = "messaging"

urlpatterns = [
    path("messaging/whatsapp/<slug:slug>/", views.whatsapp_webhook, name="whatsapp_webhook"),
    path("messaging/telegram/<slug:slug>/", views.telegram_webhook, name="telegram_webhook"),
]
