"""The demo city's operator side: a second operator (four eyes), methodology versions in each
approval state, a drafted partner, and claims (one waiting for its partner, one denied)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.demo import CITIZEN_EMAIL, OPERATOR_EMAIL
from accounts.models import User
from carbonpoints.earn.models import IdentityLink, Partner
from carbonpoints.earn.services import partner_draft
from carbonpoints.methodologies import services as methodologies
from carbonpoints.methodologies.models import Methodology

from .models import Claim
from .services import claim_deny, claim_file

SECOND_OPERATOR_EMAIL = "operator2@demo.carbonpoints.cn"


def _receipt() -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (320, 200), "white").save(data, "PNG")
    return SimpleUploadedFile("receipt.png", data.getvalue(), content_type="image/png")


def _version(code: str, *, author: User, start, factor: str) -> Methodology:
    current = Methodology.objects.filter(code=code).order_by("-version").first()
    assert current is not None
    return methodologies.methodology_draft_save(
        author=author,
        methodology=Methodology(
            code=code,
            version=current.version + 1,
            title=current.title,
            unit=current.unit,
            baseline_g_per_unit=Decimal(factor),
            project_g_per_unit=current.project_g_per_unit,
            basis=current.basis,
            # the demo's revision is made up to show versioning: its source says so, and cites its own figure
            source=(
                f"演示用修订，仅为展示版本管理，并非已发布的因子 Demo revision, made up to show versioning, "
                f"not a published factor: {factor} g CO2 per {current.unit}. "
                f"Version {current.version}: {current.source}"
            ),
            valid_from=start,
            daily_cap=current.daily_cap,
            monthly_cap=current.monthly_cap,
            max_quantity_per_record=current.max_quantity_per_record,
            max_speed_kmh=current.max_speed_kmh,
        ),
    )


def seed(*, password: str, citizens: int, log: Callable[[str], None]) -> dict[str, str]:
    if User.objects.filter(email=SECOND_OPERATOR_EMAIL).exists():
        log("already there")
        return {"operator2": SECOND_OPERATOR_EMAIL}
    writer = User.objects.get(email=OPERATOR_EMAIL)
    approver = User.objects.create_superuser(
        email=SECOND_OPERATOR_EMAIL, password=password, display_name="运营二 Operator 2"
    )
    now = timezone.now()
    notice = timedelta(days=settings.METHODOLOGY_NOTICE_DAYS)
    coming = _version(
        "bus_ride", author=writer, start=now + notice + timedelta(days=3), factor="110"
    )
    methodologies.methodology_approve(methodology=coming, approver=approver)
    _version("metro_ride", author=writer, start=now + notice + timedelta(days=30), factor="52")
    partner_draft(name="珠江渡轮 Pearl River Ferry", actions=["metro_ride"], author=writer)

    filed = 0
    claimant = User.objects.filter(email=CITIZEN_EMAIL.format(n=1)).first()
    link = (
        IdentityLink.objects.filter(
            account__user=claimant, revoked_at__isnull=True, partner__status=Partner.Status.ACTIVE
        )
        .select_related("partner")
        .first()
        if claimant
        else None
    )
    if link is not None:
        action = link.scenes[0] if link.scenes else link.partner.actions[0]
        unit = Methodology.objects.filter(code=action).order_by("version").first()
        quantity = (
            Decimal("1") if unit is None or unit.fixed_quantity is None else unit.fixed_quantity
        )
        for days, note in ((3, "刷卡机故障 The card reader was down"), (5, "")):
            claim_file(
                account=link.account,
                partner=link.partner,
                action=action,
                quantity=quantity,
                occurred_at=now - timedelta(days=days),
                evidence=_receipt(),
                note=note,
            )
            filed += 1
        denied = Claim.objects.filter(account=link.account).order_by("created_at").last()
        if denied is not None:
            claim_deny(
                claim=denied,
                partner=link.partner,
                reason="那天没有进站记录 No entry recorded that day.",
            )
    log(
        f"a second operator, bus_ride v2 approved (coming), metro_ride v2 a draft, a drafted partner, "
        f"{filed} claims (one denied)"
    )
    return {"operator2": SECOND_OPERATOR_EMAIL}
