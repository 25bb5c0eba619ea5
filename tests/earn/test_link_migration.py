"""The partner links moved from ``accounts`` to ``earn``: every row, its id, scenes and history."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("accounts", "0003_merge_0002_citizen_rank_0002_identitylink"),
    ("earn", "0003_partial_indexes"),
]
AFTER = [("accounts", "0004_identity_link_moved_to_earn"), ("earn", "0004_identity_link_moved")]


@pytest.mark.django_db(transaction=True)
def test_links_move_to_the_earn_app_with_their_scenes_and_consent_history():
    from tests.factories import CitizenFactory

    from .factories import partner_with_key

    citizen = CitizenFactory()
    partner = partner_with_key(name="Metro", actions=["metro_ride", "bus_ride"]).partner
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    Old = old_apps.get_model("accounts", "IdentityLink")
    active = Old.objects.create(
        account_id=citizen.carbon_account.pk,
        partner_id=partner.pk,
        subject="M1",
        consent_scope={"partner_id": partner.pk, "actions": ["metro_ride"]},
        consent_wording="shown then",
    )
    revoked = Old.objects.create(
        account_id=citizen.carbon_account.pk,
        partner_id=partner.pk,
        subject="M0",
        consent_scope={"partner_id": partner.pk, "actions": ["bus_ride", "metro_ride"]},
        consent_wording="older",
        consented_at=active.consented_at - timedelta(days=9),
        revoked_at=active.consented_at - timedelta(days=1),
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    executor.migrate(
        executor.loader.graph.leaf_nodes()
    )  # back to the latest schema for the tests after this one

    from carbonpoints.earn.models import IdentityLink
    from carbonpoints.earn.selectors import LinkedMember, linked_members

    moved = IdentityLink.objects.get(pk=active.pk)
    assert (moved.partner_id, moved.subject, moved.scenes, moved.consent_wording) == (
        partner.pk,
        "M1",
        ["metro_ride"],
        "shown then",
    )
    assert [(c.kind, c.scenes) for c in moved.consent_history.all()] == [
        ("granted", ["metro_ride"])
    ]
    assert [c.kind for c in IdentityLink.objects.get(pk=revoked.pk).consent_history.all()] == [
        "granted",
        "revoked",
    ]
    assert linked_members(members={(partner.pk, "M1"), (partner.pk, "M0")}) == {
        (partner.pk, "M1"): LinkedMember(citizen.carbon_account.pk, frozenset({"metro_ride"}))
    }
    assert (
        IdentityLink.objects.create(
            account=citizen.carbon_account,
            partner=partner,
            subject="M2",
            scenes=[],
            consent_wording="",
        ).pk
        > revoked.pk
    )
    assert "accounts_identitylink" not in connection.introspection.table_names()
