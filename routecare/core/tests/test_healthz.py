from typing import Any

from django.test import Client


def test_healthz_reports_ok_with_a_database_check(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_static_files_are_served_without_collectstatic(client: Client, settings: Any) -> None:
    """`make run` serves the stylesheet, the scripts and the vendored libraries itself."""
    settings.WHITENOISE_USE_FINDERS = True  # as outside tests (conftest turns it off)
    for path in (
        "/static/routecare/routecare.css",
        "/static/indicators/dashboard.js",
        "/static/vendor/chart.umd.min.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        b"".join(response.streaming_content)  # type: ignore[attr-defined]
