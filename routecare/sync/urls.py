from django.urls import path

from routecare.sync import views

app_name = "sync"
urlpatterns = [
    path("sync/nodes/", views.nodes_page, name="nodes"),
    path("sync/nodes/ca.crt", views.authority_download, name="authority"),
    path("sync/nodes/<uuid:node_id>/revoke/", views.revoke, name="revoke"),
    path("sync/conflicts/", views.conflicts_page, name="conflicts"),
    path("sync/conflicts/<uuid:conflict_id>/<str:choice>/", views.resolve, name="resolve"),
]

# The node page answers only on a field node: on a server it is 404 (node_views._own_node).
from routecare.sync.node_views import node_urlpatterns  # noqa: E402 - kept with its use

urlpatterns += node_urlpatterns()
