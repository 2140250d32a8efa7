"""A printable booklet of a country's service points, in one language (WeasyPrint), with a
simple map drawn from the points' coordinates and the routes through them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.template.loader import render_to_string
from weasyprint import HTML

from routecare.orgs.models import RouteStop, ServicePoint

MAP_WIDTH, MAP_HEIGHT, MARGIN = 170.0, 110.0, 8.0  # millimetres


def simple_map(points: Sequence[ServicePoint]) -> dict[str, Any]:
    """Numbered dots for the points and lines for the routes through them, scaled to fit."""
    if not points:
        return {"dots": [], "lines": [], "width": MAP_WIDTH, "height": MAP_HEIGHT}
    lats = [float(p.latitude) for p in points]
    lons = [float(p.longitude) for p in points]
    span_lat = max(max(lats) - min(lats), 0.5)
    span_lon = max(max(lons) - min(lons), 0.5)
    scale = min((MAP_WIDTH - 2 * MARGIN) / span_lon, (MAP_HEIGHT - 2 * MARGIN) / span_lat)

    def place(point: ServicePoint) -> tuple[float, float]:
        x = MARGIN + (float(point.longitude) - min(lons)) * scale
        y = MAP_HEIGHT - MARGIN - (float(point.latitude) - min(lats)) * scale
        return round(x, 2), round(y, 2)

    ids = {point.pk for point in points}
    lines = []
    stops = RouteStop.objects.filter(service_point__in=ids).select_related("service_point")
    by_route: dict[Any, list[RouteStop]] = {}
    for stop in stops.order_by("route_id", "position"):
        by_route.setdefault(stop.route_id, []).append(stop)
    for route_stops in by_route.values():
        lines.append(
            " ".join(f"{x},{y}" for x, y in map(place, (s.service_point for s in route_stops)))
        )
    dots = [
        {"number": number, "x": place(point)[0], "y": place(point)[1]}
        for number, point in enumerate(points, start=1)
    ]
    return {"dots": dots, "lines": lines, "width": MAP_WIDTH, "height": MAP_HEIGHT}


def booklet_pdf(context: dict[str, Any]) -> bytes:
    html = render_to_string("directory/booklet.html", context)
    return bytes(HTML(string=html).write_pdf())
