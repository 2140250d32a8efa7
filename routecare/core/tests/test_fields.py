"""The shared field definitions themselves (core.fields)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Annotated

import pydantic
import pytest
from django.utils import translation

from routecare.core import fields
from routecare.core.fields import DateWindow, InputSchema, Text, is_language_code, text_problem


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """The messages compared below are the English ones, whatever an earlier test left."""
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "value",
    ["پنی\u200cسیلین", "\u06a9\u200d\u0647", "\u200fright-to-left mark", "\u061cALM", "plain"],
)
def test_the_marks_and_joiners_persian_pashto_and_urdu_need_are_kept(value: str) -> None:
    assert text_problem(value) is None


@pytest.mark.parametrize(
    "value", ["\x00", "\x1b", "\x7f", "\x85", "\x9f", "\u202a", "\u202e", "\u2066", "\u2069"]
)
def test_control_characters_and_bidi_overrides_are_refused(value: str) -> None:
    assert text_problem(f"a{value}b") is not None
    assert text_problem(f"a{value}b", multiline=True) is not None


def test_tabs_and_new_lines_only_where_a_text_spans_lines() -> None:
    assert text_problem("a\tb\r\nc", multiline=True) is None
    assert text_problem("a\nb") == "Keep this to one line."


@pytest.mark.parametrize("code", ["es", "en", "prs", "ti", "wo", "fa", "ps", "ur", "ht", "quc"])
def test_any_iso_639_code_is_a_language(code: str) -> None:
    assert is_language_code(code)


@pytest.mark.parametrize("code", ["zz", "qqq", "xx", "ES", "e", "espa", "", "e\x00", "zh-CN"])
def test_made_up_codes_are_not_languages(code: str) -> None:
    assert not is_language_code(code)


def test_a_date_window_is_around_the_records_own_time_not_the_clock() -> None:
    visit = dt.datetime(2020, 1, 10, 12, tzinfo=dt.UTC)
    # Expected five months after a visit long ago: valid for that visit.
    assert fields.EXPECTED_DELIVERY.problem(dt.date(2020, 6, 10), visit) is None
    assert fields.EXPECTED_DELIVERY.problem(dt.date(2020, 12, 1), visit) is not None
    assert fields.FOLLOW_UP_DUE.problem(dt.date(2020, 1, 9), visit) is None
    assert fields.FOLLOW_UP_DUE.problem(dt.date(2020, 1, 8), visit) == (
        "The due date is in the past."
    )
    assert fields.DISPENSED_ON.problem(dt.date(2020, 1, 20), visit) == (
        "The date cannot be in the future."
    )
    assert DateWindow(dt.timedelta(days=1), dt.timedelta(days=2)).problem(
        dt.date(9999, 12, 31), visit
    ) == ("Give a date from 2020-01-09 to 2020-01-12.")


class Body(InputSchema):
    line: Annotated[str, Text(10, required=True)]
    lines: Annotated[str, Text(10, multiline=True)] = ""
    language: Annotated[str, fields.LANGUAGE] = "es"
    expected: Annotated[dt.date, fields.EXPECTED_DELIVERY] | None = None


def test_the_api_type_refuses_with_the_fields_own_sentence() -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        Body.model_validate({"line": "a\x00", "lines": "\u202e", "language": "zz"})
    errors = {error["loc"][0]: (error["type"], error["msg"]) for error in refused.value.errors()}
    assert errors == {
        "line": ("text_characters", "Remove the control characters (such as NUL)."),
        "lines": ("text_characters", "Remove the invisible direction-control characters."),
        "language": ("language_code", fields.LANGUAGE.problem("zz")),
    }
    assert Body.model_validate({"line": "ok", "lines": "a\nb", "language": "prs"}).line == "ok"


def test_the_api_type_checks_dates_around_the_reference_given() -> None:
    visit = dt.datetime(2020, 1, 10, tzinfo=dt.UTC)
    body = {"line": "ok", "expected": "2020-06-01"}
    assert Body.model_validate(body, context={"reference": visit}).expected == dt.date(2020, 6, 1)
    with pytest.raises(pydantic.ValidationError):
        Body.model_validate(body)  # around now: long past


def test_the_api_type_translates_its_sentence() -> None:
    with translation.override("es"), pytest.raises(pydantic.ValidationError) as refused:
        Body.model_validate({"line": "a\x00"})
    assert refused.value.errors()[0]["msg"] != "Remove the control characters (such as NUL)."


def test_the_published_schema_carries_the_limits_and_the_refused_characters() -> None:
    published = Body.model_json_schema()["properties"]
    assert published["line"]["maxLength"] == 10
    assert published["line"]["minLength"] == 1
    pattern = re.compile(published["line"]["pattern"])
    assert pattern.match("پنی\u200cسیلین")
    assert not pattern.match("a\x00b")
    assert not pattern.match("a\nb")
    assert not pattern.match("\u202e")
    assert re.compile(published["lines"]["pattern"]).match("a\nb\tc")
    assert published["language"]["pattern"] == "^[a-z]{2,3}$"


def test_a_body_must_be_an_object() -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        Body.model_validate([{"line": "ok"}])
    assert refused.value.errors()[0]["type"] == "model_type"


def test_stored_limits_are_the_records_own_not_the_cards() -> None:
    # A care card prints 60 characters of an allergy; the record keeps up to 200.
    assert fields.ALLERGY.problem("a" * 200) is None
    assert fields.ALLERGY.problem("a" * 201) == "Keep it to 200 characters or fewer."
    assert fields.ALLERGY.problem(" ") == "Write something here."
    assert fields.ALLERGIES.problem(["penicillin", ""]) == "Item 2: Write something here."
    assert fields.ALLERGIES.problem(["a"] * 51) == "Give at most 50 items."
