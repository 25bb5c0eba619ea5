"""A citizen's data as one document (PIPL's right of access), and its ZIP of CSVs for the portal."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import CarbonAccount
from accounts.selectors import ACCOUNT_NAMES
from carbonpoints.csv_cells import csv_cell
from carbonpoints.earn.models import ActionRecord, ActionState
from carbonpoints.earn.selectors import citizen_links, reason_message
from carbonpoints.evaluation.models import BadgeAward, LeaderboardEntry
from carbonpoints.ledger.models import Posting
from carbonpoints.notifications.models import Notification
from carbonpoints.notifications.selectors import notification_text
from redemption.models import Redemption

from .exceptions import ExportNotFound, ExportNotReady
from .models import DataExport

SECTIONS = (
    "profile",
    "links",
    "consent_history",
    "actions",
    "ledger",
    "redemptions",
    "badges",
    "notifications",
)
CHUNK = 2000


def _time(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def export_size(*, account: CarbonAccount) -> int:
    """Rows an export would hold beyond the profile: what decides between answering now and a worker."""
    return (
        ActionRecord.objects.filter(account_id=account.pk).count()
        + Posting.objects.filter(
            account__owner_id=account.pk, account__kind__in=list(ACCOUNT_NAMES)
        ).count()
    )


def export_is_small(*, account: CarbonAccount) -> bool:
    return export_size(account=account) <= settings.PRIVACY_EXPORT_SYNC_MAX_ROWS


def _profile(account: CarbonAccount) -> dict:
    user = account.user
    return {
        "email": user.email,
        "display_name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "signed_up_at": _time(user.date_joined),
        "last_login": _time(user.last_login),
        "carbon_account_id": account.pk,
        "carbon_account_opened_at": _time(account.opened_at),
        "leaderboard_nickname": getattr(
            LeaderboardEntry.objects.filter(account=account).first(), "nickname", None
        ),
    }


def _links(account: CarbonAccount) -> tuple[list[dict], list[dict]]:
    links, history = [], []
    for link in citizen_links(account_id=account.pk):
        links.append(
            {
                "id": link.pk,
                "partner": link.partner.name,
                "subject": link.subject,
                "scenes": link.scenes,
                "consent_wording": link.consent_wording,
                "consented_at": _time(link.consented_at),
                "revoked_at": _time(link.revoked_at),
            }
        )
        history += [
            {
                "link_id": link.pk,
                "partner": link.partner.name,
                "kind": change.kind,
                "at": _time(change.at),
                "scenes": change.scenes,
                "wording": change.wording,
            }
            for change in link.consent_history.all()
        ]
    return links, history


def _actions(account: CarbonAccount) -> list[dict]:
    records = (
        ActionRecord.objects.filter(account_id=account.pk)
        .select_related("partner")
        .order_by("occurred_at", "id")
        .iterator(chunk_size=CHUNK)
    )
    return [
        {
            "id": r.pk,
            "partner": r.partner.name,
            "external_id": r.external_id,
            "action": r.action,
            "quantity": format(r.quantity.normalize(), "f"),
            "unit": r.unit,
            "occurred_at": _time(r.occurred_at),
            "received_at": _time(r.received_at),
            "attributes": r.attributes,
            "state": r.state,
            "reason": r.reason,
            "reason_message": reason_message(r),
            "capped": r.capped,
            "credited_g": r.credited_g if r.state == ActionState.CREDITED else None,
            "points": r.points if r.state == ActionState.CREDITED else None,
            "rules": [rule.get("code") for rule in (r.explanation or {}).get("rules", [])],
        }
        for r in records
    ]


def _ledger(account: CarbonAccount) -> list[dict]:
    postings = (
        Posting.objects.filter(account__owner_id=account.pk, account__kind__in=list(ACCOUNT_NAMES))
        .select_related("transaction", "account")
        .order_by("id")
        .iterator(chunk_size=CHUNK)
    )
    return [
        {
            "id": p.pk,
            "at": _time(p.created_at),
            "kind": p.transaction.kind,
            "account": ACCOUNT_NAMES[p.account.kind],
            "unit": p.unit,
            "amount": p.amount,
            "balance_after": p.balance_after,
            "reference": p.transaction.reference,
            "memo": p.transaction.memo,
        }
        for p in postings
    ]


def _redemptions(account: CarbonAccount) -> list[dict]:
    rows = []
    for r in (
        Redemption.objects.filter(citizen=account)
        .select_related("scenario__merchant", "voucher")
        .order_by("created_at", "id")
    ):
        voucher = getattr(r, "voucher", None)
        rows.append(
            {
                "id": r.pk,
                "at": _time(r.created_at),
                "kind": r.scenario.kind,
                "title": r.scenario.title,
                "merchant": r.scenario.merchant.name,
                "points_spent": r.points_spent,
                "status": r.status,
                "voucher_code": voucher.code if voucher else None,
                "voucher_expires_at": _time(voucher.expires_at) if voucher else None,
                "voucher_consumed_at": _time(voucher.consumed_at) if voucher else None,
                "donation_certificate": (
                    f"/certificates/donations/{r.public_id}"
                    if r.scenario.kind == "donation"
                    else None
                ),
            }
        )
    return rows


def _badges(account: CarbonAccount) -> list[dict]:
    return [
        {"code": a.badge.code, "name": a.badge.name, "awarded_at": _time(a.awarded_at)}
        for a in BadgeAward.objects.filter(account=account)
        .select_related("badge")
        .order_by("awarded_at")
    ]


def _notifications(account: CarbonAccount) -> list[dict]:
    return [
        {
            "id": n.pk,
            "at": _time(n.created_at),
            "kind": n.kind,
            "text": notification_text(n),
            "read_at": _time(n.read_at),
        }
        for n in Notification.objects.filter(account=account).order_by("id")
    ]


def citizen_data(*, account: CarbonAccount, progress: Callable[[int], None] | None = None) -> dict:
    """Everything the platform holds about the citizen, section by section (``progress`` hears the
    percentage done after each)."""
    document: dict = {"exported_at": _time(timezone.now()), "format": "carbonpoints-export/1"}
    steps = [
        ("profile", _profile),
        ("links", None),
        ("actions", _actions),
        ("ledger", _ledger),
        ("redemptions", _redemptions),
        ("badges", _badges),
        ("notifications", _notifications),
    ]
    for done, (name, read) in enumerate(steps, start=1):
        if name == "links":
            document["links"], document["consent_history"] = _links(account)
        elif read is not None:
            document[name] = read(account)
        if progress:
            progress(done * 100 // len(steps))
    return document


def _cell(value: Any) -> Any:
    """A CSV cell: text that would start a spreadsheet formula is written as text (``csv_cell``)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    return csv_cell(value) if isinstance(value, str) else value


def export_zip(document: dict) -> bytes:
    """One CSV per section (UTF-8 with a BOM, so spreadsheet programs read Chinese), in a ZIP."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for section in SECTIONS:
            rows = document.get(section) or []
            if isinstance(rows, dict):
                rows = [rows]
            out = io.StringIO()
            out.write("\ufeff")
            columns = list(rows[0]) if rows else ["empty"]
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row.get(column)) for column in columns])
            archive.writestr(f"{section}.csv", out.getvalue())
        archive.writestr("export.json", json.dumps(document, ensure_ascii=False, indent=1))
    return buffer.getvalue()


def citizen_export(*, account: CarbonAccount, export_id) -> DataExport | None:
    """One of the citizen's exports, without its document."""
    return DataExport.objects.defer("document").filter(pk=export_id, account=account).first()


def citizen_export_latest(*, account: CarbonAccount) -> DataExport | None:
    """The citizen's latest export, without its document (the account page shows its progress)."""
    return DataExport.objects.defer("document").filter(account=account).first()


def citizen_export_document(*, account: CarbonAccount, export_id) -> dict:
    """The document of one of the citizen's exports, once ready (``ExportNotFound``, ``ExportNotReady``)."""
    export = citizen_export(account=account, export_id=export_id)
    if export is None:
        raise ExportNotFound()
    if export.state != DataExport.State.READY:
        raise ExportNotReady(progress_percent=export.progress_percent)
    document = DataExport.objects.values_list("document", flat=True).get(pk=export.pk)
    return document or {}
