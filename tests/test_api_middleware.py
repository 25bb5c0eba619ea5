"""App and partner calls pass only the middleware they need; everything else passes it all."""

import pytest
from rest_framework.test import APIClient

from tests.factories import CitizenFactory
from tests.security.test_authorization_matrix import session_token

pytestmark = pytest.mark.django_db


def test_an_app_call_keeps_its_security_headers_and_language_but_no_page_policy():
    client = APIClient(
        HTTP_X_SESSION_TOKEN=session_token(CitizenFactory()), HTTP_ACCEPT_LANGUAGE="en"
    )

    response = client.get("/api/v1/me/account", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Language"] == "en"
    assert "Content-Security-Policy" not in response and "sessionid" not in response.cookies
    refused = APIClient(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/me/account")
    assert refused.status_code == 401 and refused.json()["error"]["message"].startswith(
        "Authentication"
    )


def test_a_call_with_a_browser_session_or_asking_for_html_passes_every_middleware(client):
    client.force_login(CitizenFactory())
    assert client.get("/api/v1/me/account").status_code == 200
    assert "Content-Security-Policy" in client.get("/api/v1/me/account")
    assert "Content-Security-Policy" in APIClient().get(
        "/api/v1/scenarios", HTTP_ACCEPT="text/html"
    )
