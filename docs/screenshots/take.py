"""Screenshots of the citizen's portal at a phone-sized and a desktop viewport, of the merchant's
till at a tablet's, and of the operator's pages at a desktop one (run by bin/screenshots).

    python docs/screenshots/take.py http://127.0.0.1:8831 citizen1@demo.carbonpoints.cn carbon-demo-2026 \
        operator@demo.carbonpoints.cn [cashier@greenmart.demo.carbonpoints.cn]

Uses Debian's Chromium through Playwright; Chinese needs a CJK font (fonts-wqy-microhei).
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
PAGES = [  # (file name, path, language)
    ("home", "/me/", "zh-hans"),
    ("home-en", "/me/", "en"),
    ("history", "/me/actions/?action=metro_ride", "zh-hans"),
    ("points", "/me/points/", "zh-hans"),
    ("links", "/me/links/", "zh-hans"),
    ("vouchers", "/me/redemptions/", "zh-hans"),
    ("evaluation", "/me/evaluation/", "zh-hans"),
    ("inbox", "/me/notifications/", "en"),
    ("account", "/me/account/", "zh-hans"),
    ("claims", "/me/claims/", "zh-hans"),
    ("certificates", "/me/certificates/", "zh-hans"),
    ("wallet", "/me/wallet/", "zh-hans"),
]
TILL_PAGES = [  # (file name, path, language): the merchant's tablet at the till
    ("till", "/merchant/", "zh-hans"),
    ("till-en", "/merchant/", "en"),
    ("scenarios", "/merchant/scenarios/", "zh-hans"),
]
CASHIER = "cashier@greenmart.demo.carbonpoints.cn"
OPERATOR_PAGES = [  # (file name, path, language): desktop only
    ("operator-dashboard", "/operators/dashboard/", "zh-hans"),
    ("operator-dashboard-en", "/operators/dashboard/", "en"),
    ("operator-budgets", "/admin/budgets/budget/", "en"),
    ("public-register", "/methodologies/", "zh-hans"),
    ("regions-dashboard", "/operators/dashboard/?region=420500", "en"),
    ("regions-register", "/methodologies/?region=420500", "en"),
    ("regions-clearing", "/operators/clearing/", "zh-hans"),
]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
TABLET = {"width": 768, "height": 1024}


def _sign_in(page, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def _shoot(context, page, url: str, pages, device: str) -> None:
    for name, path, language in pages:
        context.add_cookies([{"name": "django_language", "value": language, "url": url}])
        page.goto(url + path)
        if path.startswith(
            "/admin/"
        ):  # the admin's navigation sidebar folded: the list gets the width
            page.evaluate("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
            page.reload()
        page.wait_for_load_state("networkidle")
        if page.locator("canvas[data-chart]").count():
            page.wait_for_selector("canvas[data-rendered='1']")
        target = HERE / f"{name}-{device}.png"
        page.screenshot(path=str(target), full_page=device == "desktop")
        print(target.relative_to(HERE.parent.parent))


def main(
    url: str,
    email: str,
    password: str,
    operator_email: str | None = None,
    cashier_email: str = CASHIER,
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        for device, viewport in VIEWPORTS.items():
            context = browser.new_context(
                viewport=viewport,
                device_scale_factor=1,
                is_mobile=device == "phone",
                has_touch=device == "phone",
            )
            page = context.new_page()
            _sign_in(page, url, email, password)
            if (
                device == "phone"
            ):  # a fresh voucher, so that its QR code shows (saying yes to the question)
                page.once("dialog", lambda dialog: dialog.accept())
                page.goto(f"{url}/me/wallet/")
                page.locator("form[action$='/me/wallet/redeem'] button").first.click()
                page.wait_for_load_state()
            _shoot(context, page, url, PAGES, device)
            context.close()
        if operator_email:
            context = browser.new_context(viewport=VIEWPORTS["desktop"], device_scale_factor=1)
            page = context.new_page()
            _sign_in(page, url, operator_email, password)
            _shoot(context, page, url, OPERATOR_PAGES, "desktop")
            context.close()
        context = browser.new_context(viewport=TABLET, device_scale_factor=1, has_touch=True)
        page = context.new_page()
        _sign_in(page, url, cashier_email, password)
        _shoot(context, page, url, TILL_PAGES, "tablet")
        context.close()
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:6])
