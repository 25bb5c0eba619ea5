"""Approvals and publication of methodology versions: four eyes, a public notice period, crediting
only by versions in force, and an audit row for every transition."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carbonpoints.audit.models import AuditEntry
from carbonpoints.methodologies import exceptions, services
from carbonpoints.methodologies.models import Methodology
from tests.earn.factories import event
from tests.factories import UserFactory

from .factories import metro_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def operators():
    return UserFactory(is_staff=True), UserFactory(is_staff=True)


def test_the_author_may_not_approve_their_own_version(operators):
    writer, _ = operators
    draft = metro_draft(writer, valid_from=timezone.now() + timedelta(days=8))

    with pytest.raises(exceptions.SameAuthor):
        services.methodology_approve(methodology=draft, approver=writer)
    draft.refresh_from_db()
    assert draft.status == Methodology.Status.DRAFT


def test_a_citizen_may_not_approve(operators):
    draft = metro_draft(operators[0], valid_from=timezone.now() + timedelta(days=8))
    with pytest.raises(exceptions.NotOperator):
        services.methodology_approve(methodology=draft, approver=UserFactory())


def test_approval_needs_the_public_notice_period(operators, settings):
    settings.METHODOLOGY_NOTICE_DAYS = 7
    writer, approver = operators
    draft = metro_draft(writer, valid_from=timezone.now() + timedelta(days=3))

    with pytest.raises(exceptions.NoticeTooShort) as refused:
        services.methodology_approve(methodology=draft, approver=approver)
    assert refused.value.details["notice_days"] == 7


def test_a_draft_or_a_coming_version_credits_nothing_and_the_version_in_force_ends_where_it_begins(
    operators, metro, linked_citizen_client
):
    writer, approver = operators
    start = timezone.now() + timedelta(days=8)
    draft = metro_draft(
        writer, valid_from=timezone.now() - timedelta(days=1)
    )  # a draft, even if "valid"

    metro.send(event(external_id="while-draft", quantity=10))
    assert metro.record("while-draft")["explanation"]["methodology"]["version"] == 1

    draft.valid_from = start
    services.methodology_draft_save(methodology=draft, author=writer)
    approved = services.methodology_approve(methodology=draft, approver=approver)

    assert (approved.status, approved.approved_by, approved.written_by) == (
        Methodology.Status.APPROVED,
        approver,
        writer,
    )
    assert Methodology.objects.get(code="metro_ride", version=1).valid_until == start
    metro.send(event(external_id="while-coming", quantity=10))
    assert metro.record("while-coming")["explanation"]["methodology"]["version"] == 1


def test_a_version_takes_force_at_its_start_and_then_credits(
    operators, metro, linked_citizen_client
):
    writer, approver = operators
    draft = metro_draft(writer, valid_from=timezone.now() + timedelta(days=8))
    services.methodology_approve(methodology=draft, approver=approver)
    # its start has come (moved back in time, as if the notice period had passed)
    Methodology.objects.filter(code="metro_ride", version=1).update(
        valid_until=timezone.now() - timedelta(days=1)
    )
    Methodology.objects.filter(pk=draft.pk).update(valid_from=timezone.now() - timedelta(days=1))

    assert services.methodologies_take_force() == 1
    assert services.methodologies_take_force() == 0
    metro.send(event(external_id="after", quantity=10))
    record = metro.record("after")["explanation"]
    assert (record["methodology"]["version"], record["credited_g"]) == (2, 500)


def test_retiring_a_version_stops_its_crediting_after_its_retirement(
    operators, metro, linked_citizen_client
):
    version_1 = Methodology.objects.get(code="metro_ride", version=1)
    retired_at = timezone.now() - timedelta(hours=2)
    services.methodology_retire(
        methodology=version_1, operator=operators[0], reason="superseded by law", now=retired_at
    )

    metro.send(
        event(
            external_id="before-retirement",
            quantity=10,
            occurred_at=retired_at - timedelta(hours=1),
        ),
        event(
            external_id="after-retirement", quantity=10, occurred_at=retired_at + timedelta(hours=1)
        ),
    )
    assert metro.record("before-retirement")["state"] == "credited"
    assert metro.record("after-retirement")["state"] == "rejected", metro.record("after-retirement")
    with pytest.raises(exceptions.WrongStatus):
        services.methodology_retire(methodology=version_1, operator=operators[0])


def test_every_transition_leaves_an_audit_row(operators):
    writer, approver = operators
    draft = metro_draft(writer, valid_from=timezone.now() + timedelta(days=8))
    services.methodology_approve(methodology=draft, approver=approver)
    Methodology.objects.filter(pk=draft.pk).update(valid_from=timezone.now() - timedelta(minutes=1))
    Methodology.objects.filter(code="metro_ride", version=1).update(
        valid_until=timezone.now() - timedelta(minutes=1)
    )
    services.methodologies_take_force()
    services.methodology_retire(methodology=draft, operator=approver, reason="test")

    trail = list(
        AuditEntry.objects.filter(object_type="methodologies.methodology", object_id=str(draft.pk))
        .order_by("id")
        .values_list("action", "actor_id")
    )
    assert trail == [
        ("methodology.draft_create", writer.pk),
        ("methodology.approve", approver.pk),
        ("methodology.take_force", None),
        ("methodology.retire", approver.pk),
    ]


def test_the_public_register_shows_factors_sources_the_coming_version_and_history(
    client, operators
):
    writer, approver = operators
    start = timezone.now() + timedelta(days=8)
    services.methodology_approve(
        methodology=metro_draft(writer, valid_from=start, baseline="52.5"), approver=approver
    )
    metro_draft(
        writer, valid_from=start + timedelta(days=30), version=3, baseline="987.65"
    )  # a draft is not public

    page = client.get("/methodologies/")

    assert page.status_code == 200
    html = page.content.decode()
    section = html[
        html.index('id="m-metro_ride"') : html.index("</section>", html.index('id="m-metro_ride"'))
    ]
    assert "46.7" in section  # version 1, in force until version 2 begins
    # the page shows dates in the city's time zone: compare with the local date, not UTC's
    assert "Metro v2" in section and "52.5" in section
    assert timezone.localtime(start).strftime("%Y-%m-%d") in section
    assert "987.65" not in section
    assert "coming" in section


def test_operators_approve_in_the_admin_and_four_eyes_holds_there(client, operators):
    writer, approver = operators
    writer.is_superuser = approver.is_superuser = True
    writer.save()
    approver.save()
    draft = metro_draft(writer, valid_from=timezone.now() + timedelta(days=8))
    url = "/admin/methodologies/methodology/"

    client.force_login(writer)
    client.post(url, {"action": "approve", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Methodology.Status.DRAFT

    client.force_login(approver)
    client.post(url, {"action": "approve", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Methodology.Status.APPROVED
