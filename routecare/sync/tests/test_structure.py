"""The sync app knows no capability app by name: each declares what it syncs in its own
``sync.py``; only the ground floor (core, access, audit, orgs) is imported."""

from __future__ import annotations

import re
from pathlib import Path

from routecare.sync import registry

GROUND_FLOOR = {"core", "access", "audit", "orgs", "sync"}


def test_it_imports_only_the_ground_floor() -> None:
    package = Path(registry.__file__).parent
    for source in package.rglob("*.py"):
        if "tests" in source.parts or "migrations" in source.parts:
            continue
        text = source.read_text(encoding="utf-8")
        imported = set(re.findall(r"(?:from|import) routecare\.(\w+)", text))
        assert imported <= GROUND_FLOOR, f"{source.name} imports {imported - GROUND_FLOOR}"
        assert '"people.' not in source.read_text(encoding="utf-8").replace(
            '"people.person": stable on the wire', ""
        ), source.name


def test_each_app_declared_what_it_syncs() -> None:
    labels = {syncable.label for syncable in registry.all_syncables()}
    assert {"people.person", "people.encounter", "people.health_summary"} <= labels
    assert {"orgs.servicepoint", "auth.user"} <= {r.label for r in registry.references()}
