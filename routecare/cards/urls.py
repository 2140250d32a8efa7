from django.urls import path

from routecare.cards import views

app_name = "cards"
urlpatterns = [
    path("cards/scan/", views.scan, name="scan"),
    path("cards/start-record/", views.start_record, name="start_record"),
    path("people/<uuid:person_id>/card/", views.card, name="card"),
    path("people/<uuid:person_id>/card/revoke/", views.revoke, name="revoke"),
    path("people/<uuid:person_id>/card.pdf", views.download, {"kind": "card-pdf"}, name="pdf"),
    path(
        "people/<uuid:person_id>/sticker.pdf",
        views.download,
        {"kind": "sticker-pdf"},
        name="sticker",
    ),
    path("people/<uuid:person_id>/card.png", views.download, {"kind": "png"}, name="png"),
    path("people/<uuid:person_id>/card.svg", views.download, {"kind": "svg"}, name="svg"),
]
