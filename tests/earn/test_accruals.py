"""Accruals: a batch's credit reaches each citizen through their accrual row, which the accrual job
posts to their ledger accounts; what a citizen sees and spends is the ledger plus the row.

The suite credits this way (tests/conftest.py), and its second pass at once; here it is always on.
"""

from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from accounts import ledger_accounts as citizen_ledger
from accounts.models import Accrual
from accounts.services import accrual_post, accruals_add, accruals_post
from carbonpoints.budgets.models import Budget
from carbonpoints.earn import tasks
from carbonpoints.earn.corrections import action_reverse
from carbonpoints.earn.models import ActionRecord
from carbonpoints.earn.pipeline import runner
from carbonpoints.earn.pipeline.rules import Credit
from carbonpoints.ledger.models import PLATFORM, LedgerAccount, LedgerTransaction, Unit
from carbonpoints.ledger.selectors import ledger_check
from carbonpoints.ledger.services import Leg, ledger_account_get_or_create, transaction_post
from tests.concurrency import run_at_once
from tests.factories import CitizenFactory
from tests.spend.conftest import client_for
from tests.spend.factories import ScenarioFactory, points_of

from .factories import event


@pytest.fixture(autouse=True)
def _accruals_on(settings):
    settings.EARN_ACCRUALS = True


def account(client) -> dict:
    return client.get("/api/v1/me/account").json()


def ledger_balance(owner: int, kind=citizen_ledger.POINTS) -> int:
    found = LedgerAccount.objects.filter(kind=kind.kind, owner_id=owner).first()
    return found.balance if found else 0


@pytest.mark.django_db
def test_a_credit_accrues_and_the_summary_shows_it_before_the_job_runs(
    metro, linked_citizen_client, citizen
):
    owner = citizen.carbon_account.pk
    before = account(linked_citizen_client)  # read (and cached) before the credit

    metro.send(event(external_id="ride-1", quantity="12.5"))

    assert before["points"]["available"] == 0
    mine = account(linked_citizen_client)
    assert mine["reduction_g"] == 584 and mine["points"] == {"available": 58, "pending": 0}
    assert ledger_balance(owner) == 0 and ledger_balance(owner, citizen_ledger.REDUCTION) == 0
    row = Accrual.objects.get(owner_id=owner)
    assert (row.reduction_g, row.points, row.points_pending) == (584, 58, 0)
    accrued = LedgerAccount.objects.get(kind=citizen_ledger.POINTS_ACCRUED.kind)
    assert accrued.owner_id == PLATFORM and accrued.balance == 58
    assert ledger_check().ok

    assert accruals_post() == 1

    assert not Accrual.objects.exists()
    assert ledger_balance(owner) == 58 and ledger_balance(owner, citizen_ledger.REDUCTION) == 584
    assert account(linked_citizen_client) == mine
    assert LedgerAccount.objects.get(kind=citizen_ledger.POINTS_ACCRUED.kind).balance == 0
    history = linked_citizen_client.get("/api/v1/me/ledger?kind=earn_credit").json()["results"]
    assert {entry["kind"] for entry in history} == {"earn_credit"} and len(history) == 2
    assert ledger_check().ok


@pytest.mark.django_db
def test_a_second_credit_before_the_job_adds_to_the_row_and_is_seen_at_once(
    metro, linked_citizen_client, citizen
):
    metro.send(event(external_id="ride-1", quantity="10"))
    assert account(linked_citizen_client)["points"]["available"] == 46  # cached now

    metro.send(event(external_id="ride-2", quantity="10"))

    assert account(linked_citizen_client)["points"]["available"] == 93
    assert Accrual.objects.get(owner_id=citizen.carbon_account.pk).points == 93
    assert ledger_check().ok


@pytest.mark.django_db
def test_accrual_pages_keep_room_for_a_rows_additions():
    """A credit adds to its citizen's row in place (a HOT update, no index written) only when the
    row's page has room: the table's pages are filled to half (accounts 0010)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [Accrual._meta.db_table]
        )
        (options,) = cursor.fetchone()
    assert "fillfactor=50" in (options or [])


@pytest.mark.django_db
def test_a_rows_actions_are_each_citizens_own_in_the_order_credited():
    first, second = CitizenFactory().carbon_account.pk, CitizenFactory().carbon_account.pk
    accruals_add(
        reduction_g={first: 10, second: 20},
        points={(first, False): 1, (second, True): 2},
        actions=[(first, 7), (first, 3), (second, 5)],
    )
    accruals_add(reduction_g={first: 5}, points={}, actions=[(first, 9), (second, 11)])

    rows = {row.owner_id: row for row in Accrual.objects.all()}
    assert rows[first].action_ids == [7, 3, 9] and rows[second].action_ids == [5]
    assert (rows[first].reduction_g, rows[first].points) == (15, 1)
    assert (rows[second].reduction_g, rows[second].points_pending) == (20, 2)


@pytest.mark.django_db
def test_a_redemption_right_after_a_credit_spends_the_accrued_points(
    metro, linked_citizen_client, citizen
):
    metro.send(event(quantity="12.5"))  # 58 points, accrued
    scenario = ScenarioFactory(points_cost=50, stock=5)
    catalogue = linked_citizen_client.get("/api/v1/scenarios?affordable=true&region=all")
    assert scenario.pk in [s["id"] for s in catalogue.json()["results"]]

    response = linked_citizen_client.post(
        "/api/v1/redemptions", {"scenario_id": scenario.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 201, response.content
    assert points_of(citizen) == 8
    assert not Accrual.objects.exists()
    assert account(linked_citizen_client)["points"]["available"] == 8
    assert ledger_check().ok


@pytest.mark.django_db
def test_a_redemption_beyond_ledger_and_accrual_is_refused(metro, linked_citizen_client):
    metro.send(event(quantity="12.5"))  # 58 points
    scenario = ScenarioFactory(points_cost=59, stock=5)

    response = linked_citizen_client.post(
        "/api/v1/redemptions", {"scenario_id": scenario.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_points"
    assert account(linked_citizen_client)["points"]["available"] == 58
    assert ledger_check().ok


@pytest.mark.django_db
def test_a_reversal_takes_back_accrued_points(metro, linked_citizen_client, operator, citizen):
    metro.send(event(external_id="ride-1", quantity="12.5"))

    action_reverse(
        record=ActionRecord.objects.get(external_id="ride-1"), operator=operator, reason="fraud"
    )

    mine = account(linked_citizen_client)
    assert mine["reduction_g"] == 0 and mine["points"] == {"available": 0, "pending": 0}
    assert not Accrual.objects.exists()
    assert ledger_check().ok


@pytest.mark.django_db
@override_settings(EARN_SETTLING_DAYS=7)
def test_settling_posts_the_pending_accrual_first(metro, linked_citizen_client):
    metro.send(event(quantity=10))
    assert account(linked_citizen_client)["points"] == {"available": 0, "pending": 46}
    assert Accrual.objects.get().points_pending == 46

    ActionRecord.objects.update(points_available_at=timezone.now() - timedelta(seconds=1))
    tasks.settle_points.delay()

    assert account(linked_citizen_client)["points"] == {"available": 46, "pending": 0}
    assert not Accrual.objects.exists()
    assert ledger_check().ok


@pytest.mark.django_db
@override_settings(POINTS_EXPIRE_AFTER_MONTHS=12)
def test_points_with_an_unposted_accrual_are_not_idle(metro, linked_citizen_client, citizen):
    from carbonpoints.budgets.services import points_expire

    metro.send(event(quantity=10))
    accruals_post()
    metro.send(event(external_id="ride-2", quantity=10))  # accrued again, not posted

    # a year on, the citizen's last posting is old, but the accrual is fresh activity
    assert points_expire(now=timezone.now() + timedelta(days=400)) == 0
    assert account(linked_citizen_client)["points"]["available"] == 93


def _decided(owner: int, record_id: int):
    """What deciding one record credits: 100 g and 10 points to ``owner`` (the rules' output)."""
    budget = Budget.objects.get(sponsor__name="Test City")
    pool = citizen_ledger.pool_account(
        methodology_code="metro_ride", vintage_year=2026, vintage_month=12
    )
    credit = Credit(
        grams_by_owner={owner: 100},
        points_by_owner={(owner, False): 10},
        grams_by_pool={pool: 100},
        points_by_budget={budget.pk: 10},
        records=[SimpleNamespace(id=record_id, account_id=owner)],
    )
    return SimpleNamespace(usage={}, credit=credit)


@pytest.mark.django_db
def test_a_replayed_credit_never_accrues_twice(citizen):
    owner = citizen.carbon_account.pk
    for _ in range(2):
        with transaction.atomic():
            runner._post(_decided(owner, record_id=10**9))

    assert LedgerTransaction.objects.filter(kind="earn_credit").count() == 1
    row = Accrual.objects.get(owner_id=owner)
    assert (row.reduction_g, row.points) == (100, 10)
    assert ledger_check().ok


@pytest.mark.django_db
def test_the_job_posts_and_deletes_rows_a_chunk_per_transaction():
    owners = [CitizenFactory().carbon_account.pk for _ in range(5)]
    for n, owner in enumerate(owners):
        with transaction.atomic():
            runner._post(_decided(owner, record_id=10**9 + n))

    assert accruals_post(limit=2) == 5

    assert not Accrual.objects.exists()
    assert LedgerTransaction.objects.filter(kind=citizen_ledger.ACCRUAL_KIND).count() == 3
    assert [ledger_balance(o) for o in owners] == [10] * 5
    assert [ledger_balance(o, citizen_ledger.REDUCTION) for o in owners] == [100] * 5
    assert accruals_post() == 0
    assert ledger_check().ok


@pytest.mark.django_db
def test_ledger_check_catches_a_forged_accrual_row(citizen):
    Accrual.objects.create(owner_id=citizen.carbon_account.pk, points=5)

    report = ledger_check()

    assert not report.ok
    assert {
        "check": "accrual_mismatch",
        "kind": citizen_ledger.POINTS_ACCRUED.kind,
        "balance": 0,
        "rows": 5,
    } in report.problems


def _credit(owner: int, points: int) -> None:
    """What a batch's credit does for one citizen's points: the ledger leg into the accrual
    account and the citizen's row, in one transaction (the source stands for issuance)."""
    source = ledger_account_get_or_create(
        kind="test_points_source", unit=Unit.POINTS, allow_negative=True
    )
    accrued = ledger_account_get_or_create(**citizen_ledger.POINTS_ACCRUED._asdict())
    with transaction.atomic():
        accruals_add(reduction_g={}, points={(owner, False): points}, actions=())
        transaction_post(kind="test_credit", legs=[Leg(source, -points), Leg(accrued, points)])


@pytest.mark.django_db(transaction=True)
def test_the_job_redemptions_and_credits_at_once_never_double_post_or_deadlock():
    scenario = ScenarioFactory(points_cost=10, stock=1000)
    citizens = [CitizenFactory() for _ in range(8)]
    owners = [c.carbon_account.pk for c in citizens]
    for owner in owners:
        _credit(owner, 100)
    clients = [client_for(c) for c in citizens]

    def work(n: int):
        kind, who = n % 4, (n // 4) % len(citizens)
        if kind == 0:
            return ("job", accruals_post(limit=3))
        if kind == 1:
            _credit(owners[who], 5)
            return ("credit", None)
        response = clients[who].post(
            "/api/v1/redemptions",
            {"scenario_id": scenario.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"k{n}",
        )
        return ("redeem", response.status_code)

    outcomes = run_at_once(64, work)
    accruals_post()

    assert Counter(status for kind, status in outcomes if kind == "redeem") == {201: 32}
    assert not Accrual.objects.exists()
    # each citizen: 100 + 2 credits of 5, 4 redemptions of 10
    assert [points_of(c) for c in citizens] == [100 + 10 - 40] * len(citizens)
    assert LedgerAccount.objects.get(kind=citizen_ledger.POINTS_ACCRUED.kind).balance == 0
    assert ledger_check().ok


@pytest.mark.django_db
def test_accrual_post_of_a_citizen_without_a_row_posts_nothing(citizen):
    assert accrual_post(owner=citizen.carbon_account.pk) is False
    assert not LedgerTransaction.objects.filter(kind=citizen_ledger.ACCRUAL_KIND).exists()


def _accrue_grams(owner: int, grams: int, points: int) -> None:
    """What a batch's credit does for one citizen: the legs into the accrual accounts and the row."""
    source_g = ledger_account_get_or_create(
        kind="test_grams_source", unit=Unit.GRAMS, allow_negative=True
    )
    source_pt = ledger_account_get_or_create(
        kind="test_points_source", unit=Unit.POINTS, allow_negative=True
    )
    accrued_g = ledger_account_get_or_create(**citizen_ledger.REDUCTION_ACCRUED._asdict())
    accrued_pt = ledger_account_get_or_create(**citizen_ledger.POINTS_ACCRUED._asdict())
    legs = [Leg(source_pt, -points)]
    if grams:  # (the pools' side is left out: these tests do not read the equal views)
        legs += [Leg(source_g, -grams), Leg(accrued_g, grams)]
    with transaction.atomic():
        accruals_add(reduction_g={owner: grams}, points={(owner, False): points}, actions=())
        transaction_post(kind="test_credit", legs=[*legs, Leg(accrued_pt, points)])


@pytest.mark.django_db
def test_ranks_standings_badges_and_reports_count_the_unposted_accrual(citizen):
    from accounts.models import CitizenRank, CitizenStanding
    from accounts.services import citizen_ranks_recompute, citizen_standings_recompute
    from carbonpoints.evaluation.models import BadgeAward
    from carbonpoints.evaluation.services import badges_award
    from carbonpoints.reports.selectors import ledger_figures

    other = CitizenFactory()
    _accrue_grams(citizen.carbon_account.pk, 12_000, 1_200)
    _accrue_grams(other.carbon_account.pk, 3_000, 300)

    citizen_ranks_recompute()
    citizen_standings_recompute()
    badges_award()

    rank = CitizenRank.objects.get(account=citizen.carbon_account)
    assert (rank.position, rank.reduction_g) == (1, 12_000)
    assert CitizenStanding.objects.get(account=citizen.carbon_account).trailing_g == 12_000
    assert BadgeAward.objects.filter(
        account=citizen.carbon_account, badge__code="milestone_10kg"
    ).exists()
    assert not BadgeAward.objects.filter(account=other.carbon_account).exists()
    figures = ledger_figures()
    assert figures["points_available"] == 1_500 and figures["points_outstanding"] == 1_500


@pytest.mark.django_db
def test_points_still_accrued_pay_part_of_an_order_at_the_till(citizen):
    from tests.spend.factories import CashierFactory, PointsOffsetScenarioFactory, StaffFactory

    merchant = StaffFactory().merchant
    cashier_client = client_for(CashierFactory(merchant=merchant).user)
    PointsOffsetScenarioFactory(merchant=merchant, points_per_yuan=100, max_share_bp=3000)
    _accrue_grams(citizen.carbon_account.pk, 0, 5_000)
    issued = client_for(citizen).post("/api/v1/me/payment-codes")  # refused with no points
    assert issued.status_code == 201, issued.content

    response = cashier_client.post(
        "/api/v1/merchant/checkouts",
        {"payment_code": issued.json()["code"], "amount_fen": 10_000, "points": 5000},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["points_used"] == 3000
    assert points_of(citizen) == 2000 and not Accrual.objects.exists()
    assert ledger_check().ok


@override_settings(EARN_ACCRUALS=True)
def test_the_demo_seeded_as_production_seeds_it_adds_up_after_every_step():
    """``bin/serve`` seeds with accruals on: after each step of ``seed_demo`` every proof of
    ``ledger_check`` (the regions' clearing included) holds, credits waiting in rows or not."""
    from django.utils.module_loading import import_string

    from carbonpoints.demo.management.commands.seed_demo import STEPS

    waiting = Counter()
    for label, path in STEPS:
        import_string(path)(password="carbon-demo-2026", citizens=6, log=lambda message: None)
        waiting[label] = Accrual.objects.count()
        assert ledger_check().ok, label
    assert waiting["partners and their members' actions"] > 0

    accruals_post()
    assert not Accrual.objects.exists() and ledger_check().ok
