from django.urls import path

from routecare.referrals import views

app_name = "referrals"
urlpatterns = [
    path("referrals/", views.inbox, name="inbox"),
    path("referrals/<uuid:referral_id>/", views.detail, name="detail"),
    path("referrals/<uuid:referral_id>/respond/", views.respond, name="respond"),
    path("referrals/<uuid:referral_id>/slip.pdf", views.slip, name="slip"),
    path("partner/referrals/<str:token>/", views.partner_page, name="partner"),
    path("people/<uuid:person_id>/referrals/new/", views.send, name="send"),
]
