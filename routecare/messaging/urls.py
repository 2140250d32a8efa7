from django.urls import path

from routecare.messaging.views import chat, inbox, webhooks

app_name = "messaging"

urlpatterns = [
    path("messaging/whatsapp/<slug:slug>/", webhooks.whatsapp_webhook, name="whatsapp_webhook"),
    path("messaging/telegram/<slug:slug>/", webhooks.telegram_webhook, name="telegram_webhook"),
    path("helpdesk/", inbox.inbox, name="inbox"),
    path("helpdesk/<uuid:conversation_id>/", inbox.conversation, name="conversation"),
    path("helpdesk/media/<uuid:message_id>/", inbox.kept_media, name="media"),
    path("helpdesk/<uuid:conversation_id>/<str:what>/", inbox.change, name="change"),
    path("<str:lang>/chat/", chat.chat, name="chat"),
]
