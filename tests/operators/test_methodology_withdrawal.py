"""Withdrawing an approved methodology version before it takes force: back to draft, no longer
announced publicly, the version it replaced back to its own end of validity; audited."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from carbonpoints.audit.models import AuditEntry
from carbonpoints.methodologies import exceptions, services
from carbonpoints.methodologies.models import Methodology
from carbonpoints.methodologies.selectors import Catalogue
from tests.factories import UserFactory

from .factories import metro_draft

pytestmark = pytest.mark.django_db

URL = "/admin/methodologies/methodology/"


@pytest.fixture
def operators():
    return (
        UserFactory(is_staff=True, is_superuser=True, role="operator"),
        UserFactory(is_staff=True, is_superuser=True, role="operator"),
    )


@pytest.fixture
def coming(operators):
    """Version 2 of the metro ride, approved, in force in 8 days: version 1 ends where it begins."""
    writer, approver = operators
    draft = metro_draft(writer, baseline="52.5", valid_from=timezone.now() + timedelta(days=8))
    return services.methodology_approve(methodology=draft, approver=approver)


def version_1() -> Methodology:
    return Methodology.objects.get(code="metro_ride", version=1)


def metro_section(client) -> str:
    html = client.get("/methodologies/").content.decode()
    start = html.index('id="m-metro_ride"')
    return html[start : html.index("</section>", start)]


def test_a_coming_version_is_withdrawn_back_to_draft_and_the_register_stops_announcing_it(
    client, operators, coming
):
    writer, approver = operators
    assert version_1().valid_until == coming.valid_from
    assert "Metro v2" in metro_section(client) and "coming" in metro_section(client)

    withdrawn = services.methodology_withdraw(
        methodology=coming, operator=approver, reason="the factor is wrong"
    )

    assert (withdrawn.status, withdrawn.approved_by, withdrawn.approved_at) == (
        Methodology.Status.DRAFT,
        None,
        None,
    )
    assert withdrawn.written_by == writer, "its author keeps it, to edit"
    assert version_1().valid_until is None, "version 1 is open-ended again, as before the approval"
    assert (
        Catalogue().methodology_at("metro_ride", coming.valid_from + timedelta(days=30)).version
        == 1
    )
    section = metro_section(client)
    assert "Metro v2" not in section and "52.5" not in section and "coming" not in section
    assert "open-ended" in section
    entry = AuditEntry.objects.get(action="methodology.withdraw")
    assert entry.actor_id == approver.pk and entry.object_id == str(coming.pk)
    assert (
        entry.details["reason"] == "the factor is wrong"
        and entry.details["approved_by"] == approver.pk
    )
    assert entry.details["restored"] == [
        {
            "id": version_1().pk,
            "version": 1,
            "valid_until_was": entry.details["valid_from"],
            "valid_until": None,
        }
    ]


def test_a_withdrawn_version_can_be_edited_and_approved_again(operators, coming):
    writer, approver = operators
    services.methodology_withdraw(
        methodology=coming, operator=approver, reason="the factor is wrong"
    )
    draft = Methodology.objects.get(pk=coming.pk)

    draft.baseline_g_per_unit = Decimal("51")
    services.methodology_draft_save(methodology=draft, author=writer)
    with pytest.raises(exceptions.SameAuthor):
        services.methodology_approve(methodology=draft, approver=writer)
    again = services.methodology_approve(methodology=draft, approver=approver)

    assert again.status == Methodology.Status.APPROVED and again.baseline_g_per_unit == Decimal(
        "51"
    )
    assert version_1().valid_until == again.valid_from


def test_the_version_before_gets_back_only_up_to_the_next_scheduled_version(operators, coming):
    writer, approver = operators
    draft = metro_draft(
        writer, baseline="52.5", valid_from=coming.valid_from + timedelta(days=30), version=3
    )
    later = services.methodology_approve(methodology=draft, approver=approver)
    assert Methodology.objects.get(pk=coming.pk).valid_until == later.valid_from

    services.methodology_withdraw(
        methodology=coming, operator=approver, reason="skipped: version 3 replaces it"
    )

    assert version_1().valid_until == later.valid_from, "no overlap with version 3"
    assert (
        Catalogue().methodology_at("metro_ride", coming.valid_from + timedelta(days=1)).version == 1
    )


def test_withdrawing_the_last_scheduled_version_gives_the_one_before_its_open_end_back(
    operators, coming
):
    writer, approver = operators
    draft = metro_draft(
        writer, baseline="52.5", valid_from=coming.valid_from + timedelta(days=30), version=3
    )
    later = services.methodology_approve(methodology=draft, approver=approver)

    services.methodology_withdraw(methodology=later, operator=approver, reason="not needed")

    assert Methodology.objects.get(pk=coming.pk).valid_until is None
    assert version_1().valid_until == coming.valid_from


def test_refusals(operators, coming, settings):
    writer, approver = operators
    with pytest.raises(exceptions.ReasonRequired):
        services.methodology_withdraw(methodology=coming, operator=approver, reason="  ")
    with pytest.raises(exceptions.NotOperator):
        services.methodology_withdraw(methodology=coming, operator=UserFactory(), reason="no")
    with pytest.raises(exceptions.WrongStatus):
        services.methodology_withdraw(methodology=version_1(), operator=approver, reason="in force")
    settings.EARN_CLOCK_SKEW_S = 300
    with pytest.raises(
        exceptions.AlreadyInForce
    ):  # its start has come: it may have quantified actions
        services.methodology_withdraw(
            methodology=coming,
            operator=approver,
            reason="too late",
            now=coming.valid_from - timedelta(seconds=299),
        )

    assert Methodology.objects.get(pk=coming.pk).status == Methodology.Status.APPROVED
    assert version_1().valid_until == coming.valid_from
    assert not AuditEntry.objects.filter(action="methodology.withdraw").exists()


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_an_operator_withdraws_in_the_admin_with_a_reason(client, operators, coming):
    client.force_login(operators[1])

    asked = client.post(URL, {"action": "withdraw", "_selected_action": [coming.pk]})
    no_reason = client.post(
        URL, {"action": "withdraw", "_selected_action": [coming.pk], "apply": "1", "reason": ""}
    )
    assert asked.status_code == no_reason.status_code == 200
    assert b'name="reason"' in asked.content and b"errorlist" in no_reason.content
    assert Methodology.objects.get(pk=coming.pk).status == Methodology.Status.APPROVED

    done = client.post(
        URL,
        {
            "action": "withdraw",
            "_selected_action": [coming.pk, version_1().pk],
            "apply": "1",
            "reason": "the factor is wrong",
        },
    )

    assert done.status_code == 302
    assert Methodology.objects.get(pk=coming.pk).status == Methodology.Status.DRAFT
    messages = said(done)
    assert "metro_ride v2 withdrawn: a draft again, no longer announced." in messages
    assert "metro_ride v1: This version is not in a state that allows it." in messages, (
        "refusals are messages"
    )
    assert (
        AuditEntry.objects.get(action="methodology.withdraw").details["reason"]
        == "the factor is wrong"
    )


def test_the_withdrawal_page_speaks_chinese(operators, coming):
    browser = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    browser.force_login(operators[1])

    page = browser.post(
        URL, {"action": "withdraw", "_selected_action": [coming.pk]}
    ).content.decode()

    assert "撤回" in page and "公开目录不再公示" in page
