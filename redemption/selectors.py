"""Reads of the spend side: the catalogue, vouchers, a merchant's figures, certificates."""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import datetime, time, timedelta
from time import monotonic
from typing import Any
from uuid import UUID

import qrcode
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from qrcode.exceptions import DataOverflowError

from accounts.ledger_accounts import POOL_KIND_PREFIX, POOL_UNIT, pool_account_parts
from accounts.models import CarbonAccount
from accounts.selectors import carbon_account_balances
from carbonpoints.ledger.models import LedgerAccount
from carbonpoints.regions import codes as region_codes
from carbonpoints.sqlrows import SQLRows

from .ledger_accounts import MERCHANT_POINTS, OFFSET_RETIRED, receiving_account_kinds
from .models import (
    Checkout,
    Merchant,
    MerchantStaff,
    OffsetCertificate,
    Redemption,
    Scenario,
    Settlement,
    UnitBlock,
    Voucher,
)

QR_BORDER = 2
"""Quiet zone around the code, in modules."""


SCENARIO_READ_S = 2.0
"""How long a process may answer a redemption's scenario read from memory (see
``scenario_to_redeem``)."""
_SCENARIO_ROWS_KEPT = 1024
_scenario_rows: dict[int, tuple[float, tuple[Any, ...]]] = {}


def scenario_to_redeem(*, scenario_id: int, max_age_s: float = 0.0) -> Scenario | None:
    """The scenario with its merchant's status, as a redemption needs it: one plain row.

    Every attempt of a flash sale that reaches the database reads it, so it skips the ORM's
    query building and its second model (0.5 → 0.1 ms of CPU). The merchant carries only its
    status (its other fields load on access).

    ``max_age_s``: a row this process read less than that long ago may answer (no statement).
    Only for a caller whose writing statement checks again what may have changed since (the
    status, the merchant's, the dates, the stock: ``_redemption_write``), and which never
    refuses from it (``redemption_scenario``). Every read refreshes the row kept.
    """
    row = None
    now = monotonic()
    if max_age_s > 0:
        kept = _scenario_rows.get(scenario_id)
        if kept is not None and now - kept[0] < max_age_s:
            row = kept[1]
    if row is None:
        with connection.cursor() as cursor:
            cursor.execute(_SCENARIO_TO_REDEEM, [scenario_id])
            row = cursor.fetchone()
        if row is None:
            _scenario_rows.pop(scenario_id, None)
            return None
        if len(_scenario_rows) >= _SCENARIO_ROWS_KEPT:
            _scenario_rows.clear()
        _scenario_rows[scenario_id] = (now, row)
    scenario = Scenario.from_db(connection.alias, _SCENARIO_FIELDS, row[:-1])
    scenario.merchant = Merchant.from_db(
        connection.alias, ["id", "status"], (scenario.merchant_id, row[-1])
    )
    return scenario


_SCENARIO_FIELDS = [field.attname for field in Scenario._meta.concrete_fields]
_SCENARIO_TO_REDEEM = (
    "SELECT "
    + ", ".join(
        f"s.{connection.ops.quote_name(str(f.column))}" for f in Scenario._meta.concrete_fields
    )
    + f", m.status FROM {Scenario._meta.db_table} s JOIN {Merchant._meta.db_table} m ON m.id = s.merchant_id "
    "WHERE s.id = %s"
)


QR_CACHED = 2048
"""Drawings kept per process (about 4.5 kB each for a voucher code): a retry's answer, the wallet
and ``/me/vouchers`` pages draw the same codes again."""


@functools.lru_cache(maxsize=QR_CACHED)
def qr_svg(data: str) -> str:
    """An inline SVG QR code (no image files, no CDN): one path of a unit square per dark module.

    The same bytes as qrcode's ``SvgPathImage`` (box size 10, border 2) draws, written straight
    from the module matrix: its per-module drawing with Decimal units cost more than the whole
    rest of a redemption. A drawing depends on ``data`` alone, so it is kept by it (a retry of a
    redemption answers the same bytes without drawing again).
    """
    modules = _qr_code(data).modules
    size = len(modules) + 2 * QR_BORDER
    squares = _SQUARES if size <= len(_SQUARES) else _squares(size)
    path = "".join(
        [
            square
            for row, line in zip(modules, squares[QR_BORDER:], strict=False)
            for dark, square in zip(row, line[QR_BORDER:], strict=False)
            if dark
        ]
    )
    return (
        f'<svg width="{size}mm" height="{size}mm" version="1.1" viewBox="0 0 {size} {size}" '
        f'xmlns="http://www.w3.org/2000/svg"><path d="{path}" id="qr-path" fill="#000000" fill-opacity="1" '
        'fill-rule="nonzero" stroke="none" /></svg>'
    )


def _squares(size: int) -> list[list[str]]:
    """The path of the unit square at each (row, column), written once instead of per drawing."""
    return [[f"M{x},{y}H{x + 1}V{y + 1}H{x}z" for x in range(size)] for y in range(size)]


_SQUARES = _squares(21 + 2 * QR_BORDER)  # version 1 with its quiet zone


def _qr_code(data: str) -> qrcode.QRCode:
    """The smallest QR code holding ``data``, as ``make(fit=True)`` finds it, but tried at version
    1 first: every voucher and payment code fits there, and the search of the best fit cost a fifth
    of a drawing."""
    for version in (1, None):
        # A fixed mask pattern skips scoring all eight masks: half the time, a code as readable.
        code = qrcode.QRCode(border=QR_BORDER, mask_pattern=0, version=version)
        code.add_data(data)
        try:
            code.make(fit=version is None)
        except DataOverflowError:
            continue
        return code
    raise AssertionError("unreachable: make(fit=True) finds a version or raises")


def merchant_points(*, merchant_id: int, which: tuple[str, str] = MERCHANT_POINTS) -> int:
    """What the merchant holds on its ``which`` accounts: the sum over their shards."""
    kind, unit = which
    total = LedgerAccount.objects.filter(
        kind__in=receiving_account_kinds(which), owner_id=merchant_id, unit=unit
    ).aggregate(total=Sum("balance"))["total"]
    return total or 0


def staff_of(user) -> MerchantStaff | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return MerchantStaff.objects.select_related("merchant").filter(user=user).first()


def citizen_points_available(citizen: CarbonAccount) -> int:
    """The points the citizen may spend: their account's and their unposted accrual's (a spend
    posts the accrual first, ``accounts.services.accrual_post``)."""
    return carbon_account_balances(account=citizen)["available"]


def scenario_catalogue(
    *,
    kind: str | None = None,
    merchant_id: int | None = None,
    affordable_for: CarbonAccount | None = None,
    region: str | None = None,
) -> QuerySet[Scenario]:
    """What citizens can redeem now (or use at the till): live, in its window, approved merchant.

    ``region`` (a GB/T 2260 code): only what is offered there, its merchants' scenarios (and those
    of merchants of the province itself) and the province-wide ones; None: everywhere."""
    now = timezone.now()
    scenarios = (
        Scenario.objects.select_related("merchant")
        .filter(
            status=Scenario.Status.LIVE,
            merchant__status=Merchant.Status.APPROVED,
            valid_from__lte=now,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .order_by("points_cost", "id")
    )
    if kind:
        scenarios = scenarios.filter(kind=kind)
    if merchant_id:
        scenarios = scenarios.filter(merchant_id=merchant_id)
    if region:
        scenarios = scenarios.filter(offered_in(region))
    if affordable_for is not None:
        balance = citizen_points_available(affordable_for)
        scenarios = scenarios.filter(
            Q(points_cost__lte=balance) | Q(kind=Scenario.Kind.POINTS_OFFSET)
        )
        scenarios = scenarios.filter(Q(stock_left__isnull=True) | Q(stock_left__gt=0))
    return scenarios


def offered_in(region: str) -> Q:
    """The scenarios offered in a region: its own merchants' (and the province's merchants'), and
    every province-wide scenario of a merchant of the same province; in a province, all of its own."""
    in_province = Q(merchant__region__code__startswith=region_codes.province_of(region)[:2])
    if region_codes.parent_of(region) is None:
        return in_province
    return Q(merchant__region__in=region_codes.chain(region)) | (
        Q(province_wide=True) & in_province
    )


def catalogue_region(*, asked: str | None, citizen: CarbonAccount | None) -> str | None:
    """The region ``GET /scenarios`` shows: the one asked for (``all``: everywhere), else the
    citizen's home region (the default region until they choose); everywhere for others."""
    if asked:
        return None if asked == "all" else asked
    if citizen is None:
        return None
    return citizen.home_region_id or region_codes.default()


SCENARIO_ROW = (
    "id",
    "kind",
    "title",
    "description",
    "points_cost",
    "points_per_yuan",
    "max_share_bp",
    "stock",
    "stock_left",
    "per_citizen_limit",
    "per_citizen_daily_limit",
    "valid_from",
    "valid_until",
    "status",
    "merchant_id",
    "province_wide",
    "merchant__region",
    "merchant__name",
)


@functools.cache
def _catalogue_statements(filters: tuple[str, ...]) -> tuple[str, str]:
    """The catalogue's SELECT (cheapest first) and its COUNT for these filters, written once each:
    the conditions of ``scenario_catalogue``."""
    conditions = {
        "kind": "s.kind = %s",
        "merchant_id": "s.merchant_id = %s",
        "affordable": "(s.points_cost <= %s OR s.kind = %s) AND (s.stock_left IS NULL OR s.stock_left > 0)",
        # offered in a city: its (or its province's) merchants', and the province-wide ones
        "city": "(m.region_id = ANY(%s) OR (s.province_wide AND m.region_id LIKE %s))",
        "province": "m.region_id LIKE %s",
    }  # offered in a province: all of its own
    where = " AND ".join(
        [
            "s.status = %s AND m.status = %s AND s.valid_from <= %s AND (s.valid_until IS NULL OR s.valid_until > %s)",
            *(conditions[name] for name in filters),
        ]
    )
    tables = (
        f"{Scenario._meta.db_table} s JOIN {Merchant._meta.db_table} m ON m.id = s.merchant_id"
        f" WHERE {where}"
    )
    columns = ", ".join(f"s.{column}" for column in SCENARIO_ROW[:-2])
    return (
        f"SELECT {columns}, m.region_id, m.name FROM {tables} ORDER BY s.points_cost, s.id",
        f"SELECT COUNT(*) FROM {tables}",
    )


def scenario_catalogue_rows(
    *,
    kind: str | None = None,
    merchant_id: int | None = None,
    affordable_for: CarbonAccount | None = None,
    region: str | None = None,
) -> SQLRows:
    """``scenario_catalogue`` as plain rows (``SCENARIO_ROW``) for the citizen's catalogue: the
    app's voucher page at a release, where building each scenario and its merchant as models, and
    the page's and count's ORM queries, cost more CPU than running them (``carbonpoints.sqlrows``)."""
    now = timezone.now()
    params: list = [Scenario.Status.LIVE, Merchant.Status.APPROVED, now, now]
    given = []
    if kind:
        given.append("kind")
        params.append(kind)
    if merchant_id:
        given.append("merchant_id")
        params.append(merchant_id)
    if affordable_for is not None:
        given.append("affordable")
        params += [citizen_points_available(affordable_for), Scenario.Kind.POINTS_OFFSET]
    if region:  # as ``offered_in``
        province = region_codes.province_of(region)[:2] + "%"
        if region_codes.parent_of(region) is None:
            given.append("province")
            params.append(province)
        else:
            given.append("city")
            params += [list(region_codes.chain(region)), province]
    select, count = _catalogue_statements(tuple(given))
    return SQLRows(select=select, count=count, params=params, columns=SCENARIO_ROW)


def scenario_row(scenario: Scenario) -> dict:
    """One scenario as ``scenario_catalogue_rows`` gives it."""
    return {
        "id": scenario.pk,
        "kind": scenario.kind,
        "title": scenario.title,
        "description": scenario.description,
        "points_cost": scenario.points_cost,
        "points_per_yuan": scenario.points_per_yuan,
        "max_share_bp": scenario.max_share_bp,
        "stock": scenario.stock,
        "stock_left": scenario.stock_left,
        "per_citizen_limit": scenario.per_citizen_limit,
        "per_citizen_daily_limit": scenario.per_citizen_daily_limit,
        "valid_from": scenario.valid_from,
        "valid_until": scenario.valid_until,
        "status": scenario.status,
        "merchant_id": scenario.merchant_id,
        "province_wide": scenario.province_wide,
        "merchant__region": scenario.merchant.region_id,
        "merchant__name": scenario.merchant.name,
    }


def citizen_vouchers(*, citizen: CarbonAccount) -> QuerySet[Voucher]:
    return (
        Voucher.objects.select_related("redemption__scenario__merchant")
        .filter(redemption__citizen=citizen)
        .order_by("-redemption__created_at", "-id")
    )


def voucher_code_normalize(code: str) -> str:
    """What a cashier types (any case, spaces or dashes) as the stored code."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def merchant_voucher(*, merchant: Merchant, code: str) -> Voucher | None:
    """A voucher of this merchant by its typed code; another merchant's is not found."""
    return (
        Voucher.objects.select_related("redemption__scenario")
        .filter(code=voucher_code_normalize(code), redemption__scenario__merchant=merchant)
        .first()
    )


def voucher_state(voucher: Voucher) -> str:
    if voucher.consumed_at:
        return "consumed"
    if voucher.redemption.status == Redemption.Status.REFUNDED:
        return "expired" if voucher.expired_at else "refunded"
    if voucher.expires_at <= timezone.now():
        return "expired"
    return "valid"


def regions_traded() -> int:
    """In how many regions merchants trade (one: a deployment of one region)."""
    return Merchant.objects.values("region").distinct().count()


def merchant_scenarios(*, merchant: Merchant) -> QuerySet[Scenario]:
    return merchant.scenarios.annotate(
        redeemed=Count(
            "redemptions", filter=~Q(redemptions__status=Redemption.Status.REFUNDED), distinct=True
        ),
        paid_checkouts=Count("checkouts", filter=Q(checkouts__status="paid"), distinct=True),
    ).order_by("-created_at", "-id")


def donation_reduction(redemption: Redemption) -> dict | None:
    """The reduction behind donated points, by the conversion rule in force when they were given:
    ``{"grams", "grams_per_point"}``, or ``None`` without a rule. Points are earned at the rule of
    their day, so this reads as “about”."""
    from carbonpoints.methodologies.selectors import Catalogue

    rule = Catalogue().rule_at(redemption.created_at)
    if rule is None:
        return None
    return {
        "grams": redemption.points_spent * rule.grams_per_point,
        "grams_per_point": rule.grams_per_point,
    }


def merchant_offset_scenario(*, merchant_id: int) -> Scenario | None:
    """The live "points off the price" scenario the till takes points for (the one checkout_create uses)."""
    return Scenario.objects.filter(
        merchant_id=merchant_id, kind=Scenario.Kind.POINTS_OFFSET, status=Scenario.Status.LIVE
    ).first()


def redemption_chart(*, scenario: Scenario, days: int = 14) -> list[dict]:
    """Redemptions (or paid checkouts) per local day over the last ``days``, for a bar chart."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    rows: QuerySet[Any]
    if scenario.kind == Scenario.Kind.POINTS_OFFSET:
        rows = scenario.checkouts.filter(created_at__gte=since, status="paid")
    else:
        rows = scenario.redemptions.filter(created_at__gte=since).exclude(
            status=Redemption.Status.REFUNDED
        )
    counts = dict(
        rows.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    series: list[dict[str, Any]] = [
        {"day": first + timedelta(days=i), "n": counts.get(first + timedelta(days=i), 0)}
        for i in range(days)
    ]
    top = max([point["n"] for point in series] + [1])
    for i, point in enumerate(series):
        point["height"] = point["n"] * 100 // top
        point["x"] = i * 20
        point["y"] = 110 - point["height"]
    return series


def pool_summary() -> list[dict]:
    """Grams held per pool (methodology, vintage), oldest first, for the offsets page."""
    rows = []
    for account in LedgerAccount.objects.filter(
        kind__startswith=POOL_KIND_PREFIX, unit=POOL_UNIT, balance__gt=0
    ).order_by("owner_id", "kind"):
        methodology, vintage = pool_account_parts(account.kind, account.owner_id)
        rows.append({"methodology": methodology, "vintage": vintage, "grams": account.balance})
    return rows


def certificate_serial_ranges(certificate: OffsetCertificate) -> list[dict]:
    return [
        {
            "methodology": block.methodology_code,
            "vintage": block.vintage_label,
            "first": block.serial(block.serial_first),
            "last": block.serial(block.serial_last),
            "grams": block.grams,
        }
        for block in certificate.blocks.order_by("vintage", "methodology_code", "serial_first")
    ]


def certificate_public(certificate: OffsetCertificate, *, url: str) -> dict:
    """Everything a stranger needs to verify a certificate, checked against the ledger."""
    ranges = certificate_serial_ranges(certificate)
    kind, unit = OFFSET_RETIRED
    retired_leg = (
        certificate.ledger_tx.postings.filter(
            account__kind=kind, account__unit=unit, account__owner_id=certificate.merchant_id
        ).aggregate(g=Sum("amount"))["g"]
        or 0
    )
    verified = retired_leg == certificate.grams == sum(r["grams"] for r in ranges)
    return {
        "id": str(certificate.id),
        "merchant": certificate.merchant.name,
        "grams": certificate.grams,
        "purpose": certificate.purpose,
        "retired_at": certificate.created_at.isoformat(),
        "serial_ranges": ranges,
        "methodologies": sorted({r["methodology"] for r in ranges}),
        "vintages": sorted({r["vintage"] for r in ranges}),
        "ledger_transaction": certificate.ledger_tx_id,
        "verified": verified,
        "url": url,
    }


def units_overlap() -> bool:
    """True if any serial were in two blocks (a unit retired twice); used by tests and checks."""
    for block in UnitBlock.objects.order_by(
        "methodology_code", "vintage", "serial_first"
    ).iterator():
        if (
            UnitBlock.objects.filter(
                methodology_code=block.methodology_code,
                vintage=block.vintage,
                serial_first__lte=block.serial_last,
                serial_last__gte=block.serial_first,
            )
            .exclude(pk=block.pk)
            .exists()
        ):
            return True
    return False


# --- settlements ---------------------------------------------------------------------------------


def merchant_settlement(*, merchant_id: int, settlement_id: int) -> Settlement | None:
    """One of the merchant's statements with its lines (another merchant's is not found)."""
    return (
        Settlement.objects.select_related("merchant")
        .prefetch_related("lines")
        .filter(pk=settlement_id, merchant_id=merchant_id)
        .first()
    )


def merchant_points_unsettled(*, merchant_id: int) -> int:
    """Points the merchant took (or holds for vouchers not yet used) that no statement settled."""
    return merchant_points(merchant_id=merchant_id, which=MERCHANT_POINTS)


def settlement_figures(*, regions: Collection[str] | None = None) -> dict[str, int]:
    """The settlement figures on the operator dashboard (of merchants in ``regions``, or all):
    statements made, points settled, money owed to merchants (fen), and points merchants hold
    that are not yet settled."""
    rows = settlement_figures_by_merchant(regions=regions)
    return {
        figure: sum(row[figure] for row in rows)
        for figure in ("statements", "points_settled", "amount_owed_fen", "points_unsettled")
    }


def settlement_figures_by_merchant(
    *, regions: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Per merchant (in ``regions``, or all): statements, points settled, money owed (fen), points
    not yet settled."""
    merchants = Merchant.objects.all()
    if regions is not None:
        merchants = merchants.filter(region__in=regions)
    settled = Settlement.objects.filter(merchant__in=merchants)
    rows: dict[int, Any] = {
        row["merchant_id"]: row
        for row in settled.values("merchant_id").annotate(
            statements=Count("pk"),
            points_settled=Sum("points_total"),
            amount_owed_fen=Sum("amount_fen"),
        )
    }
    receiving = LedgerAccount.objects.filter(
        kind__in=receiving_account_kinds(MERCHANT_POINTS), unit=MERCHANT_POINTS[1]
    )
    if regions is not None:
        receiving = receiving.filter(owner_id__in=merchants.values("pk"))
    unsettled: dict[int, int] = dict(
        receiving.values("owner_id").annotate(total=Sum("balance")).values_list("owner_id", "total")
    )
    names = dict(merchants.filter(pk__in=set(rows) | set(unsettled)).values_list("pk", "name"))
    return [
        {
            "merchant_id": pk,
            "merchant": names[pk],
            "statements": rows.get(pk, {}).get("statements", 0),
            "points_settled": rows.get(pk, {}).get("points_settled", 0) or 0,
            "amount_owed_fen": rows.get(pk, {}).get("amount_owed_fen", 0) or 0,
            "points_unsettled": unsettled.get(pk, 0) or 0,
        }
        for pk in sorted(names)
    ]


# --- what the merchant's pages and API list ----------------------------------------------------


def merchant_scenario(*, merchant: Merchant, scenario_id: int) -> Scenario | None:
    """One of the merchant's scenarios (another merchant's is not found)."""
    return Scenario.objects.filter(pk=scenario_id, merchant=merchant).first()


def merchant_has_live_offset_scenario(*, merchant: Merchant) -> bool:
    """Whether the till can take points as part-payment (a live points-offset scenario)."""
    return merchant.scenarios.filter(
        kind=Scenario.Kind.POINTS_OFFSET, status=Scenario.Status.LIVE
    ).exists()


def merchant_checkouts(*, merchant: Merchant) -> QuerySet[Checkout]:
    """The merchant's checkouts, newest first."""
    return Checkout.objects.filter(merchant=merchant)


def merchant_settlements(*, merchant: Merchant, oldest_first: bool = False) -> QuerySet[Settlement]:
    """The merchant's daily statements, newest first (or oldest first, for a file)."""
    settlements = merchant.settlements.all()
    return settlements.order_by("day") if oldest_first else settlements


def merchant_certificates(*, merchant: Merchant) -> QuerySet[OffsetCertificate]:
    """The merchant's offset certificates, newest first."""
    return merchant.certificates.all()


def merchant_staff(*, merchant: Merchant) -> QuerySet[MerchantStaff]:
    return merchant.staff.select_related("user")


def offset_certificate(*, certificate_id: UUID | str) -> OffsetCertificate | None:
    """An offset certificate, as anyone may verify it."""
    return (
        OffsetCertificate.objects.select_related("merchant", "ledger_tx")
        .filter(pk=certificate_id)
        .first()
    )


def donation(*, public_id) -> Redemption | None:
    """A citizen's donation of points, by the public id of its certificate."""
    return (
        Redemption.objects.select_related("scenario__merchant", "citizen__user")
        .filter(public_id=public_id, scenario__kind=Scenario.Kind.DONATION)
        .first()
    )


def wallet_scenarios(*, region: str | None = None) -> QuerySet[Scenario]:
    """What the wallet offers to redeem (offered in ``region``; None: everywhere): the catalogue
    without the till's points-offset scenarios."""
    return scenario_catalogue(region=region).exclude(kind=Scenario.Kind.POINTS_OFFSET)


def citizen_redemptions(*, citizen: CarbonAccount) -> QuerySet[Redemption]:
    """What the citizen redeemed, newest first, with its voucher."""
    return (
        Redemption.objects.filter(citizen=citizen)
        .select_related("scenario__merchant", "voucher")
        .order_by("-created_at", "-id")
    )


def citizen_donations(*, citizen: CarbonAccount) -> QuerySet[Redemption]:
    """The citizen's donations of points, newest first."""
    return (
        Redemption.objects.filter(citizen=citizen, scenario__kind=Scenario.Kind.DONATION)
        .select_related("scenario__merchant")
        .order_by("-created_at")
    )
