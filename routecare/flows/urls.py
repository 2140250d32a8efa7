from django.urls import path

from routecare.flows.views import counts, route, stock, triggers

app_name = "flows"
urlpatterns = [
    path("flows/counts/", counts.counts, name="counts"),
    path("flows/alerts/", counts.alerts, name="alerts"),
    path("flows/alerts/new/", counts.send_alert, name="send_alert"),
    path("flows/alerts/<uuid:alert_id>/acknowledge/", counts.acknowledge, name="acknowledge"),
    path("flows/routes/", route.routes, name="routes"),
    path("flows/routes/<slug:slug>/", route.route, name="route"),
    path("flows/stock/", stock.stock_page, name="stock"),
    path("flows/stock/<uuid:item_id>/count/", stock.count_item, name="count_item"),
    path("flows/transfers/", stock.transfers, name="transfers"),
    path(
        "flows/transfers/<uuid:transfer_id>/<slug:status>/",
        stock.advance_transfer,
        name="advance_transfer",
    ),
    path("flows/triggers/", triggers.triggers_page, name="triggers"),
    path(
        "flows/trigger-events/<uuid:event_id>/acknowledge/",
        triggers.acknowledge_event,
        name="acknowledge_event",
    ),
]
