from django.test import Client


def test_healthz_reports_ok_with_a_database_check(db: None) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
