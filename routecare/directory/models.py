"""What the public directory reads instead of drawing each point afresh: one entry per service
point and one leg per route stop, precomputed when a point, its society, a route or a stop
changes (``precomputed``), and checked against their source rows whenever they are read."""

from __future__ import annotations

from django.db import models

from routecare.orgs.models import RouteStop, ServicePoint


class PublicEntry(models.Model):
    """A service point as the public directory shows it, but for what depends on the clock."""

    service_point = models.OneToOneField(
        ServicePoint, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Of the source rows it was computed from (the point's and its society's columns; on
    # PostgreSQL their row versions, xmin and ctid) and of the entry's format: an entry whose
    # digest differs is recomputed when read.
    digest = models.CharField(max_length=32)
    # ",water,medicines,": the service filter reads it without parsing JSON.
    services = models.TextField()
    # hours.WeeklyHours as JSON: {"zone": …, "periods": [[day, opens, closes]], "week": […]}.
    hours = models.TextField()
    # The public API's object of the point without the "open now" fields and closing brace.
    api = models.TextField()
    # entries.PublicPoint as JSON: what the public pages show of it.
    page = models.TextField()

    def __str__(self) -> str:
        return f"public entry of {self.service_point_id}"


class RouteLeg(models.Model):
    """A route stop's kilometres from the stop before it, as the crow flies between the two
    points ("next along my way" adds them up with the stops' hours)."""

    route_stop = models.OneToOneField(
        RouteStop, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # What it was computed from: the stop's hours and both points' coordinates (on PostgreSQL
    # the versions, xmin and ctid, of the stop's row and both points' rows); a leg whose
    # source differs from its stop's is recomputed when read.
    source = models.CharField(max_length=120)
    km_from_previous = models.FloatField()

    def __str__(self) -> str:
        return f"leg of stop {self.route_stop_id}"
