"""The bounded chaos test (``make chaos`` runs the full one): real nodes behind a faulty link
against a real server (gunicorn, PostgreSQL): 0 lost, 0 duplicated, every same-field conflict
listed, nothing else different. Runs once, in the SQLite pass of ``make test`` (the server
gets its own PostgreSQL database either way)."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from routecare.bench.chaos.run import ChaosOptions, run

SERVER = "postgres://root@127.0.0.1:5432/"


def _postgres_reachable() -> bool:
    try:
        with psycopg.connect(host="127.0.0.1", user="root", dbname="postgres", connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.mark.django_db
def test_nodes_behind_a_faulty_link_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    if connection.vendor == "postgresql":
        pytest.skip("runs once per `make test`, in the SQLite pass")
    if not _postgres_reachable():
        if os.environ.get("ROUTECARE_REQUIRE_POSTGRES"):
            pytest.fail("the chaos test needs PostgreSQL at 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    name = f"routecare_bench_chaos_{os.getpid()}"
    try:
        result = run(
            ChaosOptions(
                database_url=SERVER + name, nodes=3, people_per_node=4, shared_people=2,
                throughput_people=0, down_seconds=2.0, timeout=240,
            ),
            tmp_path,
        )  # fmt: skip
    finally:
        with psycopg.connect(host="127.0.0.1", user="root", dbname="postgres",
                             autocommit=True) as db:  # fmt: skip
            db.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    assert result.problems == []
    figures = result.figures
    assert figures["conflicts_listed"] == figures["conflicts_expected"] == 2
    assert figures["records_compared"] > 0
    assert (
        figures["cut_after_server"] + figures["cut_before_server"] + figures["replayed_requests"]
        > 0
    )
