"""The console in a real headless Chromium: sign in, consume a typed voucher, take points at the till."""

from contextlib import contextmanager

import pytest

from redemption.services import payment_code_issue, redemption_create

from .factories import PointsOffsetScenarioFactory, ScenarioFactory, give_points, points_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_page():
    """A page of Debian's Chromium, driven by Playwright; open it after the test data is made.

    Playwright's sync API runs an event loop in this thread, and Django gives code inside a
    running loop other database connections; so the test touches the database only before.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en")
            page = context.new_page()
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


def test_a_cashier_signs_in_consumes_a_voucher_and_takes_points(live_server, cashier, make_citizen):
    voucher_scenario = ScenarioFactory(merchant=cashier.merchant, title="Free tea", points_cost=100)
    PointsOffsetScenarioFactory(merchant=cashier.merchant, points_per_yuan=100, max_share_bp=3000)
    citizen = make_citizen()
    give_points(citizen, 3000)
    voucher = redemption_create(
        citizen=citizen.carbon_account, scenario_id=voucher_scenario.pk, idempotency_key="browser"
    ).voucher
    pay_code = payment_code_issue(citizen=citizen.carbon_account).code
    email = cashier.user.email

    with chromium_page() as page:
        drive_the_till(
            page, live_server.url, email=email, voucher_code=voucher.code, pay_code=pay_code
        )

    voucher.refresh_from_db()
    assert voucher.consumed_by == cashier.user
    assert points_of(citizen) == 3000 - 100 - 1500


def drive_the_till(page, url, *, email, voucher_code, pay_code):
    page.goto(f"{url}/merchant/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "correct-horse-battery")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{url}/merchant/")

    page.fill("#id_code", voucher_code.lower())
    page.click("#consume-button")
    page.wait_for_selector("text=Voucher accepted: Free tea")

    page.fill("#id_code", voucher_code)
    page.click("#consume-button")
    page.wait_for_selector(".messages li.error:has-text('This voucher was consumed already.')")

    page.fill("#id_payment_code", pay_code)
    page.fill("#id_amount_yuan", "50.00")
    page.fill("#id_points", "2000")
    page.click(
        "#checkout-button"
    )  # 2,000 asked, 30% of ¥50.00 at most: the till asks to confirm 1,500
    page.wait_for_selector(".messages li.warning:has-text('Only 1,500 of the 2,000 points asked')")
    page.click("#capped-confirm")
    page.wait_for_selector("text=1,500 points take ¥15.00 off")
    assert page.locator("#checkouts").inner_text().count("Reverse") == 1


def test_a_manager_creates_a_scenario_and_retires_an_offset(live_server, manager):
    from .factories import fill_pool

    fill_pool("metro", 2026, 9, 1000)
    email = manager.user.email

    with chromium_page() as page:
        page.goto(f"{live_server.url}/accounts/login/?next=/merchant/scenarios/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", "correct-horse-battery")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{live_server.url}/merchant/scenarios/")

        page.select_option("select[name=kind]", "voucher")
        page.fill("input[name=title]", "Tote bag")
        page.fill("input[name=points_cost]", "200")
        page.fill("input[name=stock]", "30")
        page.locator("form.card button[type=submit]").click()
        page.wait_for_selector("text=stock 30 of 30")
        assert page.locator("svg.chart").count() == 1

        page.on("dialog", lambda dialog: dialog.accept())  # retiring asks once
        page.goto(f"{live_server.url}/merchant/offsets/")
        page.fill("input[name=grams]", "250")
        page.fill("input[name=purpose]", "Shop lighting 2026")
        page.locator("form.card button[type=submit]").click()
        page.wait_for_selector("#verification")
        assert "Verified" in page.inner_text("#verification")
        assert "CP-METRO-202609-000000000250" in page.content()
