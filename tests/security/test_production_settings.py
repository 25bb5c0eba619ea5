"""Production settings: no start without a strong SECRET_KEY, ``check --deploy`` clean, a CSP
every page lives with, and no personal data in logs."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys

import pytest
from django.db import IntegrityError, transaction

from carbonpoints.log_filters import PiiFilter, redact
from carbonpoints.secret_key import secret_key_is_strong
from tests.conftest import ROOT
from tests.factories import UserFactory

STRONG_KEY = "k3y-" + "Zq8vR2mX7pL4tN9wB6cF1hJ5gD0sA3eY" * 2


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # only what the test sets decides: other tests' imports (the benchmarks' helpers) set some of these
    settings_read = (
        "SECRET_KEY",
        "DEBUG",
        "SECURE_",
        "SESSION_COOKIE_",
        "CSRF_COOKIE_",
        "TRUST_X_FORWARDED",
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(settings_read)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "short",
        "django-insecure-" + "x1y2z3" * 10,
        "dev-only-insecure-key-change-me-in-production",
        "a" * 80,
    ],
)
def test_production_refuses_to_start_on_a_missing_or_weak_secret_key(key):
    env = {"DEBUG": "false"} | ({} if key is None else {"SECRET_KEY": key})
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is missing or weak and DEBUG is off" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="false", SECRET_KEY=STRONG_KEY
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_still_starts_without_a_secret_key():
    result = _manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_a_strong_key_is_long_varied_and_not_a_known_dev_key():
    assert secret_key_is_strong(STRONG_KEY)
    assert not secret_key_is_strong(STRONG_KEY[:49])
    assert not secret_key_is_strong("ab" * 40)


def test_https_is_enforced_behind_the_proxy(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    from django.test import Client

    plain = Client().get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    proxied = Client().get("/accounts/login/", headers={"x-forwarded-proto": "https"})
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"].startswith("max-age=31536000")
    assert Client().get("/healthz").status_code in (200, 503)  # the probe is not redirected


# --- Content Security Policy -------------------------------------------------------------------

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _assert_page_fits_its_csp(response) -> None:
    """Every inline script carries this response's nonce; no inline event handler is used."""
    assert response.status_code == 200, response.status_code
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    nonces = set(re.findall(r"'nonce-([^']+)'", policy))
    html = response.content.decode()
    for attributes in _SCRIPT.findall(html):
        if "src=" in attributes or 'type="application/json"' in attributes:
            continue
        found = re.search(r'nonce="([^"]+)"', attributes)
        assert found and found.group(1) in nonces, f"inline <script{attributes}> without the nonce"
    assert not _HANDLER.search(html), "an inline on…= handler (blocked by the CSP)"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/api/v1/docs/",
        "/api/v1/redoc/",
        "/_allauth/openapi.html",
        "/admin/login/",
    ],
)
def test_public_pages_fit_the_csp(client, path):
    _assert_page_fits_its_csp(client.get(path))


@pytest.mark.django_db
def test_the_swagger_ui_script_is_served_from_our_origin(client):
    page = client.get("/api/v1/docs/").content.decode()
    script = re.search(r'<script src="(/api/v1/docs/\?script=[^"]*)"', page)
    assert script, page
    js = client.get(script.group(1).replace("&amp;", "&"))
    assert js.status_code == 200 and "SwaggerUIBundle" in js.content.decode()
    sidecar = client.get("/_allauth/openapi.html").content.decode()
    assert "cdn." not in sidecar and "/static/drf_spectacular_sidecar/redoc/" in sidecar


@pytest.mark.django_db
def test_signed_in_pages_fit_the_csp(client, admin_user):
    from tests.spend.factories import StaffFactory

    citizen = UserFactory()
    from accounts.services import carbon_account_open

    carbon_account_open(user=citizen)
    client.force_login(citizen)
    for path in ("/me/", "/me/wallet/"):
        _assert_page_fits_its_csp(client.get(path))
    client.force_login(StaffFactory().user)
    for path in ("/merchant/", "/merchant/scenarios/", "/merchant/staff/", "/merchant/offsets/"):
        _assert_page_fits_its_csp(client.get(path))
    client.force_login(admin_user)
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/"):
        _assert_page_fits_its_csp(client.get(path))


# --- personal data out of logs -----------------------------------------------------------------


def test_redact_removes_emails_and_member_ids():
    text = redact(
        "Not Found: /api/v1/x?email=li.wei%40example.cn&subject=M-778 "
        "{'subject': 'M-12345', 'email': 'li.wei@example.cn'} "
        'DETAIL:  Key (partner_id, subject)=(3, M-12345) already exists. subject="bus-99"'
    )
    assert "li.wei" not in text and "M-12345" not in text and "M-778" not in text
    assert "bus-99" not in text
    assert "Key (partner_id, subject)=([redacted])" in text


@pytest.mark.django_db
def test_logs_carry_no_email_even_in_a_database_traceback():
    """A real IntegrityError names the duplicate e-mail; the configured handler does not print it."""
    UserFactory(email="zhang.san@example.cn")
    handler = next(
        h
        for h in logging.getLogger("django").handlers
        if any(isinstance(f, PiiFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        try:
            with transaction.atomic():
                UserFactory(email="zhang.san@example.cn")
        except IntegrityError:
            logging.getLogger("django.request").exception(
                "signing up %s failed", "zhang.san@example.cn"
            )
    finally:
        handler.setStream(previous)
    written = stream.getvalue()
    assert "signing up [redacted] failed" in written and "IntegrityError" in written
    assert "zhang.san" not in written


def test_every_root_handler_filters_personal_data():
    root = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    assert root and all(any(isinstance(f, PiiFilter) for f in h.filters) for h in root)
