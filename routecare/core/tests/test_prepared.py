"""core.prepared: statements compiled once send what the ORM sends, and load what it loads."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext

from routecare.audit.models import AuditEvent
from routecare.conftest import Society
from routecare.core.prepared import NotPreparableError, Prepared, insert, insert_many
from routecare.people import selectors
from routecare.people.actions import _CARE_CONSENT
from routecare.people.models import Consent, Encounter, EncounterService, Person

pytestmark = pytest.mark.django_db


def _orm(queryset: Any) -> tuple[str, list[Any]]:
    sql, params = queryset.query.get_compiler(using="default").as_sql()
    return sql, list(params)


def test_the_person_reads_send_the_orms_statement_with_the_values_bound(
    own: Society, own_person: Person
) -> None:
    society, code = own.society.pk, own_person.short_code
    by_code = selectors._society_people(society).filter(short_code=code).order_by("pk")[:1]
    assert selectors._BY_CODE.sql(society=society, code=code) == _orm(by_code)
    person = own_person.pk
    by_id = selectors._society_people(society).filter(pk=person).order_by("pk")[:1]
    assert selectors._BY_ID.sql(society=society, person=person) == _orm(by_id)
    consent = Consent.objects.filter(
        person_id=person, purpose="care", withdrawn_at__isnull=True
    ).values_list("pk")[:1]
    assert _CARE_CONSENT.sql(person=person) == _orm(consent)


def test_a_prepared_read_loads_the_same_person_as_the_orm(own: Society, own_person: Person) -> None:
    loaded = selectors._BY_CODE.first(society=own.society.pk, code=own_person.short_code)
    expected = selectors._society_people(own.society.pk).get(pk=own_person.pk)
    assert isinstance(loaded, Person)
    assert loaded.pk == expected.pk
    assert loaded._state.adding is False
    assert loaded._state.db == "default"
    # Every column, the encrypted ones decrypted, and the annotation.
    for field in Person._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    assert loaded.languages == ["es"]
    assert loaded.registered_at_point_code == own.point.code  # type: ignore[attr-defined]


def test_a_prepared_read_finds_nothing_for_values_that_match_nothing(
    own: Society, other: Society, own_person: Person
) -> None:
    # Another society's id with this person's code: the scope is bound, not baked in.
    assert selectors._BY_CODE.first(society=other.society.pk, code=own_person.short_code) is None
    assert selectors._BY_ID.rows(society=own.society.pk, person=uuid.uuid4()) == []
    assert _CARE_CONSENT.exists(person=own_person.pk)
    assert not _CARE_CONSENT.exists(person=uuid.uuid4())


def test_a_prepared_values_list_gives_tuples_as_the_orm(own: Society, own_person: Person) -> None:
    columns: Prepared[tuple[uuid.UUID, str]] = Prepared(
        lambda society: (
            Person.objects.filter(national_society_id=society)
            .order_by("pk")
            .values_list("pk", "short_code")
        ),
        society=uuid.UUID,
    )
    expected = list(
        Person.objects.filter(national_society_id=own.society.pk)
        .order_by("pk")
        .values_list("pk", "short_code")
    )
    assert columns.rows(society=own.society.pk) == expected
    assert (own_person.pk, own_person.short_code) in expected
    # An annotation named before a field: the select has them otherwise, the ORM reorders.
    annotated: Prepared[tuple[Any, ...]] = Prepared(
        lambda person: (
            Person.objects.filter(pk=person)
            .annotate(one=Value(1))
            .values_list("one", "short_code", "pk")
        ),
        person=uuid.UUID,
    )
    assert annotated.rows(person=own_person.pk) == [(1, own_person.short_code, own_person.pk)]


def test_a_prepared_read_is_sent_through_djangos_cursor(own: Society, own_person: Person) -> None:
    selectors._BY_ID.first(society=own.society.pk, person=own_person.pk)  # compiled once
    with CaptureQueriesContext(connection) as captured:
        selectors._BY_ID.first(society=own.society.pk, person=own_person.pk)
    assert len(captured.captured_queries) == 1
    assert '"people_person"' in captured.captured_queries[0]["sql"]


def test_a_prepared_read_refuses_missing_values_and_what_it_cannot_prepare(
    own: Society,
) -> None:
    with pytest.raises(TypeError):
        selectors._BY_ID.rows(society=own.society.pk)
    ignores_its_value: Prepared[Person] = Prepared(lambda person: Person.objects.all(), person=str)
    with pytest.raises(NotPreparableError):
        ignores_its_value.rows(person="x")
    joined: Prepared[Encounter] = Prepared(
        lambda person: Encounter.objects.filter(person_id=person).select_related("person"),
        person=uuid.UUID,
    )
    with pytest.raises(NotPreparableError):
        joined.rows(person=uuid.uuid4())
    with pytest.raises(NotPreparableError):
        Prepared(lambda count: Person.objects.filter(birth_year=count), count=int)
    flat: Prepared[uuid.UUID] = Prepared(
        lambda person: Person.objects.filter(pk=person).values_list("pk", flat=True),
        person=uuid.UUID,
    )
    with pytest.raises(NotPreparableError):
        flat.rows(person=uuid.uuid4())


def _signals() -> tuple[list[tuple[str, bool]], Any]:
    seen: list[tuple[str, bool]] = []

    def before(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(("pre", instance._state.adding))

    def after(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append(("post", created))

    return seen, (before, after)


def test_insert_writes_the_row_the_orm_writes_and_sends_its_signals(
    own: Society, own_person: Person
) -> None:
    seen, (before, after) = _signals()
    pre_save.connect(before, sender=AuditEvent, dispatch_uid="test-prepared-pre")
    post_save.connect(after, sender=AuditEvent, dispatch_uid="test-prepared-post")
    try:
        event = insert(
            AuditEvent(
                actor=own.volunteer,
                actor_username="v",
                national_society_id=own.society.pk,
                service_point=own.point,
                action="read",
                object_type="person",
                object_id=str(own_person.pk),
                person_id=own_person.pk,
                fields=["a", "b"],
                detail="prepared",
                via="api",
            )
        )
    finally:
        pre_save.disconnect(dispatch_uid="test-prepared-pre", sender=AuditEvent)
        post_save.disconnect(dispatch_uid="test-prepared-post", sender=AuditEvent)
    assert seen == [("pre", True), ("post", True)]
    assert event._state.adding is False
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.at == event.at  # auto_now_add filled in by the field, as on save()
    assert (stored.actor_id, stored.service_point_id, stored.person_id) == (
        own.volunteer.pk,
        own.point.pk,
        own_person.pk,
    )
    assert (stored.fields, stored.detail, stored.via) == (["a", "b"], "prepared", "api")


def _encounter(own: Society, person: Person, **values: Any) -> Encounter:
    return insert(
        Encounter(
            person=person,
            service_point=own.point,
            recorded_by=own.volunteer,
            occurred_at=person.created_at,
            **values,
        )
    )


def test_insert_many_sets_the_ids_the_database_gives(own: Society, own_person: Person) -> None:
    encounter = _encounter(own, own_person, triage="green", notes="prepared notes")
    lines = insert_many(
        [
            EncounterService(encounter=encounter, service="water", quantity=2),
            EncounterService(encounter=encounter, service="first-aid", quantity=1),
        ]
    )
    assert all(line.pk is not None for line in lines)
    assert len({line.pk for line in lines}) == 2
    stored = Encounter.objects.get(pk=encounter.pk)
    assert stored.notes == "prepared notes"  # encrypted on the way in, as by save()
    assert stored.voids is False
    assert stored.stock_pending is False
    assert sorted(stored.services.values_list("service", "quantity")) == [
        ("first-aid", 1),
        ("water", 2),
    ]
    one = insert_many([EncounterService(encounter=encounter, service="food", quantity=3)])
    assert one[0].pk is not None
    assert one[0].pk not in {line.pk for line in lines}


def test_insert_refuses_an_unsaved_related_object_and_writes_nothing(
    own: Society, own_person: Person
) -> None:
    before = Encounter.objects.count()
    unsaved = Person(national_society=own.society, registered_at_point=own.point)
    unsaved.pk = None
    with pytest.raises(ValueError, match="unsaved"):
        insert(
            Encounter(person=unsaved, service_point=own.point, occurred_at=own_person.created_at)
        )
    assert Encounter.objects.count() == before


def test_an_expression_among_the_values_is_left_to_the_orm(
    own: Society, own_person: Person
) -> None:
    encounter = _encounter(own, own_person)
    line = EncounterService(encounter=encounter, service="water", quantity=Value(4))
    [saved] = insert_many([line])
    assert saved.pk is not None
    assert EncounterService.objects.get(pk=saved.pk).quantity == 4
    # A plain row after it still gets the kept statement, not one drawn for the expression.
    [plain] = insert_many([EncounterService(encounter=encounter, service="food", quantity=5)])
    assert EncounterService.objects.get(pk=plain.pk).quantity == 5
    event = insert(AuditEvent(actor_username="x", action="read", object_type="person"))
    assert AuditEvent.objects.get(pk=event.pk).at is not None


def test_the_card_reads_statements_are_the_orms(own: Society, own_person: Person) -> None:
    from routecare.cards.actions import _CARRIED
    from routecare.cards.keys import _REVOCATION
    from routecare.cards.models import CarriedCard, RevokedSerial
    from routecare.referrals.models import OPEN_STATUSES, Referral
    from routecare.referrals.selectors import _ANY_OPEN

    society, code = own.society.pk, own_person.short_code
    network, issuer = own.society.network_id, uuid.uuid4()
    revocation = RevokedSerial.objects.filter(network_id=network, serial="ab12").order_by("pk")
    assert _REVOCATION.sql(network=network, serial="ab12") == _orm(
        revocation.values_list("reason")[:1]
    )
    carried = CarriedCard.objects.filter(
        person__national_society_id=society, issuer_id=issuer, short_code=code
    ).order_by("pk")
    assert _CARRIED.sql(society=society, issuer=issuer, code=code) == _orm(
        carried.values_list("person_id")[:1]
    )
    open_referrals = Referral.objects.filter(
        to_society_id=society, short_code=code, status__in=OPEN_STATUSES
    )
    assert _ANY_OPEN.sql(society=society, code=code) == _orm(open_referrals.values_list("pk")[:1])
    by_code = Person.objects.filter(national_society_id=society, short_code=code)
    assert selectors._TO_RECORD_BY_CODE.sql(society=society, code=code) == _orm(
        by_code.only("id", "national_society_id").order_by("pk")[:1]
    )
    found = selectors.record_with_code(own.actor(), code)
    assert found is not None
    assert found.pk == own_person.pk
    assert selectors.record_with_code(own.actor(), "ZZZ-ZZZ") is None
