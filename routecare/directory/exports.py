"""The public directory in the formats map apps and referral systems read: GeoJSON, KML and
Open Referral HSDS 3.0. Public points only, never staff names or capacity numbers."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree

from routecare.core.languages import language_name
from routecare.directory.hours import by_day, osm_opening_hours, zone_of
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.orgs.taxonomy import Service

# Stable ids for HSDS records RouteCare derives (schedules, languages, service at location).
HSDS_NAMESPACE = uuid.UUID("6f1b2c3e-5a4d-4e8b-9c7a-1d2e3f4a5b6c")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SERVICE_LABELS = {code: str(label) for code, label in Service.choices}


def _properties(point: ServicePoint, url: str) -> dict[str, Any]:
    return {
        "code": point.code,
        "name": point.name,
        "country": point.national_society.country_code,
        "organisation": point.national_society.name,
        "status": point.status,
        "services": list(point.services or []),
        "languages": list(point.languages or []),
        # OpenStreetMap's syntax, which map apps and OSM tools read; "" when not known.
        "opening_hours": osm_opening_hours(point),
        "phone": point.phone,
        "whatsapp": point.whatsapp,
        "last_verified": point.last_verified.isoformat() if point.last_verified else None,
        "url": url,
    }


def geojson(points: Sequence[ServicePoint], urls: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": point.code,
                "geometry": {
                    "type": "Point",
                    "coordinates": [float(point.longitude), float(point.latitude)],
                },
                "properties": _properties(point, urls[point.code]),
            }
            for point in points
        ],
    }


def kml(points: Sequence[ServicePoint], urls: dict[str, str], title: str) -> bytes:
    root = ElementTree.Element("kml", xmlns="http://www.opengis.net/kml/2.2")
    document = ElementTree.SubElement(root, "Document")
    ElementTree.SubElement(document, "name").text = title
    for point in points:
        placemark = ElementTree.SubElement(document, "Placemark", id=point.code)
        ElementTree.SubElement(placemark, "name").text = point.name
        lines = [
            point.national_society.name,
            ", ".join(SERVICE_LABELS.get(code, code) for code in point.services or []),
            osm_opening_hours(point),
            " ".join(filter(None, [point.phone, point.whatsapp and f"WhatsApp {point.whatsapp}"])),
            urls[point.code],
        ]
        ElementTree.SubElement(placemark, "description").text = "\n".join(filter(None, lines))
        # Fields that GIS tools (GDAL's KML drivers, QGIS) read as attributes.
        extended = ElementTree.SubElement(placemark, "ExtendedData")
        for name, value in (("code", point.code), ("opening_hours", osm_opening_hours(point))):
            data = ElementTree.SubElement(extended, "Data", name=name)
            ElementTree.SubElement(data, "value").text = value
        geometry = ElementTree.SubElement(placemark, "Point")
        ElementTree.SubElement(
            geometry, "coordinates"
        ).text = f"{float(point.longitude)},{float(point.latitude)},0"
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _id(*parts: object) -> str:
    return str(uuid.uuid5(HSDS_NAMESPACE, ":".join(str(part) for part in parts)))


def utc_offset(point: ServicePoint, served: dt.date) -> dt.timedelta:
    """The point's offset from UTC on the date served (at noon: daylight saving included)."""
    noon = dt.datetime.combine(served, dt.time(12), tzinfo=zone_of(point))
    return noon.utcoffset() or dt.timedelta(0)


def hsds_time(clock: str, offset: dt.timedelta) -> str:
    """ "08:00" at UTC-6 as "08:00:00-06:00", at UTC as "08:00:00Z": HSDS asks opens_at and
    closes_at to carry their time zone (an ISO 8601 / RFC 3339 time)."""
    if not offset:
        return f"{clock}:00Z"
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{clock}:00{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _location(point: ServicePoint, url: str, served: dt.date) -> dict[str, Any]:
    offset = utc_offset(point, served)
    location: dict[str, Any] = {
        "id": str(point.pk),
        "location_type": "physical",
        "organization_id": str(point.national_society_id),
        "name": point.name,
        "description": f"{point.get_kind_display()} ({point.get_status_display()})",
        "latitude": float(point.latitude),
        "longitude": float(point.longitude),
        "external_identifier": point.code,
        "external_identifier_type": "RouteCare service point code",
        "url": url,
        "languages": [
            {
                "id": _id(point.pk, "language", code),
                "location_id": str(point.pk),
                "code": code,
                "name": language_name(code),
            }
            for code in point.languages or []
        ],
        "schedules": [
            {
                "id": _id(point.pk, "schedule", day, period),
                "location_id": str(point.pk),
                "freq": "WEEKLY",
                "wkst": "MO",
                "byday": WEEKDAYS[day],
                "opens_at": hsds_time(period.split("–")[0], offset),
                "closes_at": hsds_time(period.split("–")[1], offset),
                # The same offset in hours, for consumers that read this field.
                "timezone": offset.total_seconds() / 3600,
            }
            for day, periods in by_day(point)
            for period in periods
        ],
        "phones": [
            {
                "id": _id(point.pk, "phone", kind),
                "location_id": str(point.pk),
                "number": number,
                "type": kind,
            }
            for kind, number in (("voice", point.phone), ("text", point.whatsapp))
            if number
        ],
    }
    return location


def hsds(
    points: Sequence[ServicePoint], urls: dict[str, str], served: dt.date | None = None
) -> list[dict[str, Any]]:
    """HSDS 3.0 organizations (one per National Society) with their locations (the service
    points) and services (one per taxonomy service, at every point that offers it). Times
    carry each point's UTC offset on ``served`` (the date of the answer, today by default)."""
    served = served or dt.datetime.now(dt.UTC).date()
    societies: dict[uuid.UUID, NationalSociety] = {}
    by_society: dict[uuid.UUID, list[ServicePoint]] = {}
    for point in points:
        societies[point.national_society_id] = point.national_society
        by_society.setdefault(point.national_society_id, []).append(point)
    organizations = []
    for society_id, society_points in by_society.items():
        society = societies[society_id]
        offered = [
            code for code in Service.values if any(code in p.services for p in society_points)
        ]
        organizations.append(
            {
                "id": str(society.pk),
                "name": society.name,
                "description": (
                    f"The National Red Cross or Red Crescent Society of "
                    f"{society.country_code}, part of the International Red Cross and Red "
                    "Crescent Movement."
                ),
                "locations": [
                    _location(point, urls[point.code], served) for point in society_points
                ],
                "services": [
                    {
                        "id": _id(society.pk, "service", code),
                        "organization_id": str(society.pk),
                        "name": SERVICE_LABELS[code],
                        "status": "active",
                        "description": f"{SERVICE_LABELS[code]}, free of charge.",
                        "fees_description": "Free of charge.",
                        "service_at_locations": [
                            {
                                "id": _id(point.pk, "service-at-location", code),
                                "service_id": _id(society.pk, "service", code),
                                "location_id": str(point.pk),
                                "description": point.get_status_display(),
                            }
                            for point in society_points
                            if code in point.services
                        ],
                    }
                    for code in offered
                ],
            }
        )
    return organizations
