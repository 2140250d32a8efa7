"""`routecare card-keys` and `routecare card encode|decode`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import base45
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from routecare.audit.models import AuditEvent
from routecare.cards import actions
from routecare.cards.models import CardKey, RevokedSerial, SigningKey
from routecare.conftest import Society
from routecare.orgs.models import Network
from routecare.people.models import Person

SUMMARY = {
    "short_code": "RC-7K3M-9QE",
    "issued_at_point": "hn-1",
    "consents": ["care", "share-network"],
    "sex": "male",
    "age_band": "18-59",
    "allergies": ["sulfa drugs"],
}


def _run(*args: str, stdin: str | bytes = "") -> str:
    out = io.StringIO()
    old_stdin = sys.stdin
    raw = stdin.encode() if isinstance(stdin, str) else stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    finally:
        sys.stdin = old_stdin
    return out.getvalue()


def test_init_makes_missing_keys_once(own: Society, other: Society) -> None:
    listing = _run("card-keys", "init")
    assert "card key" in listing
    assert CardKey.objects.count() == 1
    assert SigningKey.objects.count() == 2
    _run("card-keys", "init")
    assert (CardKey.objects.count(), SigningKey.objects.count()) == (1, 2)
    assert Network.objects.get().card_number == 1
    assert AuditEvent.objects.filter(object_type="card_key", via="command").count() == 1


def test_rotate_and_retire(own: Society, keys: None) -> None:
    first = CardKey.objects.get()
    with pytest.raises(CommandError, match="only card key"):
        _run("card-keys", "retire", first.kid, "--yes")
    _run("card-keys", "rotate-card-key", "americas")
    with pytest.raises(CommandError, match="--yes"):
        _run("card-keys", "retire", first.kid)
    _run("card-keys", "retire", first.kid, "--yes")
    first.refresh_from_db()
    assert first.retired_at is not None
    with pytest.raises(CommandError, match="already retired"):
        _run("card-keys", "retire", first.kid, "--yes")
    _run("card-keys", "rotate-signing-key", "hn")
    assert SigningKey.objects.filter(national_society=own.society).count() == 2
    with pytest.raises(CommandError, match="no network"):
        _run("card-keys", "rotate-card-key", "nowhere")
    with pytest.raises(CommandError, match="no National Society"):
        _run("card-keys", "rotate-signing-key", "zz")
    with pytest.raises(CommandError, match="no key"):
        _run("card-keys", "retire", "00000000", "--yes")


def test_revoke_by_serial(own: Society, carrier: Person) -> None:
    card = actions.issue_card(own.actor(), carrier)
    _run("card-keys", "revoke", card.serial, "--reason", "stolen")
    assert RevokedSerial.objects.get(serial=card.serial).reason == "stolen"
    with pytest.raises(CommandError, match="no card"):
        _run("card-keys", "revoke", "0000000000000000")


def test_encode_then_decode_round_trips(own: Society, keys: None) -> None:
    text = _run("card", "encode", "--society", "HN", stdin=json.dumps(SUMMARY))
    assert text.startswith("RC1:")
    # Fed as it is to a QR generator: a trailing new line would force byte mode.
    assert text == text.strip()
    decoded = json.loads(_run("card", "decode", stdin=text))
    assert decoded["allergies"] == ["sulfa drugs"]
    assert decoded["short_code"] == SUMMARY["short_code"]


@pytest.mark.parametrize(
    ("stdin", "society", "message"),
    [
        ("not json", "HN", "not JSON"),
        ("[]", "HN", "JSON object"),
        (json.dumps({**SUMMARY, "sex": "robot"}), "HN", "sex"),
        (json.dumps({**SUMMARY, "short_code": "RC-0000-001"}), "HN", "short_code"),
        (json.dumps(SUMMARY), "ZZ", "no National Society"),
    ],
)
def test_encode_refuses_bad_input(
    own: Society, keys: None, stdin: str, society: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        _run("card", "encode", "--society", society, stdin=stdin)


def test_encode_needs_the_issuing_society(own: Society, keys: None) -> None:
    with pytest.raises(CommandError, match="--society"):
        _run("card", "encode", stdin=json.dumps(SUMMARY))


def test_decode_fails_with_the_reason(own: Society, keys: None) -> None:
    with pytest.raises(CommandError, match="not_routecare"):
        _run("card", "decode", stdin="hello")
    with pytest.raises(CommandError, match="not UTF-8"):
        _run("card", "decode", stdin=b"RC1:\xff\xfe")


def test_the_console_script_refuses_a_header_with_a_huge_network_number() -> None:
    # Regression: a header [1, <a 4,800-digit integer>, kid] anyone can print made every
    # reader fail on Python's integer-to-text limit (a traceback here, 500 on the web).
    header = bytes([0x83, 0x01, 0xC2, 0x59, 0x07, 0xD0]) + b"\x01" * 2000 + b"\x44abcd"
    text = "RC1:" + base45.b45encode(header + bytes(40)).decode()
    done = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).parent / "routecare"), "card", "decode"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "damaged" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_console_script_exits_non_zero_on_a_bad_card() -> None:
    # Refused before any key is looked up, so no database is needed.
    done = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).parent / "routecare"), "card", "decode"],
        input="RC1:not a card",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "damaged" in done.stderr
