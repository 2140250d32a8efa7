from django.urls import path

from routecare.sync import views

app_name = "sync"
urlpatterns = [
    path("sync/nodes/", views.nodes_page, name="nodes"),
    path("sync/nodes/<uuid:node_id>/revoke/", views.revoke, name="revoke"),
    path("sync/conflicts/", views.conflicts_page, name="conflicts"),
    path("sync/conflicts/<uuid:conflict_id>/<str:choice>/", views.resolve, name="resolve"),
]
