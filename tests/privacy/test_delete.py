"""PIPL right of deletion: POST /me/delete removes the person, keeps the ledger's amounts."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from carbonpoints.earn.models import ActionRecord, ConsentChange, IdentityLink
from tests.earn.factories import event

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-secret-42"


def _signed_up(api_client, email="wang.fang@example.cn") -> APIClient:
    response = api_client.post(
        "/_allauth/app/v1/auth/signup", {"email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    app = APIClient(HTTP_X_SESSION_TOKEN=response.json()["meta"]["session_token"])
    assert app.get("/api/v1/me/account").status_code == 200
    return app


def test_deleting_needs_the_password_again(api_client):
    app = _signed_up(api_client)

    wrong = app.post("/api/v1/me/delete", {"password": "not-it"}, format="json")
    missing = app.post("/api/v1/me/delete", {}, format="json")

    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "password_incorrect"
    assert missing.status_code == 400 and "password" in missing.json()["error"]["details"]
    assert app.get("/api/v1/me/account").status_code == 200


def test_deletion_removes_pii_ends_sessions_and_keeps_the_ledger_whole(
    api_client, metro, settings, django_capture_on_commit_callbacks
):
    app = _signed_up(api_client)
    app.post(
        "/api/v1/me/links",
        {"partner_id": metro.partner.pk, "subject": "D-77", "consent": True},
        format="json",
    )
    metro.send(event(external_id="ride", subject="D-77"))
    before = app.get("/api/v1/me/account").json()
    assert before["reduction_g"] == 467

    with django_capture_on_commit_callbacks(execute=True):
        response = app.post("/api/v1/me/delete", {"password": PASSWORD}, format="json")

    assert response.status_code == 204, response.content
    assert app.get("/api/v1/me/account").status_code == 401  # the app's session token ended
    login = api_client.post(
        "/_allauth/app/v1/auth/login",
        {"email": "wang.fang@example.cn", "password": PASSWORD},
        format="json",
    )
    assert login.status_code == 400  # sign-in stops working
    user = User.objects.get()
    assert (user.email, user.display_name, user.is_active, user.has_usable_password()) == (
        f"deleted-{user.pk}@deleted.invalid",
        "",
        False,
        False,
    )
    link = IdentityLink.objects.get()
    assert link.revoked_at is not None and link.subject == f"deleted-{link.pk}"
    assert "D-77" not in link.consent_wording
    assert not ConsentChange.objects.filter(wording__contains="D-77").exists()
    record = ActionRecord.objects.get()
    assert record.subject == link.subject and "D-77" not in record.raw and record.credited_g == 467
    call_command("ledger_check")  # exits 1 (SystemExit) on a balance that does not re-derive

    metro.send(
        event(external_id="later", subject="D-77")
    )  # the partner keeps sending: nobody is credited
    assert metro.record("later")["reason"] == "not_linked"


def test_a_browser_session_ends_too(client, citizen):
    client.force_login(citizen)
    assert client.get("/me/").status_code == 200
    from carbonpoints.privacy.services import account_delete

    account_delete(user=citizen, password="correct-horse-battery")

    assert client.get("/me/").status_code == 302
