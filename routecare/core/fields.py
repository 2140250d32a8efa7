"""What a field may hold, decided once for every way in: web forms, API schemas, imports and
the care card all ask this module, so two channels cannot disagree.

Texts refuse control characters (Unicode category Cc: NUL, escape, ...) except tab and new
line where a field is multi-line, and the bidirectional overrides and isolates that can make a
text read differently from what it holds (U+202A-U+202E, U+2066-U+2069). The joiners Persian,
Pashto and Urdu need (ZWNJ U+200C, ZWJ U+200D) and the plain marks (LRM, RLM, ALM) stay.

Each kind of field is one object here (``Text``, ``Lines``, ``LanguageCode``, ``DateWindow``)
and each field one constant (``ALLERGY``, ``REFERRAL_REASON``, ``EXPECTED_DELIVERY``...). The
same object gives:

- the API's type: ``Annotated[str, ALLERGY]`` in a django-ninja schema validates with the
  field's rule, publishes its limits in the OpenAPI schema, and reports a refusal as a schema
  error of the field (422) with the sentence ``problem`` gives;
- the web form's field (``ALLERGY.form_field(label=...)``), checking the text as typed;
- ``problem(value)`` and ``check(value, field)``, for actions, imports and the card;
- ``broken_rule(value)``, naming the rule a stored value breaks (``routecare check-data``).

``InputSchema`` is the base of the API's request bodies and queries: a JSON object (not an
array read as an empty object), and no control character in any string, codes and names
looked up included.

Date windows are relative to the record's own time (when the encounter happened, when the
referral was sent), not to the server's clock, so that a change recorded offline and synced
days later stays valid; where a record has no time of its own, its time is the change's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pycountry
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, ngettext
from ninja import Schema
from pydantic import (
    BaseModel,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema
from pydantic_core import ValidationError as PydanticValidationError

# Explicit embeddings, overrides and isolates: a reader may see another text than the stored one.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MULTILINE_ALLOWED = frozenset("\t\n\r")
# The same rule as a regular expression, published in the OpenAPI schema (Cc is
# U+0000-U+001F and U+007F-U+009F) so that clients can check before sending.
_REFUSED_ONE_LINE = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_REFUSED_MULTILINE = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
# The error types of refusals by these definitions in the API's 422 answers: their message is
# the field's own sentence (api.py passes it on instead of a generic one).
ERROR_TYPES = frozenset({"text_characters", "text_blank", "language_code", "date_window"})


_FIRST_REFUSED = {
    False: re.compile(f"[{_REFUSED_ONE_LINE}]"),
    True: re.compile(f"[{_REFUSED_MULTILINE}]"),
}
# What no string of a request body holds, whatever its field: the control characters other
# than tab and new line (PostgreSQL cannot store NUL; the others are terminal escapes).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _character_rule(value: str, multiline: bool) -> str | None:
    """The first character rule a text breaks: "direction", "line" or "control"."""
    found = _FIRST_REFUSED[multiline].search(value)
    if found is None:
        return None
    character = found.group()
    if character in BIDI_CONTROLS:
        return "direction"
    return "line" if character in MULTILINE_ALLOWED else "control"


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why a text cannot be stored (a sentence for the person who typed it), or None."""
    rule = _character_rule(value, multiline)
    if rule == "direction":
        return gettext("Remove the invisible direction-control characters.")
    if rule == "line":
        return gettext("Keep this to one line.")
    if rule == "control":
        return gettext("Remove the control characters (such as NUL).")
    return None


# What ``broken_rule`` says of a stored value, for operators (never the value itself).
CHARACTER_RULES = {
    "direction": "direction-control character",
    "line": "line break in a one-line text",
    "control": "control character",
}


def is_language_code(code: str) -> bool:
    """An ISO 639-1 (two letters) or ISO 639-3 (three letters) code, in lower case."""
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha() and code.islower()):
        return False
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code) is not None
    if len(code) == 3:
        return pycountry.languages.get(alpha_3=code) is not None
    return False


def _refusal(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, "{message}", {"message": message})


def _too_long(limit: int) -> str:
    return ngettext(
        "Keep it to %(limit)d character or fewer.",
        "Keep it to %(limit)d characters or fewer.",
        limit,
    ) % {"limit": limit}


# Texts


@dataclass(frozen=True)
class Text:
    """Free text: how long it may be, whether it may span lines, whether it may be blank."""

    max_length: int
    multiline: bool = False
    required: bool = False

    def problem(self, value: str) -> str | None:
        problem = text_problem(value, multiline=self.multiline)
        if problem is not None:
            return problem
        if self.required and not value.strip():
            return gettext("Write something here.")
        if len(value) > self.max_length:
            return _too_long(self.max_length)
        return None

    def broken_rule(self, value: object) -> str | None:
        """The rule a stored value breaks, named for an operator (never the value), or None.
        None is no text (a nullable column)."""
        if value is None:
            return None
        if not isinstance(value, str):
            return "not a text"
        rule = _character_rule(value, self.multiline)
        if rule is not None:
            return CHARACTER_RULES[rule]
        if self.required and not value.strip():
            return "blank"
        if len(value) > self.max_length:
            return f"longer than {self.max_length} characters"
        return None

    def check(self, value: str, field: str) -> str:
        """The value, or a ValidationError naming ``field`` (for actions and imports)."""
        problem = self.problem(value)
        if problem is not None:
            raise ValidationError({field: problem})
        return value

    # Web forms

    def form_field(self, **kwargs: Any) -> TextFormField:
        kwargs.setdefault("required", self.required)
        if self.multiline:
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        return TextFormField(self, max_length=self.max_length, **kwargs)

    # API schemas: Annotated[str, definition]

    def _api_value(self, value: str) -> str:
        problem = text_problem(value, multiline=self.multiline)
        if problem is not None:
            raise _refusal("text_characters", problem)
        if self.required and not value.strip():
            raise _refusal("text_blank", gettext("Write something here."))
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            self._api_value,
            core_schema.str_schema(
                max_length=self.max_length, min_length=1 if self.required else None
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        published = handler(schema)
        refused = _REFUSED_MULTILINE if self.multiline else _REFUSED_ONE_LINE
        published["pattern"] = f"^[^{refused}]*$"
        return published


class TextFormField(forms.CharField):
    """A form's text field for a ``Text`` definition. The text is checked as typed, before the
    form strips it (Python counts some control characters, U+001C-U+001F and U+0085, as white
    space), and with one message for every control character (Django's own NUL check goes)."""

    def __init__(self, definition: Text, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.definition = definition
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]

    def to_python(self, value: Any) -> str | None:
        if isinstance(value, str):
            problem = text_problem(value, multiline=self.definition.multiline)
            if problem is not None:
                raise ValidationError(problem, code="text_characters")
        return super().to_python(value)


_LINE_BREAK = re.compile(r"\r\n|\n|\r")


@dataclass(frozen=True)
class Lines:
    """A list of short texts (allergies, conditions): in a form, one per line."""

    item: Text
    max_items: int

    def problem(self, values: list[str]) -> str | None:
        if len(values) > self.max_items:
            return gettext("Give at most %(n)d items.") % {"n": self.max_items}
        for number, value in enumerate(values, start=1):
            problem = self.item.problem(value)
            if problem is not None:
                return gettext("Item %(n)d: %(problem)s") % {"n": number, "problem": problem}
        return None

    def broken_rule(self, values: object) -> str | None:
        if not isinstance(values, list):
            return "not a list"
        if len(values) > self.max_items:
            return f"more than {self.max_items} items"
        for number, value in enumerate(values, start=1):
            rule = self.item.broken_rule(value) if value is not None else "not a text"
            if rule is not None:
                return f"item {number}: {rule}"
        return None

    def form_field(self, **kwargs: Any) -> LinesFormField:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        return LinesFormField(self, **kwargs)


class LinesFormField(forms.CharField):
    """One item per line; blank lines are left out. Cleans to a list of texts. Each line is
    checked as typed (see TextFormField), counted from the first line of the box."""

    def __init__(self, definition: Lines, **kwargs: Any) -> None:
        super().__init__(strip=False, **kwargs)
        self.definition = definition
        self.validators = []  # each line is checked, not the whole text

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        lines: list[str] = []
        for number, line in enumerate(_LINE_BREAK.split(super().to_python(value) or ""), 1):
            if not line.strip() and text_problem(line) is None:
                continue
            problem = self.definition.item.problem(line.strip())
            problem = text_problem(line) or problem
            if problem is not None:
                raise ValidationError(
                    gettext("Line %(n)d: %(problem)s") % {"n": number, "problem": problem}
                )
            lines.append(line.strip())
        return lines

    def validate(self, value: Any) -> None:
        super().validate(value)
        if len(value) > self.definition.max_items:
            raise ValidationError(
                gettext("Give at most %(n)d lines.") % {"n": self.definition.max_items}
            )


# Language codes


@dataclass(frozen=True)
class LanguageCode:
    """Any ISO 639-1 or ISO 639-3 code: people speak Dari (prs), Tigrinya (ti), Wolof (wo),
    not only the interface's languages."""

    def problem(self, code: str) -> str | None:
        if is_language_code(code):
            return None
        return gettext("Not a known language code: use ISO 639, e.g. es, ti or prs.")

    def broken_rule(self, code: object) -> str | None:
        if isinstance(code, str) and is_language_code(code):
            return None
        return "not an ISO 639 language code"

    def check(self, code: str, field: str) -> str:
        problem = self.problem(code)
        if problem is not None:
            raise ValidationError({field: problem})
        return code

    def validate(self, code: str) -> None:
        """A Django validator."""
        problem = self.problem(code)
        if problem is not None:
            raise ValidationError(problem, code="language_code")

    def _api_value(self, code: str) -> str:
        problem = self.problem(code)
        if problem is not None:
            raise _refusal("language_code", problem)
        return code

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            self._api_value, core_schema.str_schema(pattern=r"^[a-z]{2,3}$")
        )


# Dates


@dataclass(frozen=True)
class DateWindow:
    """The dates that make sense for what a field describes, around the record's own time
    (``reference``): from ``before`` ahead of it to ``after`` past it. A date outside is
    explained by ``too_early`` or ``too_late`` (message ids) when given, else by the window."""

    before: dt.timedelta
    after: dt.timedelta
    too_early: str = ""
    too_late: str = ""

    def bounds(self, reference: dt.datetime | dt.date) -> tuple[dt.date, dt.date]:
        day = reference.date() if isinstance(reference, dt.datetime) else reference
        return day - self.before, day + self.after

    def problem(self, day: dt.date, reference: dt.datetime | dt.date) -> str | None:
        earliest, latest = self.bounds(reference)
        if earliest <= day <= latest:
            return None
        if day < earliest and self.too_early:
            return gettext(self.too_early)
        if day > latest and self.too_late:
            return gettext(self.too_late)
        return gettext("Give a date from %(earliest)s to %(latest)s.") % {
            "earliest": earliest.isoformat(),
            "latest": latest.isoformat(),
        }

    def broken_rule(self, day: object, reference: dt.datetime | dt.date) -> str | None:
        """For a stored date (a date or its ISO text); the window is named, not the date."""
        if day is None:
            return None
        try:
            parsed = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        except ValueError:
            return "not a date"
        if self.problem(parsed, reference) is None:
            return None
        return f"outside -{self.before.days}..+{self.after.days} days of the record's time"

    def problem_now(self, day: dt.date | None) -> str | None:
        """For a web form: what is typed now is recorded now, its own time."""
        return None if day is None else self.problem(day, timezone.now())

    def validate_now(self, day: dt.date | None) -> None:
        """A form's ``clean_<field>``: a ValidationError with the field's sentence."""
        problem = self.problem_now(day)
        if problem is not None:
            raise ValidationError(problem, code="date_window")

    def check(self, day: dt.date | None, reference: dt.datetime | dt.date, field: str) -> None:
        if day is None:
            return
        problem = self.problem(day, reference)
        if problem is not None:
            raise ValidationError({field: problem})

    def _api_value(self, day: dt.date, info: core_schema.ValidationInfo) -> dt.date:
        # The record's time comes with the validation (``reference`` in its context); a
        # request body has none of its own: its time is the change's, now.
        context = info.context if isinstance(info.context, dict) else {}
        reference = context.get("reference") or timezone.now()
        problem = self.problem(day, reference)
        if problem is not None:
            raise _refusal("date_window", problem)
        return day

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self._api_value, handler(source))


# A day of slack on the future side: a date is typed in local time, the reference is UTC.
_DAY = dt.timedelta(days=1)
_YEAR = dt.timedelta(days=366)


# Request bodies


class InputSchema(Schema):
    """An API request body: a JSON object. django-ninja's Schema reads any value's attributes
    (to build answers from models), so a JSON array sent for an object of optional fields
    passed as an empty object: the change answered 200 and changed nothing. A body is read
    as the object it is instead (this replaces ninja's validator of the same name)."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if not isinstance(values, dict | BaseModel):
            message = gettext("Send a JSON object with the fields by name.")
            raise _refusal("model_type", message)
        validated = handler(values)
        # Codes, slugs and names looked up (a point code, a tag, a username) have no
        # definition of their own; none of them may hold a control character either. (The
        # fields that have one said so above, in their own words.)
        found = sorted(set(_control_characters(values, ())), key=str)
        if found:
            message = gettext("Remove the control characters (such as NUL).")
            errors = [
                InitErrorDetails(type=_refusal("text_characters", message), loc=loc, input="")
                for loc in found
            ]
            raise PydanticValidationError.from_exception_data(cls.__name__, errors)
        return validated


def _control_characters(value: Any, loc: tuple[int | str, ...]) -> Iterator[tuple[int | str, ...]]:
    """Where a request body's strings hold control characters (a key: where its dict is)."""
    if isinstance(value, str):
        if _CONTROL.search(value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _CONTROL.search(key):
                yield loc
            yield from _control_characters(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _control_characters(item, (*loc, index))


# The fields. Stored data keeps its own limits (an allergy may be longer than the 60
# characters a care card prints of it).

ALIAS = Text(20)
ALLERGY = Text(200, required=True)
CONDITION = Text(200, required=True)
ALLERGIES = Lines(ALLERGY, max_items=50)
CONDITIONS = Lines(CONDITION, max_items=50)
MEDICINE_NAME = Text(80, required=True)
MEDICINE_DOSE = Text(80)
# The medicines a person says they take (a pre-registration): names only, one per line.
MEDICINE_NAMES = Lines(MEDICINE_NAME, max_items=20)
# A medicine's days of supply, as dispensed (and so the most a card says are left).
MAX_DAYS_SUPPLY = 366
VACCINE = Text(80, required=True)
ENCOUNTER_NOTES = Text(1000, multiline=True)
FOLLOW_UP_TEXT = Text(500, multiline=True, required=True)
REFERRAL_REASON = Text(1000, multiline=True, required=True)
REFERRAL_NOTE = Text(1000, multiline=True)
REFERRAL_EXPLANATION = Text(500, multiline=True)  # override and service-warning reasons
PARTNER_NAME = Text(160)
FEEDBACK_TEXT = Text(2000, multiline=True, required=True)
FEEDBACK_NOTE = Text(2000, multiline=True, required=True)
FEEDBACK_ANSWER = Text(2000, multiline=True, required=True)
CONTACT_VALUE = Text(120)
FAQ_QUESTION = Text(300, required=True)
FAQ_ANSWER = Text(4000, multiline=True)
LANGUAGE = LanguageCode()
# Route flows, trainings and the directory: no personal data, the same character rules.
ALERT_MESSAGE = Text(500, multiline=True, required=True)
ALERT_DIRECTION = Text(120)
TRIGGER_NAME = Text(120, required=True)
STOCK_ITEM_NAME = Text(80, required=True)
STOCK_UNIT = Text(20, required=True)
TRANSFER_NOTE = Text(300, multiline=True)
TRAINING_TITLE = Text(160, required=True)
PHONE = Text(32)
# Codes checked against their lists by the actions; here only what a text may hold.
SHORT_CODE_TEXT = Text(40)

# An expected delivery within 10 months (a pregnancy is about 40 weeks); a month overdue
# still describes the pregnancy being followed.
EXPECTED_DELIVERY = DateWindow(before=dt.timedelta(days=31), after=dt.timedelta(days=304))
_FUTURE = gettext_noop("The date cannot be in the future.")
_PAST = gettext_noop("The due date is in the past.")
# Medicines dispensed on this route, not in the future.
DISPENSED_ON = DateWindow(before=5 * _YEAR, after=_DAY, too_late=_FUTURE)
# Vaccinations given in a person's life (a card may carry childhood ones), not in the future.
VACCINATION_GIVEN = DateWindow(before=dt.timedelta(days=110 * 366), after=_DAY, too_late=_FUTURE)
# Growth of a child, measured while a child, not in the future.
GROWTH_MEASURED = DateWindow(before=dt.timedelta(days=18 * 366), after=_DAY, too_late=_FUTURE)
# A follow-up or a referral is due within a year of the visit that asks for it.
FOLLOW_UP_DUE = DateWindow(before=_DAY, after=_YEAR, too_early=_PAST)
REFERRAL_DUE = DateWindow(before=dt.timedelta(0), after=_YEAR, too_early=_PAST)
