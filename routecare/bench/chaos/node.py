"""A field node as its own process: ``routecare`` commands and scripts on its own SQLite
file, with its own keys. Used by the chaos test and the end-to-end tests."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any


def routecare_command() -> str:
    return str(Path(sys.executable).parent / "routecare")


class FieldNode:
    def __init__(self, directory: Path, name: str = "node", clock_skew_seconds: int = 0) -> None:
        self.directory = directory
        self.name = name
        self.clock_skew_seconds = clock_skew_seconds
        directory.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{directory / 'node.sqlite3'}",
            "ROUTECARE_NODE": "true",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "ROUTECARE_FIELD_KEYS": "n1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "ROUTECARE_TASKS": "immediate",
            "DJANGO_SETTINGS_MODULE": "routecare.settings",
            "LOG_LEVEL": "WARNING",
            # Its own data directory (its HTTPS key and certificate), not the checkout's.
            "ROUTECARE_LOCAL_DIR": str(directory / "local"),
        }
        for name_ in ("SECRET_KEY_FILE", "ROUTECARE_FIELD_KEYS_FILE"):
            self.env.pop(name_, None)

    def migrate_like(self, template: FieldNode | None) -> None:
        """Migrate, or copy a migrated node's empty database (a migration takes a while on a
        busy machine). The copy shares the template's field keys: it holds its rows."""
        if template is None:
            self.run("migrate", "--no-input")
            return
        shutil.copyfile(template.directory / "node.sqlite3", self.directory / "node.sqlite3")
        self.env["ROUTECARE_FIELD_KEYS"] = template.env["ROUTECARE_FIELD_KEYS"]

    def run(
        self, *args: str, check: bool = True, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(  # noqa: S603 - our own command, our own arguments
            [routecare_command(), *args], env=self.env, cwd=self.directory,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(
                f"{self.name}: routecare {' '.join(args)}: {done.stdout}\n{done.stderr}"
            )
        return done

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603 - our own command
            [routecare_command(), *args], env=self.env, cwd=self.directory, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip

    def python(self, code: str, name: str = "work.py") -> subprocess.Popen[str]:
        """A script run as this node; its clock runs ``clock_skew_seconds`` off."""
        script = self.directory / name
        skew = textwrap.dedent(f"""
            import datetime as _dt
            import django.utils.timezone as _tz
            _real_now = _tz.now
            _tz.now = lambda: _real_now() + _dt.timedelta(seconds={self.clock_skew_seconds})
        """)  # fmt: skip
        script.write_text(
            "import django\ndjango.setup()\n" + skew + textwrap.dedent(code), encoding="utf-8"
        )
        return subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, str(script)], env=self.env, cwd=self.directory, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip

    def says(self, code: str, timeout: float = 180) -> str:
        done = self.run("shell", "--no-imports", "-c", textwrap.dedent(code), timeout=timeout)
        return done.stdout.strip()

    def records(self) -> dict[str, dict[str, Any]]:
        """Every synced record on this node, serialised as it travels: {label:id: values}."""
        records: dict[str, dict[str, Any]] = json.loads(self.says(DUMP_RECORDS))
        return records


DUMP_RECORDS = """
import json
from routecare.sync import registry
out = {}
for syncable in registry.all_syncables():
    for record in syncable.model._default_manager.all():
        out[f"{syncable.label}:{record.pk}"] = syncable.serialize(record)
print(json.dumps(out, default=str, sort_keys=True))
"""
