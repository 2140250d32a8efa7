import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from routecare.conftest import Society, register
from routecare.core.tests.test_crypto import KEY_A, KEY_B


def test_rotate_keys_command_is_a_dry_run_unless_applied(own: Society) -> None:
    with override_settings(ROUTECARE_FIELD_KEYS=KEY_A):
        register(own, alias="AB")
    with override_settings(ROUTECARE_FIELD_KEYS=f"{KEY_B},{KEY_A}"):
        dry = StringIO()
        call_command("rotate-keys", stdout=dry)
        assert "Dry run: nothing changed." in dry.getvalue()
        assert "a: 1" in dry.getvalue()
        applied = StringIO()
        call_command("rotate-keys", "--apply", stdout=applied)
        assert "re-encrypted 1" in applied.getvalue()
        after = StringIO()
        call_command("rotate-keys", stdout=after)
        assert "people_person.alias" in after.getvalue()
        assert "b: 1" in after.getvalue()


def test_routecare_console_script_reaches_every_command() -> None:
    script = Path(sys.executable).with_name("routecare")
    result = subprocess.run(  # noqa: S603 - our own console script
        [str(script), "help"], capture_output=True, text=True, check=True, timeout=60
    )
    for command in ("demo", "synth", "rotate-keys", "migrate", "bench"):
        assert command in result.stdout


def test_wsgi_application_loads() -> None:
    from routecare.wsgi import application

    assert callable(application)


def test_healthz_reports_an_unreachable_database(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    class Unreachable:
        def cursor(self) -> None:
            raise RuntimeError("database down")

    monkeypatch.setattr("routecare.core.views.connection", Unreachable())
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
