"""Security headers on representative pages: a content security policy without inline
scripts, no caching of staff pages, framing refused, HSTS over TLS."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from routecare.conftest import Society, api_client, sign_in_client

ROOT = Path(__file__).resolve().parents[2]


def _script_src(response: Any) -> str:
    policy = str(response["Content-Security-Policy"])
    return next(part for part in policy.split("; ") if part.startswith("script-src"))


@pytest.mark.parametrize(
    "path", ["/es/services/", "/fa/feedback/?country=HN", "/accounts/sign-in/", "/healthz"]
)
def test_public_pages_carry_a_policy_without_inline_scripts(own: Society, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert _script_src(response) == "script-src 'self'"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "object-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=(self)" in response["Permissions-Policy"]


def test_staff_pages_and_the_api_are_never_cached(own: Society) -> None:
    staff = sign_in_client(own.volunteer, own.point)
    for path in ("/", "/people/find/", "/feedback/record/", "/faq/"):
        response = staff.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "no-store", path
        assert _script_src(response) == "script-src 'self'", path
    api = api_client(own.volunteer, own.point).get("/api/v1/faq")
    assert api["Cache-Control"] == "no-store"


def test_hsts_is_sent_over_tls_in_production_settings(own: Society, settings: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    assert "max-age=31536000" in Client().get("/healthz", secure=True)["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in Client().get("/healthz")


def test_no_template_holds_an_inline_script() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handlers = re.compile(r"\son[a-z]+=\"", re.IGNORECASE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("routecare/**/templates/**/*.html")
        if inline.search(path.read_text()) or handlers.search(path.read_text())
    ]
    assert offenders == []
