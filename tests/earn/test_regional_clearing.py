"""Clearing between cities, through the ledger, from outside: a citizen rides in Wuhan and in
Yichang (each ride funded by its city's budget) and spends in Xiangyang; the nightly job posts
what Wuhan and Yichang owe Xiangyang, the month's statement (page, CSV, PDF) shows it, a refund
reverses it, reversed and expired points are never spent, and ``ledger_check`` proves each
region's points add up."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from pypdf import PdfReader

from carbonpoints.earn.models import ActionRecord
from carbonpoints.ledger.models import LedgerAccount, LedgerTransaction
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.ledger.services import Leg, ledger_accounts_get_or_create, transaction_post
from carbonpoints.methodologies.models import Methodology
from redemption import ledger_accounts as spend_ledger
from redemption.models import Voucher
from redemption.tasks import expire_vouchers, post_clearing
from tests.factories import UserFactory, accruals_posted, funded_budget
from tests.spend.factories import MerchantFactory, ScenarioFactory

from .factories import event
from .test_corrections import admin_reverse

HUBEI, WUHAN, YICHANG, XIANGYANG = "420000", "420100", "420500", "420600"


@pytest.fixture
def province(metro, _city_budget):
    """Wuhan's budget at 0.01 CNY a point (the test city's), Yichang's at 0.02; the metro serves
    both; a bookshop in Xiangyang offers a voucher province-wide."""
    Methodology.objects.update(region_id=HUBEI)
    funded_budget(
        sponsor__name="Yichang City", name="Yichang 2026", region_id=YICHANG, yuan_fen=2 * 10**9
    )
    metro.partner.regions.set([WUHAN, YICHANG])
    return metro


def _points_by_region(client) -> dict[str, int]:
    return {a["region"]: a["points"] for a in client.get("/api/v1/me/actions").json()["results"]}


def _bookshop(points: int):
    return ScenarioFactory(
        merchant=MerchantFactory(region_id=XIANGYANG, name="Xiangyang Books"),
        points_cost=points,
        province_wide=True,
    )


def _redeem(client, scenario, key: str):
    response = client.post(
        "/api/v1/redemptions",
        {"scenario_id": scenario.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 201, response.content
    return response.json()


def _csv(client, **kwargs) -> list[list[str]]:
    month = timezone.localdate()
    response = client.get(f"/operators/clearing/{month:%Y-%m}.csv", **kwargs)
    assert response.status_code == 200
    return [row.split(",") for row in response.content.decode().splitlines()]


def _net(rows) -> set[tuple[str, ...]]:
    return {tuple(row[2:6]) for row in rows[1:] if row[1] == "net"}


def test_spent_in_xiangyang_wuhan_and_yichang_owe_it_on_the_statement_csv_pdf_and_page(
    province, linked_citizen_client, operator_client
):
    province.send(
        event(external_id="w", quantity=10, region=WUHAN),
        event(external_id="y", quantity=10, region=YICHANG),
    )
    points = _points_by_region(linked_citizen_client)
    _redeem(linked_citizen_client, _bookshop(sum(points.values())), "books-1")

    assert _net(_csv(operator_client)) == set(), "nothing is cleared before the job has run"
    posted = post_clearing()

    rows = _csv(operator_client)
    assert posted == 1
    assert rows[0] == ["month", "kind", "owes", "to", "points", "yuan"]  # the columns of before
    assert _net(rows) == {
        (WUHAN, XIANGYANG, str(points[WUHAN]), f"{points[WUHAN] / 100:.2f}"),
        (YICHANG, XIANGYANG, str(points[YICHANG]), f"{points[YICHANG] * 2 / 100:.2f}"),
    }
    month = timezone.localdate()
    for language, owes in (("en", "Wuhan"), ("zh-hans", "武汉市")):
        pdf = operator_client.get(
            f"/operators/clearing/{month:%Y-%m}.pdf", HTTP_ACCEPT_LANGUAGE=language
        )
        assert pdf["Content-Type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert XIANGYANG in text and str(points[YICHANG]) in text
        if language == "en":
            assert owes in text and "Clearing statement" in text
    page = operator_client.get("/operators/clearing/", follow=True)
    assert page.status_code == 200
    assert page.redirect_chain[-1][0] == f"/operators/clearing/{month.year}-{month.month}/"
    html = page.content.decode()
    assert "Xiangyang" in html and "Yichang" in html and f"{points[YICHANG] * 2 / 100:.2f}" in html


def test_the_job_posts_each_spend_once_and_ledger_check_proves_each_region(
    province, linked_citizen_client, capsys
):
    province.send(
        event(external_id="w", quantity=10, region=WUHAN),
        event(external_id="y", quantity=10, region=YICHANG),
    )
    points = _points_by_region(linked_citizen_client)
    _redeem(linked_citizen_client, _bookshop(points[WUHAN] + 5), "books-1")

    assert post_clearing() == 1
    assert post_clearing() == 0, "a re-run posts nothing twice"

    [cleared] = LedgerTransaction.objects.filter(kind=spend_ledger.CLEARING_KIND)
    assert sorted(
        (p.account.kind, p.account.owner_id, p.amount) for p in cleared.postings.all()
    ) == [
        ("clearing_funded", int(WUHAN), -points[WUHAN]),
        ("clearing_funded", int(YICHANG), -5),
        ("clearing_taken", int(XIANGYANG), points[WUHAN] + 5),
    ]
    call_command("ledger_check", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"], report["problems"]
    regions = report["figures"]["clearing"]
    assert {"issued": points[WUHAN], "spent": points[WUHAN], "held": 0}.items() <= regions[
        WUHAN
    ].items()
    assert {k: regions[YICHANG][k] for k in ("issued", "spent", "held", "cleared_out")} == {
        "issued": points[YICHANG],
        "spent": 5,
        "held": points[YICHANG] - 5,
        "cleared_out": 5,
    }


def test_a_refund_reverses_the_clearing_and_its_points_are_drawn_again(
    province, linked_citizen_client, operator_client
):
    province.send(event(external_id="w", quantity=10, region=WUHAN))
    province.send(event(external_id="y", quantity=10, region=YICHANG))
    points = _points_by_region(linked_citizen_client)
    books = _bookshop(points[WUHAN])
    _redeem(linked_citizen_client, books, "books-1")
    post_clearing()
    assert _net(_csv(operator_client)) == {
        (WUHAN, XIANGYANG, str(points[WUHAN]), f"{points[WUHAN] / 100:.2f}")
    }

    Voucher.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_vouchers() == 1  # the voucher's points are refunded
    assert post_clearing() == 1

    assert _net(_csv(operator_client)) == set(), "the refund is taken off in its month"
    balances = LedgerAccount.objects.filter(kind__in=spend_ledger.CLEARING_KINDS).values_list(
        "balance", flat=True
    )
    assert set(balances) == {0}
    assert ledger_check().ok

    _redeem(linked_citizen_client, books, "books-2")  # the refunded points are the oldest again
    post_clearing()
    assert _net(_csv(operator_client)) == {
        (WUHAN, XIANGYANG, str(points[WUHAN]), f"{points[WUHAN] / 100:.2f}")
    }
    assert post_clearing() == 0 and ledger_check().ok


def test_a_reversed_ride_is_never_spent_the_next_oldest_points_are(
    province, linked_citizen_client, operator_client, clock
):
    province.send(event(external_id="w", quantity=10, region=WUHAN))
    clock.shift(timedelta(minutes=5))
    province.send(event(external_id="y", quantity=10, region=YICHANG))
    points = _points_by_region(linked_citizen_client)
    reversed_ = admin_reverse(
        operator_client, ActionRecord.objects.get(external_id="w"), "sent twice"
    )
    assert reversed_.status_code == 302
    left = linked_citizen_client.get("/api/v1/me/account").json()["points"]["available"]

    _redeem(linked_citizen_client, _bookshop(left), "books-1")
    post_clearing()

    assert _net(_csv(operator_client)) == {(YICHANG, XIANGYANG, str(left), f"{left * 2 / 100:.2f}")}
    report = ledger_check()
    assert report.ok, report.problems
    assert report.figures["clearing"][WUHAN]["reversed"] == points[WUHAN]


def test_expired_points_are_never_spent(province, linked_citizen_client, operator_client, settings):
    from carbonpoints.budgets.services import points_expire

    settings.POINTS_EXPIRE_AFTER_MONTHS = 1
    province.send(event(external_id="w", quantity=10, region=WUHAN))
    points_w = _points_by_region(linked_citizen_client)[WUHAN]
    accruals_posted()  # within the minute, weeks before the expiry
    assert points_expire(now=timezone.now() + timedelta(days=40)) == 1

    province.send(event(external_id="y", quantity=10, region=YICHANG))
    points_y = _points_by_region(linked_citizen_client)[YICHANG]
    _redeem(linked_citizen_client, _bookshop(points_y), "books-1")
    post_clearing()

    assert _net(_csv(operator_client)) == {
        (YICHANG, XIANGYANG, str(points_y), f"{points_y * 2 / 100:.2f}")
    }
    report = ledger_check()
    assert report.ok, report.problems
    assert {"expired": points_w, "spent": 0}.items() <= report.figures["clearing"][WUHAN].items()


def test_a_forged_clearing_posting_fails_ledger_check(province, linked_citizen_client, capsys):
    province.send(event(external_id="w", quantity=10, region=WUHAN))
    points = _points_by_region(linked_citizen_client)
    _redeem(linked_citizen_client, _bookshop(points[WUHAN]), "books-1")
    post_clearing()
    assert ledger_check().ok
    keys = [
        spend_ledger.CLEARING_FUNDED.of(int(YICHANG)),
        spend_ledger.CLEARING_TAKEN.of(int(XIANGYANG)),
    ]
    accounts = ledger_accounts_get_or_create(keys=keys, allow_negative=True)

    transaction_post(  # balanced, so only the proof per region can catch it
        kind="forged", legs=[Leg(accounts[keys[0]], -9), Leg(accounts[keys[1]], 9)]
    )

    with pytest.raises(CommandError):
        call_command("ledger_check", "--json")
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert {(p["check"], p["region"], p["ledger"], p["derived"]) for p in problems} == {
        ("clearing_mismatch", YICHANG, -9, 0),
        ("clearing_mismatch", XIANGYANG, points[WUHAN] + 9, points[WUHAN]),
    }


def test_a_yichang_operator_sees_only_the_lines_of_yichang(province, linked_citizen_client, client):
    province.send(
        event(external_id="w", quantity=10, region=WUHAN),
        event(external_id="y", quantity=10, region=YICHANG),
    )
    points = _points_by_region(linked_citizen_client)
    _redeem(linked_citizen_client, _bookshop(sum(points.values())), "books-1")
    post_clearing()
    yichang = UserFactory(role="operator", is_staff=True, is_superuser=True)
    yichang.regions.set([YICHANG])
    client.force_login(yichang)

    assert {line[:2] for line in _net(_csv(client))} == {(YICHANG, XIANGYANG)}
    month = timezone.localdate()
    html = client.get(f"/operators/clearing/{month.year}-{month.month}/").content.decode()
    assert "Yichang" in html and "Wuhan" not in html
