"""The public directory in the formats map apps and referral systems read: GeoJSON, KML and
Open Referral HSDS 3.0. Public points only, never staff names or capacity numbers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree

from routecare.core.languages import language_name
from routecare.directory.hours import by_day
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.orgs.taxonomy import Service

# Stable ids for HSDS records RouteCare derives (schedules, languages, service at location).
HSDS_NAMESPACE = uuid.UUID("6f1b2c3e-5a4d-4e8b-9c7a-1d2e3f4a5b6c")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SERVICE_LABELS = {code: str(label) for code, label in Service.choices}


def _hours_text(point: ServicePoint) -> str:
    return "; ".join(f"{WEEKDAYS[day]} {', '.join(periods)}" for day, periods in by_day(point))


def _properties(point: ServicePoint, url: str) -> dict[str, Any]:
    return {
        "code": point.code,
        "name": point.name,
        "country": point.national_society.country_code,
        "organisation": point.national_society.name,
        "status": point.status,
        "services": list(point.services or []),
        "languages": list(point.languages or []),
        "opening_hours": _hours_text(point),
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
            _hours_text(point),
            " ".join(filter(None, [point.phone, point.whatsapp and f"WhatsApp {point.whatsapp}"])),
            urls[point.code],
        ]
        ElementTree.SubElement(placemark, "description").text = "\n".join(filter(None, lines))
        geometry = ElementTree.SubElement(placemark, "Point")
        ElementTree.SubElement(
            geometry, "coordinates"
        ).text = f"{float(point.longitude)},{float(point.latitude)},0"
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _id(*parts: object) -> str:
    return str(uuid.uuid5(HSDS_NAMESPACE, ":".join(str(part) for part in parts)))


def _location(point: ServicePoint, url: str) -> dict[str, Any]:
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
                "opens_at": period.split("–")[0],
                "closes_at": period.split("–")[1],
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


def hsds(points: Sequence[ServicePoint], urls: dict[str, str]) -> list[dict[str, Any]]:
    """HSDS 3.0 organizations (one per National Society) with their locations (the service
    points) and services (one per taxonomy service, at every point that offers it)."""
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
                "locations": [_location(point, urls[point.code]) for point in society_points],
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
