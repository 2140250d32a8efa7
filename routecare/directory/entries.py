"""A service point as the public pages show it (``PublicPoint``): built from the point when it
changes, kept as JSON in its ``PublicEntry`` (``precomputed``), read back for each page.

Everything in it is worked out by the same code as the point itself would answer (its
``public_text``, its society's ``public_name``, ``hours.by_day``), so that the pages read the
same whether they draw from the entry or from the point."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from routecare.directory.hours import WeeklyHours, by_day, periods_of, week_of
from routecare.orgs.models import PUBLIC_LANGUAGES, ServicePoint

TEXT_FIELDS = ("name", "address", "directions")


@dataclass(frozen=True)
class PublicPoint:
    pk: uuid.UUID
    code: str
    country: str
    status: str
    # name, address and directions: the defaults, and in the languages where they differ.
    texts: tuple[str, str, str]
    translated: dict[str, tuple[str, str, str]]
    society_name: str
    society_names: dict[str, str]
    services: list[str]
    languages: list[str]
    days: list[tuple[int, list[str]]]  # hours.by_day
    phone: str
    whatsapp: str
    latitude: Decimal
    longitude: Decimal
    last_verified: dt.date | None
    hours: WeeklyHours

    @property
    def name(self) -> str:
        return self.texts[0]

    def public_text(self, field: str, language: str) -> str:
        """As ``ServicePoint.public_text``."""
        return self.translated.get(language, self.texts)[TEXT_FIELDS.index(field)]

    def public_society_name(self, language: str) -> str:
        """As ``NationalSociety.public_name``."""
        return self.society_names.get(language, self.society_name)

    @classmethod
    def of(cls, point: ServicePoint) -> PublicPoint:
        society = point.national_society
        languages = {*PUBLIC_LANGUAGES, *_keys(point.translations), *_keys(society.names)}
        # "" is no language: the default words.
        texts = _words(point, "")
        translated = {
            language: words
            for language in sorted(languages)
            if (words := _words(point, language)) != texts
        }
        society_name = society.public_name("")
        periods = periods_of(point.opening_hours)
        return cls(
            pk=point.pk,
            code=point.code,
            country=society.country_code,
            status=point.status,
            texts=texts,
            translated=translated,
            society_name=society_name,
            society_names={
                language: name
                for language in sorted(languages)
                if (name := society.public_name(language)) != society_name
            },
            services=list(point.services or []),
            languages=list(point.languages or []),
            days=by_day(point),
            phone=point.phone,
            whatsapp=point.whatsapp,
            latitude=point.latitude,
            longitude=point.longitude,
            last_verified=point.last_verified,
            hours=WeeklyHours(society.time_zone, periods, week_of(periods)),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "pk": self.pk.hex,
                "code": self.code,
                "country": self.country,
                "status": self.status,
                "texts": self.texts,
                "translated": self.translated,
                "society_name": self.society_name,
                "society_names": self.society_names,
                "services": self.services,
                "languages": self.languages,
                "days": self.days,
                "phone": self.phone,
                "whatsapp": self.whatsapp,
                "latitude": str(self.latitude),
                "longitude": str(self.longitude),
                "last_verified": self.last_verified.isoformat() if self.last_verified else None,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, page: str, hours: str) -> PublicPoint:
        values = json.loads(page)
        verified = values["last_verified"]
        return cls(
            pk=uuid.UUID(values["pk"]),
            code=values["code"],
            country=values["country"],
            status=values["status"],
            texts=tuple(values["texts"]),
            translated={k: tuple(v) for k, v in values["translated"].items()},
            society_name=values["society_name"],
            society_names=values["society_names"],
            services=values["services"],
            languages=values["languages"],
            days=[(day, periods) for day, periods in values["days"]],
            phone=values["phone"],
            whatsapp=values["whatsapp"],
            latitude=Decimal(values["latitude"]),
            longitude=Decimal(values["longitude"]),
            last_verified=dt.date.fromisoformat(verified) if verified else None,
            hours=hours_from_json(hours),
        )


def _keys(value: object) -> list[str]:
    return [key for key in value if isinstance(key, str)] if isinstance(value, dict) else []


def _words(point: ServicePoint, language: str) -> tuple[str, str, str]:
    name, address, directions = (point.public_text(field, language) for field in TEXT_FIELDS)
    return name, address, directions


def hours_to_json(hours: WeeklyHours) -> str:
    return json.dumps(
        {"zone": hours.zone, "periods": hours.periods, "week": hours.week},
        separators=(",", ":"),
    )


@lru_cache(maxsize=1024)
def hours_from_json(text: str) -> WeeklyHours:
    """Points share a few sets of hours: each is read once (a WeeklyHours never changes)."""
    values: dict[str, Any] = json.loads(text)
    periods = tuple((day, opens, closes) for day, opens, closes in values["periods"])
    week = tuple(tuple((start, end) for start, end in window) for window in values["week"])
    return WeeklyHours(values["zone"], periods, week)
