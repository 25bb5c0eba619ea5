"""Operator commands (docs/design.md#operator-commands): JSON on stdout with --json."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import CarbonAccount, User
from redemption.models import Merchant, MerchantStaff

pytestmark = pytest.mark.django_db


def run_json(capsys, *args):
    call_command(*args, "--json")
    return json.loads(capsys.readouterr().out)


def test_create_merchant_prints_its_manager_login(capsys, client):
    result = run_json(
        capsys, "create_merchant", "--name", "绿色便利店", "--manager-email", "Boss@Shop.cn"
    )

    assert set(result) == {"merchant_id", "manager_email", "password", "region"}
    merchant = Merchant.objects.get(pk=result["merchant_id"])
    assert merchant.status == Merchant.Status.APPROVED
    staff = MerchantStaff.objects.get(merchant=merchant)
    assert staff.role == "manager" and staff.user.email == "boss@shop.cn"
    assert client.login(email="boss@shop.cn", password=result["password"])


def test_create_merchant_refuses_a_taken_name(capsys):
    run_json(capsys, "create_merchant", "--name", "Shop", "--manager-email", "a@shop.cn")
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_merchant", "--name", "Shop", "--manager-email", "b@shop.cn")


def test_seed_demo_loads_people_and_merchants_and_is_safe_to_repeat(capsys, client):
    first = run_json(capsys, "seed_demo", "--citizens", "12")
    run_json(capsys, "seed_demo", "--citizens", "12")

    assert CarbonAccount.objects.count() == 12
    assert Merchant.objects.count() >= 1
    provincial = User.objects.filter(is_superuser=True, regions__isnull=True)
    assert provincial.count() == 2  # two provincial operators: four eyes on approvals
    assert (
        User.objects.filter(is_superuser=True, regions__isnull=False).count() == 3
    )  # one per city
    for email in first["logins"].values():
        assert client.login(email=email, password=first["password"])
    call_command("ledger_check")
