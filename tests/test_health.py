import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@pytest.mark.redis
def test_health_checks_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_health_reports_an_unreachable_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")


@override_settings(REDIS_URL="")
def test_health_without_redis_configured(client):
    assert client.get("/healthz").json()["checks"]["redis"] == "not_configured"
