"""The spend side documents itself in the OpenAPI schema; the demo city has merchants to spend with."""

import json

import pytest
from django.core.management import call_command

from redemption.models import Scenario, Settlement

pytestmark = pytest.mark.django_db


def test_every_spend_endpoint_is_in_the_openapi_schema(client):
    paths = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "paths"
    ]
    for path in [
        "/api/v1/scenarios",
        "/api/v1/redemptions",
        "/api/v1/me/vouchers",
        "/api/v1/me/payment-codes",
        "/api/v1/merchant/scenarios",
        "/api/v1/merchant/vouchers/{code}/consume",
        "/api/v1/merchant/checkouts",
        "/api/v1/merchant/checkouts/{id}/reverse",
        "/api/v1/merchant/settlements",
        "/api/v1/merchant/offsets",
        "/api/v1/merchant/settlements/{id}",
        "/api/v1/merchant/settlements/{id}/csv",
        "/api/v1/merchant/settlements/{id}/pdf",
        "/api/v1/merchant/staff",
        "/api/v1/certificates/{id}",
    ]:
        assert path in paths, path
    redeem = paths["/api/v1/redemptions"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in redeem["parameters"])


def test_the_demo_merchants_have_scenarios_and_a_cashier(capsys, client):
    call_command("seed_demo", "--citizens", "3", "--json")
    first = json.loads(capsys.readouterr().out)
    call_command("seed_demo", "--citizens", "3", "--json")
    capsys.readouterr()

    assert Scenario.objects.filter(merchant__region="420100").count() == 5  # Wuhan's
    assert set(Scenario.objects.values_list("merchant__region", flat=True)) == {
        "420100",
        "420500",
        "420600",
    }
    assert {"voucher", "points_offset", "donation"} <= set(
        Scenario.objects.values_list("kind", flat=True)
    )
    assert client.login(email=first["logins"]["cashier"], password=first["password"])
    assert client.get("/merchant/").status_code == 200
    # a settled merchant: its statement posted to the ledger, the ledger balanced
    settlement = Settlement.objects.filter(ledger_tx__isnull=False, lines__isnull=False).first()
    assert settlement is not None
    assert settlement.points_total == sum(settlement.lines.values_list("points", flat=True))
    call_command("ledger_check")
