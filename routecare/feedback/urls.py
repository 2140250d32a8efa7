from django.urls import path

from routecare.feedback.views import faq, public, staff

app_name = "feedback"
urlpatterns = [
    path("feedback/", staff.inbox, name="inbox"),
    path("feedback/safeguarding/", staff.safeguarding, name="safeguarding"),
    path("feedback/record/", staff.record, name="record"),
    path("feedback/receipts/", staff.receipts, name="receipts"),
    path("feedback/trends/", staff.trends, name="trends"),
    path("feedback/<uuid:feedback_id>/", staff.detail, name="detail"),
    path(
        "feedback/<uuid:feedback_id>/<str:what>/",
        staff.change,
        name="change",
    ),
    path("faq/", faq.faq, name="faq"),
    path("faq/new/", faq.edit, name="faq_new"),
    path("faq/<uuid:entry_id>/", faq.entry, name="faq_entry"),
    path("faq/<uuid:entry_id>/edit/", faq.edit, name="faq_edit"),
    path("faq/<uuid:entry_id>/<str:what>/", faq.review, name="faq_review"),
    path("<str:lang>/feedback/", public.give_feedback, name="public_form"),
    path("<str:lang>/feedback/answer/", public.read_answer, name="public_answer"),
    path("<str:lang>/faq/", public.public_faq, name="public_faq"),
]
