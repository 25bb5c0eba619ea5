"""Writes for a citizen's PIPL rights: building an export, deleting the account."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Replace
from django.utils import timezone

from accounts.models import CarbonAccount, User
from carbonpoints.earn.models import ActionRecord, ConsentChange, IdentityLink
from carbonpoints.earn.services import identity_link_revoke
from carbonpoints.enqueue import task_enqueue_on_commit
from carbonpoints.evaluation.models import LeaderboardEntry
from carbonpoints.notifications.models import Notification
from carbonpoints.notifications.services import notification_post
from redemption.models import PaymentCode

from .exceptions import AccountAlreadyDeleted, PasswordIncorrect
from .models import DataExport
from .selectors import citizen_data

MAX_EXPORT_ATTEMPTS = 5


@transaction.atomic
def data_export_request(*, account: CarbonAccount) -> DataExport:
    """A large export, built by a worker after commit; a request while one is under way returns it."""
    running = (
        DataExport.objects.select_for_update()
        .filter(account=account, state__in=[DataExport.State.PENDING, DataExport.State.BUILDING])
        .first()
    )
    if running is not None:
        return running
    export = DataExport.objects.create(account=account)
    task_enqueue_on_commit("privacy.build_export", str(export.pk))
    return export


def data_export_build(*, export_id) -> DataExport | None:
    """Build the document, telling its progress as it goes; safe to run again (a dead worker's redo)."""
    claimed = DataExport.objects.filter(
        pk=export_id,
        state__in=[DataExport.State.PENDING, DataExport.State.BUILDING],
        attempts__lt=MAX_EXPORT_ATTEMPTS,
    ).update(state=DataExport.State.BUILDING, attempts=F("attempts") + 1, progress_percent=0)
    if not claimed:
        return None
    export = DataExport.objects.select_related("account__user").get(pk=export_id)

    def progress(percent: int) -> None:
        DataExport.objects.filter(pk=export.pk).update(progress_percent=min(percent, 99))

    document = citizen_data(account=export.account, progress=progress)
    with transaction.atomic():
        DataExport.objects.filter(pk=export.pk).update(
            state=DataExport.State.READY,
            progress_percent=100,
            document=document,
            finished_at=timezone.now(),
        )
        notification_post(
            account_id=export.account_id,
            kind=Notification.Kind.EXPORT_READY,
            data={"export_id": str(export.pk)},
        )
    export.refresh_from_db()
    return export


def _pseudonym(link: IdentityLink) -> str:
    return f"deleted-{link.pk}"


@transaction.atomic
def account_delete(*, user: User, password: str) -> None:
    """Delete a citizen's account as PIPL asks, keeping the ledger whole.

    Links are revoked and their member ids replaced by pseudonyms (in the link, its consent
    history and the records the partner sent), the e-mail and names are removed, sign-in is
    disabled and every session (browser and app token) ends. The ledger is append-only and
    balances must still re-derive, so its amounts stay, on an account nobody can tie to a person.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise AccountAlreadyDeleted()
    if not user.check_password(password):
        raise PasswordIncorrect()
    account = getattr(user, "carbon_account", None)
    if account is not None:
        for link in IdentityLink.objects.filter(account=account).select_related("partner"):
            identity_link_revoke(link=link)
            pseudonym = _pseudonym(link)
            ActionRecord.objects.filter(partner_id=link.partner_id, subject=link.subject).update(
                subject=pseudonym, raw=Replace("raw", Value(link.subject), Value(pseudonym))
            )
            ConsentChange.objects.filter(link=link).update(
                wording=Replace("wording", Value(link.subject), Value(pseudonym))
            )
            IdentityLink.objects.filter(pk=link.pk).update(
                subject=pseudonym,
                consent_wording=Replace("consent_wording", Value(link.subject), Value(pseudonym)),
            )
        PaymentCode.objects.filter(citizen=account).delete()
        LeaderboardEntry.objects.filter(account=account).delete()  # the nickname the citizen chose
        DataExport.objects.filter(account=account).delete()
    sessions = list(UserSession.objects.filter(user=user))
    EmailAddress.objects.filter(user=user).delete()
    user.email = f"deleted-{user.pk}@deleted.invalid"
    user.first_name = user.last_name = user.display_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    transaction.on_commit(lambda: [session.end() for session in sessions])
