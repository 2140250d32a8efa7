"""Real field nodes for the end-to-end tests: ``routecare`` processes on their own SQLite
files (``bench.chaos.node.FieldNode``, the chaos test's own).

A node's database is migrated once per test session and copied for each node (a migration
takes seconds; a copy none). These tests run in the SQLite pass of ``make test`` only: a node
is SQLite whatever the server is, and the server on PostgreSQL meets real nodes in the chaos
test (gunicorn + PostgreSQL, in the same pass) and every push and pull in-process in both
passes (``test_push*.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from routecare.bench.chaos.node import FieldNode
from routecare.conftest import Society
from routecare.sync import nodes

EnrolNode = Callable[[Society, str], FieldNode]


@pytest.fixture(scope="session")
def node_template(tmp_path_factory: pytest.TempPathFactory) -> FieldNode:
    """A migrated, empty node database; the PostgreSQL pass skips the real-node tests."""
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("real field nodes run in the SQLite pass (see sync/tests/conftest.py)")
    template = FieldNode(tmp_path_factory.mktemp("node-template"), name="template")
    template.run("migrate", "--no-input")
    return template


@pytest.fixture
def enrolled_node(node_template: FieldNode, tmp_path: Path) -> EnrolNode:
    """Make a node of ``own``'s first point, enrolled with ``server``, its first pull done."""

    def enrol(own: Society, server: str) -> FieldNode:
        node = FieldNode(tmp_path / "node", name="lajas-blancas")
        node.migrate_like(node_template)
        code = nodes.create_enrolment_code(own.actor("focal_point"), own.point)
        node.run("node", "enroll", server, code, "--name", "Lajas Blancas laptop")
        node.run("node", "sync")  # the first pull: points, routes, staff, people seen here
        return node

    return enrol
