"""A real node (its own process and SQLite file) working offline, then syncing with a real
server (the test's live server): nothing lost, nothing twice, even after a power cut."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from routecare.conftest import Society
from routecare.people.models import Encounter, HealthSummary, Person
from routecare.sync import nodes
from routecare.sync.models import AppliedChange
from routecare.sync.tests.conftest import EnrolNode

pytestmark = pytest.mark.django_db(transaction=True)


WORK = """
from routecare.access import build_actor
from django.contrib.auth.models import User
from routecare.people import actions
user = User.objects.get(username="{username}")
actor = build_actor(user, "{point}", via="web")
for n in range({people}):
    person = actions.register_person(actor, sex="male", age_band="18-59", consent_language="es")
    actions.record_encounter(actor, person, services=[("water", 1), ("first-aid", 1)])
    actions.update_health_summary(actor, person, allergies=["penicillin"])
    print(person.pk, flush=True)
"""


def test_a_node_works_offline_and_its_records_reach_the_server_once(
    enrolled_node: EnrolNode, own: Society, live_server: Any
) -> None:
    node = enrolled_node(own, live_server.url)
    work = node.python(WORK.format(username=own.volunteer.username, point=own.point.pk, people=3))
    out, err = work.communicate(timeout=120)
    assert work.returncode == 0, err
    made = out.split()
    assert len(made) == 3
    assert "changes waiting: 12" in node.run("node", "status").stdout
    assert Person.objects.count() == 0  # nothing reached the server yet
    node.run("node", "sync")
    node.run("node", "sync")  # again: nothing new, nothing twice
    assert sorted(str(pk) for pk in Person.objects.values_list("pk", flat=True)) == sorted(made)
    assert Encounter.objects.count() == 3
    assert all(s.allergies == ["penicillin"] for s in HealthSummary.objects.all())
    assert "changes waiting: 0" in node.run("node", "status").stdout


def test_a_power_cut_mid_transaction_loses_nothing_and_makes_nothing_half(
    enrolled_node: EnrolNode, own: Society, live_server: Any
) -> None:
    node = enrolled_node(own, live_server.url)
    work = node.python(
        WORK.format(username=own.volunteer.username, point=own.point.pk, people=100000)
    )
    assert work.stdout is not None
    for _line in range(5):
        work.stdout.readline()  # at least five people registered
    time.sleep(0.05)
    work.send_signal(signal.SIGKILL)  # the power goes, in the middle of a transaction
    work.wait(timeout=30)
    node.run("node", "sync")
    # Every person the node kept arrived with everything of theirs; none twice.
    kept = node.run(
        "shell", "-c",
        "from routecare.people.models import Person; print(Person.objects.count())",
    ).stdout.split()[-1]  # fmt: skip
    assert Person.objects.count() == int(kept) >= 5
    assert AppliedChange.objects.filter(label="people.person").count() == int(kept)
    for person in Person.objects.all():
        assert person.encounters.count() <= 1
        assert person.consents.count() == 1
    assert "changes waiting: 0" in node.run("node", "status").stdout


def test_a_node_holds_the_people_seen_at_its_point_merges_their_health_and_forgets_erasures(
    enrolled_node: EnrolNode,
    own: Society,
    own_person: Person,
    other_person: Person,
    live_server: Any,
) -> None:
    from routecare.people import actions

    elsewhere = actions.register_person(own.actor(point=own.second_point), sex="male",
                                        age_band="18-59", consent_language="es")  # fmt: skip
    node = enrolled_node(own, live_server.url)
    held = node.says("""
        from routecare.people.models import Person, HealthSummary
        print(sorted(str(p) for p in Person.objects.values_list("pk", flat=True)))
        print(HealthSummary.objects.get().allergies)
    """)  # fmt: skip
    assert held.splitlines() == [str([str(own_person.pk)]), "['penicillin']"]
    assert str(elsewhere.pk) not in held
    assert str(other_person.pk) not in held
    # The same allergies changed on both sides: both additions stay.
    actions.update_health_summary(own.actor(), own_person, allergies=["penicillin", "sulfa"])
    work = node.python(f"""
        from routecare.access import build_actor
        from django.contrib.auth.models import User
        from routecare.people import actions
        from routecare.people.models import Person
        actor = build_actor(User.objects.get(username="{own.volunteer.username}"), "{own.point.pk}")
        person = Person.objects.get()
        actions.update_health_summary(actor, person, allergies=["penicillin", "latex"])
    """)  # fmt: skip
    _out, err = work.communicate(timeout=120)
    assert work.returncode == 0, err
    node.run("node", "sync")
    own_person.health_summary.refresh_from_db()
    assert sorted(own_person.health_summary.allergies) == ["latex", "penicillin", "sulfa"]
    node.run("node", "sync")
    assert node.says("""
        from routecare.people.models import HealthSummary
        print(sorted(HealthSummary.objects.get().allergies))
    """) == "['latex', 'penicillin', 'sulfa']"  # fmt: skip
    # Erased on the server: gone from the node at its next sync, never sent back.
    Person.objects.filter(pk=own_person.pk).delete()
    node.run("node", "sync")
    assert node.says("""
        from routecare.people.models import Person, Encounter
        print(Person.objects.count(), Encounter.objects.count())
    """) == "0 0"  # fmt: skip
    assert not Person.objects.filter(pk=own_person.pk).exists()


ISSUE_OFFLINE = """
from routecare.access import build_actor
from django.contrib.auth.models import User
from routecare.cards.actions import issue_card
from routecare.people import actions
actor = build_actor(User.objects.get(username="{username}"), "{point}", via="web")
person = actions.register_person(actor, sex="female", age_band="18-59", consent_language="es",
                                 consents=["care", "share-network"])
actions.update_health_summary(actor, person, allergies=["penicillin"])
card = issue_card(actor, person)
print(card.node_certificate.kid, card.qr_text, flush=True)
"""


def test_a_card_issued_offline_at_a_node_reads_on_the_server_until_the_node_is_revoked(
    enrolled_node: EnrolNode, own: Society, other: Society, live_server: Any
) -> None:
    from routecare.cards.actions import read_card
    from routecare.cards.format import CardError
    from routecare.cards.keys import ensure_keys
    from routecare.cards.models import Card, NodeCertificate

    ensure_keys(own.society.network)
    node = enrolled_node(own, live_server.url)
    script = ISSUE_OFFLINE.format(username=own.volunteer.username, point=own.point.pk)
    work = node.python(script)
    out, err = work.communicate(timeout=120)
    assert work.returncode == 0, err
    kid, text = out.splitlines()[-1].split(" ", 1)
    certificate = NodeCertificate.objects.get()
    assert kid == certificate.kid  # signed by the node's own key, not the society's
    reading = read_card(other.actor(), text)  # another society of the route reads it
    assert reading.issuer == own.society
    assert reading.summary.allergies == ["penicillin"]
    node.run("node", "sync")  # the link returns: the server holds the card issued offline
    card = Card.objects.get(serial=reading.summary.serial)
    assert (card.node_certificate, card.signing_key, str(card.qr_text)) == (certificate, None, text)
    revoked = nodes.node_by_id(certificate.node_id)
    assert revoked is not None
    nodes.revoke_node(own.actor("focal_point"), revoked)
    certificate.refresh_from_db()
    assert certificate.allowed_serials == [card.serial]  # it reached the server: still valid
    assert read_card(other.actor(), text).summary.serial == card.serial
    work = node.python(script)  # the stolen laptop goes on issuing, offline
    out, err = work.communicate(timeout=120)
    assert work.returncode == 0, err
    with pytest.raises(CardError) as refused:
        read_card(other.actor(), out.splitlines()[-1].split(" ", 1)[1])
    assert refused.value.code == "node_revoked"


SIGN_IN_AT_NODE = """
from django.contrib.auth.models import User
from django.test import Client
user = User.objects.get(username="{username}")
client = Client()
response = client.post("/accounts/sign-in/", {{"username": "{username}", "password": "{password}"}})
print(user.is_active, user.password.split("$")[0] or "-", response.status_code,
      "_auth_user_id" in client.session)
"""


def test_staff_sign_in_at_a_node_with_a_password_set_there_until_deactivated_on_the_server(
    enrolled_node: EnrolNode, own: Society, live_server: Any
) -> None:
    from routecare.orgs.actions import update_staff_member
    from routecare.orgs.models import Membership

    node = enrolled_node(own, live_server.url)
    password = "lajas blancas tent 7"
    sign_in = SIGN_IN_AT_NODE.format(username=own.volunteer.username, password=password)
    # The staff member arrived without a password (the server keeps its hashes).
    assert node.says(sign_in).split() == ["True", "-", "200", "False"]

    def staff_password(username: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own command
            [str(Path(sys.executable).parent / "routecare"), "node-staff-password", username,
             "--stdin"], input=password + "\n", env=node.env, cwd=node.directory,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    assert staff_password(own.volunteer.username).returncode == 0
    assert node.says(sign_in).split() == ["True", "argon2", "302", "True"]
    refused = staff_password(own.focal_point.username)
    assert refused.returncode != 0
    assert "sign in on the server" in refused.stderr
    # A sync (the user row comes down again) keeps the password set at the node.
    node.run("node", "sync")
    assert node.says(sign_in).split() == ["True", "argon2", "302", "True"]
    # It never went up: the server's password is the server's own.
    own.volunteer.refresh_from_db()
    assert not own.volunteer.check_password(password)
    # Deactivated on the server: refused at the node after its next sync.
    update_staff_member(
        own.actor("focal_point"), Membership.objects.get(user=own.volunteer),
        role="volunteer", active=False, service_points=[],
    )  # fmt: skip
    node.run("node", "sync")
    assert node.says(sign_in).split() == ["False", "argon2", "200", "False"]


def test_people_registered_offline_keep_the_codes_reserved_for_their_node(
    enrolled_node: EnrolNode, own: Society, live_server: Any
) -> None:
    from routecare.people.models import ReservedShortCode
    from routecare.sync.models import Node

    node = enrolled_node(own, live_server.url)
    work = node.python(WORK.format(username=own.volunteer.username, point=own.point.pk, people=3))
    out, err = work.communicate(timeout=120)
    assert work.returncode == 0, err
    node.run("node", "sync")
    [enrolled] = Node.objects.all()
    people = Person.objects.filter(pk__in=out.split())
    assert people.count() == 3
    codes = set(people.values_list("short_code", flat=True))
    reserved = ReservedShortCode.objects.filter(node_id=enrolled.pk, code__in=codes)
    assert reserved.count() == 3
    assert all(code.used for code in reserved)  # counted as used at the server's next pull
    left = node.says("""
        from routecare.people.models import ReservedShortCode
        print(ReservedShortCode.objects.filter(used=False).count())
    """)  # fmt: skip
    assert left == "500"  # topped up again
