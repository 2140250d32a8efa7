"""The care summary a card carries: its JSON form (API, CLI, test vectors) and its compact CBOR
record with small integer keys (docs/card-format.md lists every key and code)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import cbor2
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from routecare.orgs.taxonomy import AgeBand, Service, Sex, TriageColour, Urgency
from routecare.people import shortcode
from routecare.people.models import ConsentPurpose

EPOCH = dt.date(1970, 1, 1)

# Stable codes: never renumber; append new ones at the end.
SERVICE_CODES: dict[str, int] = {code: n for n, code in enumerate(Service.values, start=1)}
SEX_CODES = {Sex.FEMALE: 0, Sex.MALE: 1, Sex.OTHER: 2, Sex.UNDISCLOSED: 3}
AGE_BAND_CODES = {
    AgeBand.AGE_0_4: 0,
    AgeBand.AGE_5_11: 1,
    AgeBand.AGE_12_17: 2,
    AgeBand.AGE_18_59: 3,
    AgeBand.AGE_60_PLUS: 4,
}
TRIAGE_CODES = {TriageColour.GREEN: 1, TriageColour.YELLOW: 2, TriageColour.RED: 3}
URGENCY_CODES = {Urgency.ROUTINE: 0, Urgency.PRIORITY: 1, Urgency.EMERGENCY: 2}
CONSENT_BITS = {
    ConsentPurpose.CARE: 1,
    ConsentPurpose.SHARE_NETWORK: 2,
    ConsentPurpose.SHARE_PARTNERS: 4,
    ConsentPurpose.MESSAGING: 8,
}

# Record keys.
K_SHORT_CODE = 1
K_SERIAL = 2
K_ISSUED_AT = 3
K_ISSUED_AT_POINT = 4
K_CONSENTS = 5
K_SEX = 6
K_AGE_BAND = 7
K_BIRTH_YEAR = 8
K_LANGUAGES = 9
K_ALLERGIES = 10
K_CONDITIONS = 11
K_MEDICINES = 12
K_PREGNANCY = 13
K_CHILD_GROWTH = 14
K_VACCINATIONS = 15
K_TRIAGE = 16
K_ENCOUNTERS = 17
K_FOLLOW_UPS = 18
K_DROPPED = 19

# Lists whose items can be dropped to make a card fit, by their record key.
LIST_KEYS = {
    "languages": K_LANGUAGES,
    "allergies": K_ALLERGIES,
    "conditions": K_CONDITIONS,
    "medicines": K_MEDICINES,
    "vaccinations": K_VACCINATIONS,
    "encounters": K_ENCOUNTERS,
    "follow_ups": K_FOLLOW_UPS,
    "child_growth": K_CHILD_GROWTH,
    "pregnancy": K_PREGNANCY,
}
# The part a partner organisation may read.
HEALTH_FIELDS = (
    "sex",
    "age_band",
    "birth_year",
    "languages",
    "allergies",
    "conditions",
    "medicines",
    "pregnancy",
    "child_growth",
    "vaccinations",
    "triage",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Medicine(_Strict):
    name: str = Field(min_length=1, max_length=60)
    dose: str = Field(default="", max_length=40)
    days_left: int | None = Field(default=None, ge=0, le=3650)


class Pregnancy(_Strict):
    weeks: int | None = Field(default=None, ge=1, le=45)
    expected_date: dt.date | None = None


class Growth(_Strict):
    measured_on: dt.date
    # As wide as what the people app accepts: a card must never fail on recorded data.
    weight_kg: float | None = Field(default=None, ge=0, le=500)
    height_cm: float | None = Field(default=None, ge=0, le=300)
    muac_mm: int | None = Field(default=None, ge=0, le=1000)


class Vaccination(_Strict):
    vaccine: str = Field(min_length=1, max_length=40)
    given_on: dt.date | None = None


class CardEncounter(_Strict):
    date: dt.date
    service_point: str = Field(min_length=1, max_length=32)
    services: list[str] = Field(default_factory=list, max_length=24)

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: list[str]) -> list[str]:
        unknown = [code for code in value if code not in SERVICE_CODES]
        if unknown:
            raise ValueError(f"unknown service codes: {unknown}")
        return value


class CardFollowUp(_Strict):
    text: str = Field(min_length=1, max_length=500)
    due: dt.date | None = None
    urgency: Literal["routine", "priority", "emergency"] = "routine"


class CardSummary(_Strict):
    """What a card says. Every list is ordered most important (or most recent) first."""

    short_code: str
    serial: str = Field(pattern=r"^[0-9a-f]{16}$")
    issued_at: dt.datetime
    issued_at_point: str = Field(min_length=1, max_length=32)
    consents: list[Literal["care", "share-network", "share-partners", "messaging"]] = Field(
        default_factory=list
    )
    sex: Literal["female", "male", "other", "undisclosed"] | None = None
    age_band: Literal["0-4", "5-11", "12-17", "18-59", "60+"] | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    languages: list[str] = Field(default_factory=list, max_length=10)
    allergies: list[str] = Field(default_factory=list, max_length=20)
    conditions: list[str] = Field(default_factory=list, max_length=20)
    medicines: list[Medicine] = Field(default_factory=list, max_length=20)
    pregnancy: Pregnancy | None = None
    child_growth: Growth | None = None
    vaccinations: list[Vaccination] = Field(default_factory=list, max_length=30)
    triage: Literal["green", "yellow", "red"] | None = None
    encounters: list[CardEncounter] = Field(default_factory=list, max_length=50)
    follow_ups: list[CardFollowUp] = Field(default_factory=list, max_length=20)
    # How many items of each list were left off to make the card fit.
    dropped: dict[str, int] = Field(default_factory=dict)

    @field_validator("short_code")
    @classmethod
    def _valid_short_code(cls, value: str) -> str:
        compact = shortcode.normalise(value)
        if compact is None or not shortcode.is_valid(compact):
            raise ValueError("not a valid short code")
        return shortcode.format_code(compact)

    @field_validator("issued_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("give the time zone")
        return value.astimezone(dt.UTC).replace(microsecond=0)

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha() and code.islower()):
                raise ValueError(f"not a language code: {code!r}")
        return value

    @field_validator("allergies", "conditions")
    @classmethod
    def _short_texts(cls, value: list[str]) -> list[str]:
        for text in value:
            if not 1 <= len(text) <= 60:
                raise ValueError("each item has 1 to 60 characters")
        return value

    @field_validator("dropped")
    @classmethod
    def _dropped_lists(cls, value: dict[str, int]) -> dict[str, int]:
        for name, count in value.items():
            if name not in LIST_KEYS or not 0 < count < 1000:
                raise ValueError(f"not a list that can be dropped from: {name!r}")
        return value

    def health_part(self) -> dict[str, Any]:
        """Only what a partner organisation may read."""
        full = self.model_dump(mode="json")
        return {name: full[name] for name in HEALTH_FIELDS}


def to_record(summary: CardSummary) -> bytes:
    """The CBOR record, with empty fields left out."""
    s = summary
    record: dict[int, Any] = {
        K_SHORT_CODE: shortcode.normalise(s.short_code),
        K_SERIAL: bytes.fromhex(s.serial),
        K_ISSUED_AT: int(s.issued_at.timestamp()),
        K_ISSUED_AT_POINT: s.issued_at_point,
    }
    bits = sum(CONSENT_BITS[ConsentPurpose(purpose)] for purpose in set(s.consents))
    if bits:
        record[K_CONSENTS] = bits
    if s.sex is not None:
        record[K_SEX] = SEX_CODES[Sex(s.sex)]
    if s.age_band is not None:
        record[K_AGE_BAND] = AGE_BAND_CODES[AgeBand(s.age_band)]
    if s.birth_year is not None:
        record[K_BIRTH_YEAR] = s.birth_year
    optional: dict[int, Any] = {
        K_LANGUAGES: list(s.languages),
        K_ALLERGIES: list(s.allergies),
        K_CONDITIONS: list(s.conditions),
        K_MEDICINES: [[m.name, m.dose, m.days_left] for m in s.medicines],
        K_VACCINATIONS: [[v.vaccine, _day(v.given_on)] for v in s.vaccinations],
        K_ENCOUNTERS: [
            [_day(e.date), e.service_point, [SERVICE_CODES[code] for code in e.services]]
            for e in s.encounters
        ],
        K_FOLLOW_UPS: [
            [f.text, _day(f.due), URGENCY_CODES[Urgency(f.urgency)]] for f in s.follow_ups
        ],
        K_DROPPED: {LIST_KEYS[name]: count for name, count in sorted(s.dropped.items()) if count},
    }
    if s.pregnancy is not None:
        optional[K_PREGNANCY] = [s.pregnancy.weeks, _day(s.pregnancy.expected_date)]
    if s.child_growth is not None:
        g = s.child_growth
        optional[K_CHILD_GROWTH] = [
            _day(g.measured_on),
            None if g.weight_kg is None else round(g.weight_kg * 1000),
            None if g.height_cm is None else round(g.height_cm * 10),
            g.muac_mm,
        ]
    if s.triage is not None:
        optional[K_TRIAGE] = TRIAGE_CODES[TriageColour(s.triage)]
    record.update({key: value for key, value in optional.items() if value})
    return cbor2.dumps(dict(sorted(record.items())))


class RecordError(ValueError):
    """A record that authenticated but does not follow the format."""


def from_record(raw: bytes) -> CardSummary:
    try:
        record = cbor2.loads(raw)
        if not isinstance(record, dict):
            raise RecordError("not a map")
        return CardSummary.model_validate(_json_of(record))
    except (cbor2.CBORDecodeError, ValidationError, KeyError, TypeError, ValueError) as exc:
        raise RecordError(str(exc)[:200]) from exc


def _json_of(r: dict[int, Any]) -> dict[str, Any]:
    def codes(mapping: dict[Any, int]) -> dict[int, str]:
        return {number: str(code) for code, number in mapping.items()}

    services, urgencies = codes(SERVICE_CODES), codes(URGENCY_CODES)
    lists = {number: name for name, number in LIST_KEYS.items()}
    summary: dict[str, Any] = {
        "short_code": r[K_SHORT_CODE],
        "serial": _bytes(r[K_SERIAL], 8).hex(),
        "issued_at": dt.datetime.fromtimestamp(_int(r[K_ISSUED_AT]), tz=dt.UTC),
        "issued_at_point": r[K_ISSUED_AT_POINT],
        "consents": [
            str(purpose)
            for purpose, bit in CONSENT_BITS.items()
            if _int(r.get(K_CONSENTS, 0)) & bit
        ],
        "languages": r.get(K_LANGUAGES, []),
        "allergies": r.get(K_ALLERGIES, []),
        "conditions": r.get(K_CONDITIONS, []),
        "medicines": [
            {"name": name, "dose": dose, "days_left": days_left}
            for name, dose, days_left in r.get(K_MEDICINES, [])
        ],
        "vaccinations": [
            {"vaccine": vaccine, "given_on": _date(day)}
            for vaccine, day in r.get(K_VACCINATIONS, [])
        ],
        "encounters": [
            {"date": _date(day), "service_point": point, "services": [services[n] for n in codes_]}
            for day, point, codes_ in r.get(K_ENCOUNTERS, [])
        ],
        "follow_ups": [
            {"text": text, "due": _date(due), "urgency": urgencies[urgency]}
            for text, due, urgency in r.get(K_FOLLOW_UPS, [])
        ],
        "dropped": {lists[key]: count for key, count in r.get(K_DROPPED, {}).items()},
    }
    if K_SEX in r:
        summary["sex"] = codes(SEX_CODES)[r[K_SEX]]
    if K_AGE_BAND in r:
        summary["age_band"] = codes(AGE_BAND_CODES)[r[K_AGE_BAND]]
    if K_BIRTH_YEAR in r:
        summary["birth_year"] = r[K_BIRTH_YEAR]
    if K_PREGNANCY in r:
        weeks, expected = r[K_PREGNANCY]
        summary["pregnancy"] = {"weeks": weeks, "expected_date": _date(expected)}
    if K_CHILD_GROWTH in r:
        day, grams, millimetres, muac = r[K_CHILD_GROWTH]
        summary["child_growth"] = {
            "measured_on": _date(day),
            "weight_kg": None if grams is None else _int(grams) / 1000,
            "height_cm": None if millimetres is None else _int(millimetres) / 10,
            "muac_mm": muac,
        }
    if K_TRIAGE in r:
        summary["triage"] = codes(TRIAGE_CODES)[r[K_TRIAGE]]
    return summary


def _day(value: dt.date | None) -> int | None:
    return None if value is None else (value - EPOCH).days


def _date(day: Any) -> dt.date | None:
    return None if day is None else EPOCH + dt.timedelta(days=_int(day))


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**40:
        raise RecordError("not a small unsigned integer")
    return value


def _bytes(value: Any, length: int) -> bytes:
    if not isinstance(value, bytes) or len(value) != length:
        raise RecordError("wrong byte string")
    return value
