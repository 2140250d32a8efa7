"""Settings refuse values that would expose the checkout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _load_settings(static_root: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STATIC_ROOT": static_root}
    return subprocess.run(
        [sys.executable, "-c", "import routecare.settings"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("value", [".", "static"])
def test_a_relative_static_root_is_refused(value: str) -> None:
    loaded = _load_settings(value)
    assert loaded.returncode != 0
    assert "STATIC_ROOT must be an absolute path" in loaded.stderr


@pytest.mark.parametrize("value", ["", "/srv/routecare/static"])
def test_an_empty_or_absolute_static_root_is_taken(value: str) -> None:
    assert _load_settings(value).returncode == 0


def _load_with(**values: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **values}
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; import routecare.settings as s; "
         "print(s.ROOT_URLCONF)"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_bench_urls_are_served_only_when_asked_and_never_in_production() -> None:
    assert _load_with().stdout.strip() == "routecare.urls"
    assert _load_with(ROUTECARE_BENCH_URLS="true").stdout.strip() == "routecare.bench.urls"
    refused = _load_with(
        ROUTECARE_BENCH_URLS="true",
        ROUTECARE_PRODUCTION="true",
        SECRET_KEY="a production secret key of the test",
        ROUTECARE_FIELD_KEYS="k1:" + "A" * 43 + "=",
    )
    assert refused.returncode != 0
    assert "ROUTECARE_BENCH_URLS is for the bench" in refused.stderr
