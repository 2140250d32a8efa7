import uuid
from base64 import b64encode

import pytest
from django.db import connection
from django.test import override_settings

from routecare.conftest import Society, register
from routecare.core.crypto import DecryptionError, parse_keys
from routecare.core.rotation import rotate
from routecare.people import actions
from routecare.people.models import Encounter, HealthSummary, Person

KEY_A = "a:" + b64encode(b"A" * 32).decode()
KEY_B = "b:" + b64encode(b"B" * 32).decode()


def _raw(table: str, column: str, pk_column: str, pk: uuid.UUID) -> str:
    """The stored text of a column, read past the ORM."""
    param = pk.hex if connection.vendor == "sqlite" else str(pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {pk_column} = %s", [param])  # noqa: S608
        return str(cursor.fetchone()[0])


def test_it_round_trips_and_binds_ciphertext_to_its_column() -> None:
    ring = parse_keys(KEY_A)
    sealed = ring.encrypt(b'["penicillin"]', "people_healthsummary.allergies")
    assert sealed.startswith("rc1:a:")
    assert ring.decrypt(sealed, "people_healthsummary.allergies") == b'["penicillin"]'
    with pytest.raises(DecryptionError):
        ring.decrypt(sealed, "people_healthsummary.conditions")


def test_it_rejects_tampered_values_and_unknown_keys() -> None:
    ring = parse_keys(KEY_A)
    sealed = ring.encrypt(b"x", "t.c")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        ring.decrypt(tampered, "t.c")
    with pytest.raises(DecryptionError):
        parse_keys(KEY_B).decrypt(sealed, "t.c")
    with pytest.raises(DecryptionError):
        ring.decrypt("plain text", "t.c")


def test_it_refuses_short_keys() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        parse_keys("a:" + b64encode(b"short").decode())
    with pytest.raises(ImproperlyConfigured):
        parse_keys(" , ")


def test_sensitive_columns_are_ciphertext_in_the_database(own: Society) -> None:
    person = register(own, alias="J.P.", vulnerabilities=["pregnant"])
    encounter = actions.record_encounter(
        own.actor(), person, services=[("first-aid", 1)], notes="wound on left foot",
        follow_up=actions.FollowUpInput("insulin refill"),
    )  # fmt: skip
    actions.update_health_summary(own.actor(), person, allergies=["penicillin"], conditions=["HIV"])
    checks = [
        ("people_person", "alias", "id", person.pk, "J.P."),
        ("people_person", "vulnerabilities", "id", person.pk, "pregnant"),
        ("people_encounter", "notes", "id", encounter.pk, "wound"),
        ("people_healthsummary", "allergies", "person_id", person.pk, "penicillin"),
        ("people_healthsummary", "conditions", "person_id", person.pk, "HIV"),
        ("people_followup", "text", "person_id", person.pk, "insulin"),
    ]
    for table, column, pk_column, pk, plaintext in checks:
        raw = _raw(table, column, pk_column, pk)
        assert raw.startswith("rc1:"), (table, column, raw)
        assert plaintext not in raw
    stored = HealthSummary.objects.get(person=person)
    assert stored.allergies == ["penicillin"]
    assert Encounter.objects.get(pk=encounter.pk).notes == "wound on left foot"


def test_rotation_is_a_dry_run_by_default_and_rewrites_with_apply(own: Society) -> None:
    with override_settings(ROUTECARE_FIELD_KEYS=KEY_A):
        person = register(own, alias="AB")
    with override_settings(ROUTECARE_FIELD_KEYS=f"{KEY_B},{KEY_A}"):
        reports = {report.column: report for report in rotate(apply=False)}
        assert reports["people_person.alias"].by_key == {"a": 1}
        assert reports["people_person.alias"].rewritten == 0
        rotate(apply=True)
        reports = {report.column: report for report in rotate(apply=False)}
        assert reports["people_person.alias"].by_key == {"b": 1}
    with override_settings(ROUTECARE_FIELD_KEYS=KEY_B):
        assert Person.objects.get(pk=person.pk).alias == "AB"
