"""Every page people use, in a real headless Chromium, at the sizes they use it, in both languages.

The demo city is loaded, and its people open every page: the citizen's portal at phone sizes
(360×740, 390×844), the merchant console at a tablet at the till (768×1024) and a desktop
(1280×800), each in zh-hans and in en. On every page:

- nothing is wider than the screen (``scrollWidth ≤ innerWidth``);
- in zh-hans, no code (snake_case) and no English word shows, but for the checked exceptions
  below (units, file formats…); what is not words at all is marked ``translate="no"`` (e-mail
  addresses, nicknames, codes) and left out;
- messages carry their level's style (an error reads as an error);
- axe-core, run in the page, finds no serious or critical violation (where axe-core is installed:
  ``npm install --prefix var/axe axe-core@4``, as .ci/run does; elsewhere that part is skipped).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from tests.spend.test_console_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONES = [(360, 740), (390, 844)]
TABLET_AND_DESKTOP = [(768, 1024), (1280, 800)]
PORTAL = [
    "/",
    "/me/",
    "/me/actions/",
    "/me/points/",
    "/me/links/",
    "/me/claims/",
    "/me/redemptions/",
    "/me/certificates/",
    "/me/evaluation/",
    "/me/notifications/",
    "/me/account/",
    "/me/wallet/",
    "/accounts/password/change/",
    "/accounts/email/",
]
CONSOLE = [
    "/merchant/",
    "/merchant/scenarios/",
    "/merchant/settlements/",
    "/merchant/offsets/",
    "/merchant/staff/",
]

# Latin words a Chinese page may show: units, formats and names that are written so in Chinese too.
NOT_ENGLISH = {
    "CO2e",
    "CO2",
    "g",
    "kg",
    "t",
    "km",
    "kWh",
    "L",
    "QR",
    "CSV",
    "PDF",
    "JSON",
    "ZIP",
    "API",
    "App",
    "JPEG",
    "PNG",
    "WebP",
    "YYYY",
    "MM",
    "ID",
    "Email",  # allauth's own Chinese writes it so (“Email地址”)
}
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
AXE = Path(os.environ.get("AXE_CORE_JS", "var/axe/node_modules/axe-core/axe.min.js"))

VISIBLE_WORDS = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('[translate=no], code, script, style, noscript, [hidden]').forEach(el => el.remove());
  document.body.appendChild(body); body.style.position = 'absolute'; body.style.left = '-99999px';
  const text = body.innerText; body.remove(); return text;
}"""
MESSAGES = """() => [...document.querySelectorAll('ul.messages li')].map(li => ({
  text: li.innerText, tags: li.className, role: li.getAttribute('role'),
  background: getComputedStyle(li).backgroundColor, border: getComputedStyle(li).borderLeftColor}))"""
ERROR_BACKGROUND, ERROR_BORDER = "rgb(251, 234, 234)", "rgb(179, 38, 30)"


def _migrations_data() -> None:
    """What the data migrations hold (levels, badges, the methodology catalogue), back after an
    earlier transactional test's flush."""
    from django.apps import apps

    from accounts.models import Level
    from carbonpoints.evaluation.models import Badge
    from carbonpoints.methodologies.models import Methodology

    def migration(name):
        return importlib.import_module(name)

    if not Level.objects.exists():
        migration("accounts.migrations.0005_levels_as_data").seed_levels(apps, None)
    if not Badge.objects.exists():
        migration("carbonpoints.evaluation.migrations.0002_badges_v1").seed(apps, None)
    if not Methodology.objects.exists():
        migration("carbonpoints.methodologies.migrations.0002_catalogue_v1").forward(apps, None)
        Methodology.objects.update(
            status=Methodology.Status.IN_FORCE
        )  # as 0003_approval_workflow leaves it
        migration(
            "carbonpoints.methodologies.migrations.0004_methodology_self_reported_factor"
        ).recycling_self_reported(apps, None)


@pytest.fixture
def city(monkeypatch) -> dict[str, str]:
    """The demo city, small; its people's session cookies (signed in before the browser opens)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    _migrations_data()
    out = io.StringIO()
    call_command("seed_demo", "--citizens", "6", "--json", stdout=out)
    logins = json.loads(out.getvalue())["logins"]
    sessions = {}
    for role in ("citizen", "merchant", "cashier", "operator"):
        client = Client()
        client.force_login(User.objects.get(email=logins[role]))
        sessions[role] = client.cookies["sessionid"].value
    return sessions


def _problems(page, url: str, path: str, sizes, language: str) -> list[str]:
    problems = []
    page.set_viewport_size({"width": sizes[0][0], "height": sizes[0][1]})
    response = page.goto(url + path)
    if response is None or response.status >= 400:
        return [f"{path}: HTTP {response.status if response else '?'}"]
    for width, height in sizes:
        page.set_viewport_size({"width": width, "height": height})
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > page.evaluate("window.innerWidth"):
            problems.append(f"{path} at {width}×{height}: {scroll} px wide")
    if language == "zh-hans":
        text = page.evaluate(VISIBLE_WORDS)
        text = re.sub(r"\S+@\S+", "", text)
        codes = sorted(set(SNAKE_CASE.findall(text)))
        english = sorted(
            {w for w in WORD.findall(text) if w not in NOT_ENGLISH and not re.search(r"\d", w)}
        )
        if codes:
            problems.append(f"{path}: codes {codes}")
        if english:
            problems.append(f"{path}: English {english}")
    for message in page.evaluate(MESSAGES):
        if "error" in message["tags"] and (message["background"], message["border"]) != (
            ERROR_BACKGROUND,
            ERROR_BORDER,
        ):
            problems.append(f"{path}: the error {message['text']!r} is not styled as one")
    if AXE.exists():
        page.evaluate(AXE.read_text())
        found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))""")
        problems += [f"{path} ({language}): axe {violation}" for violation in found]
    return problems


def _visit(live_server, session: str, language: str, pages, sizes, then=None) -> list[str]:
    from playwright.sync_api import sync_playwright

    if os.environ.get("CI") == "true" and not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: .ci/run installs it")
    url = live_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(bypass_csp=True)  # axe-core is injected into the page
            context.add_cookies(
                [
                    {"name": "sessionid", "value": session, "url": url},
                    {"name": "django_language", "value": language, "url": url},
                ]
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            problems = [p for path in pages for p in _problems(page, url, path, sizes, language)]
            if then is not None:
                problems += then(page, url)
            return problems
        finally:
            browser.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_citizens_pages_fit_a_phone_and_speak_one_language(live_server, city, language):
    problems = _visit(live_server, city["citizen"], language, PORTAL, PHONES)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_console_fits_the_till_and_a_desktop_and_its_errors_read_as_errors(
    live_server, city, language
):
    def wrong_voucher(page, url):
        page.goto(f"{url}/merchant/")
        page.fill("#id_code", "NOSUCHCODE")
        page.click("#consume-button")
        page.wait_for_selector("ul.messages li")
        [message] = page.evaluate(MESSAGES)
        return (
            []
            if (message["tags"], message["role"], message["background"])
            == ("error", "alert", ERROR_BACKGROUND)
            else [f"the till's refusal is not an error: {message}"]
        )

    problems = _visit(
        live_server, city["merchant"], language, CONSOLE, TABLET_AND_DESKTOP, then=wrong_voucher
    )
    problems += _visit(
        live_server,
        city["cashier"],
        language,
        ["/merchant/", "/merchant/scenarios/"],
        TABLET_AND_DESKTOP,
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_clearing_statement_fits_a_phone_and_speaks_one_language(live_server, city, language):
    from django.utils import timezone

    month = timezone.localdate()
    problems = _visit(
        live_server,
        city["operator"],
        language,
        [f"/operators/clearing/{month.year}-{month.month}/"],
        PHONES,
    )
    assert not problems, "\n".join(problems)
