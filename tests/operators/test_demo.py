"""seed_demo shows the operator's side: versions in each approval state, a drafted partner, claims."""

import pytest
from django.core.management import call_command

from carbonpoints.claims.models import Claim
from carbonpoints.earn.models import Partner
from carbonpoints.methodologies.models import Methodology

pytestmark = pytest.mark.django_db


def test_seed_demo_shows_approval_states_and_claims(capsys, client):
    call_command("seed_demo", "--citizens", "3", "--json")
    call_command("seed_demo", "--citizens", "3", "--json")
    capsys.readouterr()

    states = set(Methodology.objects.values_list("status", flat=True))
    assert {"draft", "approved", "in_force"} <= states
    assert Partner.objects.filter(status=Partner.Status.DRAFT).count() == 1
    assert sorted(Claim.objects.values_list("status", flat=True)) == ["denied", "pending"]
    page = client.get("/methodologies/").content.decode()
    assert "coming" in page
    call_command("ledger_check")
