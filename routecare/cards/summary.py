"""The care summary a card carries: its JSON form (API, CLI, test vectors) and its compact CBOR
record with small integer keys (docs/card-format.md lists every key and code)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import cbor2
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from routecare.cards import format, strict_cbor
from routecare.core.fields import MAX_DAYS_SUPPLY, is_language_code, text_problem
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


# Section 5's ranges.
MAX_DROPPED = 65535
POINT_CODE_PATTERN = r"^[-a-zA-Z0-9_]{1,32}$"


def _one_line(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _lines(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem is not None:
        raise ValueError(problem)
    return value


# Texts of the card: no control characters (new lines only in follow-ups), no bidi overrides.
CardText = Annotated[str, AfterValidator(_one_line)]
CardLines = Annotated[str, AfterValidator(_lines)]
PointCode = Annotated[str, Field(pattern=POINT_CODE_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Medicine(_Strict):
    name: CardText = Field(min_length=1, max_length=60)
    dose: CardText = Field(default="", max_length=40)
    days_left: int | None = Field(default=None, ge=0, le=MAX_DAYS_SUPPLY)


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
    vaccine: CardText = Field(min_length=1, max_length=40)
    given_on: dt.date | None = None


class CardEncounter(_Strict):
    date: dt.date
    service_point: PointCode
    services: list[str] = Field(default_factory=list, max_length=24)

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: list[str]) -> list[str]:
        unknown = [code for code in value if code not in SERVICE_CODES]
        if unknown:
            raise ValueError(f"unknown service codes: {unknown}")
        return value


class CardFollowUp(_Strict):
    text: CardLines = Field(min_length=1, max_length=500)
    due: dt.date | None = None
    urgency: Literal["routine", "priority", "emergency"] = "routine"


class CardSummary(_Strict):
    """What a card says. Every list is ordered most important (or most recent) first."""

    short_code: str
    serial: str = Field(pattern=r"^[0-9a-f]{16}$")
    issued_at: dt.datetime
    issued_at_point: PointCode
    consents: list[Literal["care", "share-network", "share-partners", "messaging"]] = Field(
        default_factory=list
    )
    sex: Literal["female", "male", "other", "undisclosed"] | None = None
    age_band: Literal["0-4", "5-11", "12-17", "18-59", "60+"] | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    languages: list[str] = Field(default_factory=list, max_length=10)
    allergies: list[CardText] = Field(default_factory=list, max_length=20)
    conditions: list[CardText] = Field(default_factory=list, max_length=20)
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
            if not is_language_code(code):
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
            if name not in LIST_KEYS or not 0 < count <= MAX_DROPPED:
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
        # Keys ascending, as every map of the record (section 2).
        K_DROPPED: dict(
            sorted((LIST_KEYS[name], count) for name, count in s.dropped.items() if count)
        ),
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


def read_text(text: str, keys: format.KeyResolver) -> tuple[format.Unsealed, CardSummary]:
    """Every reader's one way in (web form, photo, API, command line, bench): the envelope
    (``format.unseal``) and the record, or ``format.CardError`` with the documented reason."""
    unsealed = format.unseal(text, keys)
    try:
        return unsealed, from_record(unsealed.record)
    except RecordError as exc:
        raise format.CardError("damaged", "record") from exc


def from_record(raw: bytes) -> CardSummary:
    """The summary a record holds, read as strictly as section 5 says: every key known, every
    value of its type and range, nothing empty, so that the record re-encodes to its bytes."""
    try:
        record = strict_cbor.loads(raw)
    except strict_cbor.StrictCBORError as exc:
        raise RecordError(str(exc)) from exc
    if not isinstance(record, dict):
        raise RecordError("the record is a map")
    try:
        return CardSummary.model_validate(_json_of(record))
    except ValidationError as exc:
        raise RecordError(str(exc)[:200]) from exc


REQUIRED_KEYS = frozenset({K_SHORT_CODE, K_SERIAL, K_ISSUED_AT, K_ISSUED_AT_POINT})
KNOWN_KEYS = frozenset(range(K_SHORT_CODE, K_DROPPED + 1))
MAX_ISSUED_AT = 2**32 - 1
MAX_DAY = (dt.date.max - EPOCH).days  # 9999-12-31
POINT_CODE = re.compile(POINT_CODE_PATTERN)


def _json_of(r: dict[int, Any]) -> dict[str, Any]:
    if not set(r) <= KNOWN_KEYS:
        raise RecordError("unknown key")
    if not set(r) >= REQUIRED_KEYS:
        raise RecordError("a required key is missing")

    def codes(mapping: dict[Any, int]) -> dict[int, str]:
        return {number: str(code) for code, number in mapping.items()}

    services, urgencies = codes(SERVICE_CODES), codes(URGENCY_CODES)
    lists = {number: name for name, number in LIST_KEYS.items()}
    consents = _uint(r[K_CONSENTS], 1, sum(CONSENT_BITS.values())) if K_CONSENTS in r else 0
    summary: dict[str, Any] = {
        "short_code": _short_code(r[K_SHORT_CODE]),
        "serial": _bytes(r[K_SERIAL], 8).hex(),
        "issued_at": dt.datetime.fromtimestamp(_uint(r[K_ISSUED_AT], 0, MAX_ISSUED_AT), dt.UTC),
        "issued_at_point": _point_code(r[K_ISSUED_AT_POINT]),
        "consents": [str(purpose) for purpose, bit in CONSENT_BITS.items() if consents & bit],
        "languages": _list(r, K_LANGUAGES, 10, _language),
        "allergies": _list(r, K_ALLERGIES, 20, lambda v: _text(v, 1, 60)),
        "conditions": _list(r, K_CONDITIONS, 20, lambda v: _text(v, 1, 60)),
        "medicines": _list(r, K_MEDICINES, 20, _medicine),
        "vaccinations": _list(r, K_VACCINATIONS, 30, _vaccination),
        "encounters": _list(r, K_ENCOUNTERS, 50, lambda v: _encounter(v, services)),
        "follow_ups": _list(r, K_FOLLOW_UPS, 20, lambda v: _follow_up(v, urgencies)),
        "dropped": {
            lists[key]: count
            for key, count in (_dropped(r[K_DROPPED]) if K_DROPPED in r else {}).items()
        },
    }
    if K_SEX in r:
        summary["sex"] = codes(SEX_CODES)[_uint(r[K_SEX], 0, 3)]
    if K_AGE_BAND in r:
        summary["age_band"] = codes(AGE_BAND_CODES)[_uint(r[K_AGE_BAND], 0, 4)]
    if K_BIRTH_YEAR in r:
        summary["birth_year"] = _uint(r[K_BIRTH_YEAR], 1900, 2100)
    if K_PREGNANCY in r:
        weeks, expected = _array(r[K_PREGNANCY], 2)
        summary["pregnancy"] = {
            "weeks": _or_null(weeks, lambda v: _uint(v, 1, 45)),
            "expected_date": _or_null(expected, _date),
        }
    if K_CHILD_GROWTH in r:
        day, grams, millimetres, muac = _array(r[K_CHILD_GROWTH], 4)
        summary["child_growth"] = {
            "measured_on": _date(day),
            "weight_kg": _or_null(grams, lambda v: _uint(v, 0, 500_000) / 1000),
            "height_cm": _or_null(millimetres, lambda v: _uint(v, 0, 3000) / 10),
            "muac_mm": _or_null(muac, lambda v: _uint(v, 0, 1000)),
        }
    if K_TRIAGE in r:
        summary["triage"] = codes(TRIAGE_CODES)[_uint(r[K_TRIAGE], 1, 3)]
    return summary


T = TypeVar("T")


def _uint(value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise RecordError(f"not an unsigned integer from {low} to {high}")
    return value


def _text(value: Any, shortest: int, longest: int, *, multiline: bool = False) -> str:
    if not isinstance(value, str) or not shortest <= len(value) <= longest:
        raise RecordError(f"not a text of {shortest} to {longest} characters")
    if text_problem(value, multiline=multiline) is not None:
        raise RecordError("control characters in a text")
    return value


def _bytes(value: Any, length: int) -> bytes:
    if not isinstance(value, bytes) or len(value) != length:
        raise RecordError("wrong byte string")
    return value


def _array(value: Any, size: int) -> list[Any]:
    if not isinstance(value, list) or len(value) != size:
        raise RecordError(f"not an array of {size}")
    return value


def _list(r: dict[int, Any], key: int, most: int, item: Callable[[Any], T]) -> list[T]:
    """A list key: absent (empty) or an array of 1 to ``most`` items."""
    if key not in r:
        return []
    value = r[key]
    if not isinstance(value, list) or not 1 <= len(value) <= most:
        raise RecordError(f"key {key}: not an array of 1 to {most} items")
    return [item(element) for element in value]


def _or_null(value: Any, read: Callable[[Any], T]) -> T | None:
    return None if value is None else read(value)


def _date(value: Any) -> dt.date:
    return EPOCH + dt.timedelta(days=_uint(value, 0, MAX_DAY))


def _short_code(value: Any) -> str:
    # Exactly the 7 upper-case symbols with a valid check symbol: no dashes, no lower case.
    if not isinstance(value, str) or not shortcode.is_valid(value):
        raise RecordError("not a short code")
    return value


def _point_code(value: Any) -> str:
    if not isinstance(value, str) or POINT_CODE.fullmatch(value) is None:
        raise RecordError("not a service point code")
    return value


def _language(value: Any) -> str:
    if not isinstance(value, str) or not is_language_code(value):
        raise RecordError("not an ISO 639 language code")
    return value


def _medicine(value: Any) -> dict[str, Any]:
    name, dose, days_left = _array(value, 3)
    return {
        "name": _text(name, 1, 60),
        "dose": _text(dose, 0, 40),
        "days_left": _or_null(days_left, lambda v: _uint(v, 0, MAX_DAYS_SUPPLY)),
    }


def _vaccination(value: Any) -> dict[str, Any]:
    vaccine, given = _array(value, 2)
    return {"vaccine": _text(vaccine, 1, 40), "given_on": _or_null(given, _date)}


def _encounter(value: Any, services: dict[int, str]) -> dict[str, Any]:
    day, point, codes = _array(value, 3)
    if not isinstance(codes, list) or len(codes) > len(services):
        raise RecordError("not a list of service codes")
    return {
        "date": _date(day),
        "service_point": _point_code(point),
        "services": [services[_uint(code, 1, len(services))] for code in codes],
    }


def _follow_up(value: Any, urgencies: dict[int, str]) -> dict[str, Any]:
    text, due, urgency = _array(value, 3)
    return {
        "text": _text(text, 1, 500, multiline=True),
        "due": _or_null(due, _date),
        "urgency": urgencies[_uint(urgency, 0, 2)],
    }


def _dropped(value: Any) -> dict[int, int]:
    """Key 19 when present: a non-empty map (null is not "nothing left off", which is the key
    left out: a card reads back to the bytes it was read from)."""
    if not isinstance(value, dict) or not value:
        raise RecordError("key 19: not a map of lists to counts")
    for key, count in value.items():
        if key not in LIST_KEYS.values():
            raise RecordError("key 19: not a list that can be left off")
        _uint(count, 1, MAX_DROPPED)
    return value


def _day(value: dt.date | None) -> int | None:
    return None if value is None else (value - EPOCH).days
