"""The linkage encoding and its comparison (docs/cash-dedup.md): the same person written the
ways people write names scores above the thresholds, other people below, and nothing of the
name can be read without the round's key."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from routecare.cash import attack, linkage, matching, synthetic

KEY = bytes(range(32))
BORN = dt.date(1990, 5, 17)


def _similarity(a: bytes, b: bytes) -> float:
    score, _index = matching.best_match(a, [b])
    return score


def _encode(given: str, surnames: str, born: dt.date = BORN, key: bytes = KEY) -> bytes:
    return linkage.encode(key, given, surnames, born)


def test_names_are_folded_without_particles_and_nicknames_become_names() -> None:
    assert linkage.name_tokens("José  María") == ["jose", "maria"]
    assert linkage.name_tokens("DE LA CRUZ") == ["cruz"]
    assert linkage.name_tokens("Pepe") == ["jose"]
    assert linkage.name_tokens("Chema") == ["jose", "maria"]
    assert linkage.name_tokens("Jean-Baptiste") == ["jean", "baptiste"]


def test_an_encoding_is_256_bytes_and_differs_each_time_by_its_random_flips() -> None:
    first, second = _encode("José", "García López"), _encode("José", "García López")
    assert len(first) == linkage.FILTER_BYTES == 256
    assert first != second  # BLIP: fresh random flips every time
    assert _similarity(first, second) >= matching.PROBABLE_AT


@pytest.mark.parametrize(
    ("given", "surnames", "born"),
    [
        ("Jose", "Garcia Lopez", BORN),  # no accents
        ("JOSÉ", "GARCÍA LÓPEZ", BORN),  # capitals
        ("Pepe", "García López", BORN),  # nickname
        ("José", "García", BORN),  # second surname missing
        ("José", "García Lopes", BORN),  # typo
        ("José", "García López", dt.date(1990, 5, 18)),  # a day off
    ],
)
def test_the_same_person_written_differently_is_flagged(
    given: str, surnames: str, born: dt.date
) -> None:
    original = _encode("José", "García López")
    assert matching.verdict(_similarity(original, _encode(given, surnames, born))) != (
        matching.Verdict.NO_MATCH
    )


def test_a_swapped_day_and_month_and_swapped_given_names_are_flagged() -> None:
    original = _encode("María Guadalupe", "Hernández Cruz", dt.date(1988, 4, 11))
    again = _encode("Guadalupe María", "Hernandez Cruz", dt.date(1988, 11, 4))
    assert matching.verdict(_similarity(original, again)) != matching.Verdict.NO_MATCH


def test_another_person_is_no_match() -> None:
    original = _encode("José", "García López")
    assert matching.verdict(_similarity(original, _encode("Ana", "Zelaya Matute"))) == (
        matching.Verdict.NO_MATCH
    )
    # Same name, another day of birth.
    other_day = _encode("José", "García López", dt.date(1990, 9, 2))
    assert matching.verdict(_similarity(original, other_day)) != matching.Verdict.PROBABLE


def test_encodings_under_another_key_share_nothing_but_chance() -> None:
    mine = _encode("José", "García López")
    other_round = _encode("José", "García López", key=os.urandom(32))
    assert _similarity(mine, other_round) < matching.POSSIBLE_AT


@pytest.mark.parametrize(
    ("given", "surnames"), [("", "García"), ("J", "G"), ("José", "de la"), ("1234", "García")]
)
def test_names_that_cannot_be_encoded_are_refused(given: str, surnames: str) -> None:
    with pytest.raises(linkage.EncodingError):
        _encode(given, surnames)


def test_rule_90_is_undone_exactly_without_flips_and_not_with_them() -> None:
    bits = linkage.bloom(KEY, linkage.features("José", "García López", BORN))
    plain = attack._matrix([linkage.to_bytes(linkage.rule_90(bits))])
    assert (attack.invert_rule_90(plain)[0].astype(bool) == bits).all()
    flipped = attack._matrix([linkage.to_bytes(linkage.harden(bits, flip_probability=0.02))])
    assert (attack.invert_rule_90(flipped)[0].astype(bool) != bits).sum() > 50


def test_blocking_compares_the_same_sex_and_years_one_apart_only() -> None:
    encoding = _encode("José", "García López")
    records = [
        matching.Blocked("male", 1990, encoding),
        matching.Blocked("male", 1991, encoding),
        matching.Blocked("female", 1990, encoding),
        matching.Blocked("male", 1993, encoding),
        matching.Blocked("undisclosed", 1990, encoding),
    ]
    found = {(a, b) for a, b, _score in matching.pairs(records, 0.5)}
    assert found == {(0, 1), (0, 4), (1, 4), (2, 4)}


def test_the_generator_makes_duplicates_at_other_societies_with_the_usual_errors() -> None:
    enrolments = synthetic.Generator("americas", seed=3).round(1000, duplicate_share=0.1)
    people = {e.person for e in enrolments}
    assert len(enrolments) == 1000
    assert len(people) == 900
    assert all(e.birth_date.year >= 1950 for e in enrolments)
    balkans = synthetic.Generator("balkans", seed=3).round(200)
    assert any(e.birth_date.timetuple().tm_yday == 1 for e in balkans)


def test_the_attack_finds_names_in_weak_filters_but_nothing_in_hardened_encodings() -> None:
    skewed = synthetic.Generator("americas", seed=5, surname_offset=0, given_name_offset=0)
    model = synthetic.Generator("americas", seed=6, surname_offset=0, given_name_offset=0)
    enrolments = skewed.round(10_000)
    weak = [
        linkage.to_bytes(linkage.bloom(KEY, attack.names_only(e), size=1024)) for e in enrolments
    ]
    hardened = [linkage.encode(KEY, e.given_names, e.surnames, e.birth_date) for e in enrolments]
    assert attack.attack(weak, enrolments, model).surnames_right > 500
    outcome = attack.attack(hardened, enrolments, model)
    assert outcome.reidentified <= 10  # chance: one in a thousand


def test_only_letter_pairs_are_remembered_never_a_surname_or_a_date() -> None:
    linkage.forget_keys()
    found = linkage.features("José", "García López", BORN)
    linkage.bloom(KEY, found)
    pairs = {(f.part, f.value) for f in found if f.part in linkage.LETTER_PAIR_PARTS}
    assert linkage._remembered_positions.cache_info().currsize == len(pairs)
    assert {f.part for f in found} - linkage.LETTER_PAIR_PARTS == {"s1", "y", "dm", "dm2"}
    linkage.forget_keys()
    assert linkage._remembered_positions.cache_info().currsize == 0
