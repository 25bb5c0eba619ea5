"""The spend side: merchants and staff, scenarios, vouchers, till checkouts, settlements, offsets.

Points and grams themselves live in the ledger; these rows say what they were spent on. The
invariants that must hold under concurrency are guarded by the database: stock never below zero
(check constraint, taken with a conditional UPDATE), one voucher per code, one settlement per
merchant and day, one idempotent answer per (user, key).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbonpoints.approvals import FourEyes
from carbonpoints.ledger.models import LedgerTransaction
from carbonpoints.regions.codes import default as default_region


class Merchant(FourEyes):
    class Status(models.TextChoices):
        PENDING = "pending", _("draft (pending approval)")
        APPROVED = "approved", _("approved, in force")
        SUSPENDED = "suspended", _("suspended (retired)")

    name = models.CharField(_("name"), max_length=120, unique=True)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        default=default_region,
        blank=True,
        related_name="merchants",
        verbose_name=_("region"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.region_id = self.region_id or default_region()  # a region left empty: the default one

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class Store(models.Model):
    """A shop of the merchant (optional): tills record where a voucher was consumed."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="stores")
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="store_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.merchant} · {self.name}"


class MerchantStaff(models.Model):
    """A person working for one merchant: managers run scenarios and staff, cashiers the till."""

    class Role(models.TextChoices):
        MANAGER = "manager", _("manager")
        CASHIER = "cashier", _("cashier")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="staff")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_staff"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    store = models.ForeignKey(
        Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="staff"
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("merchant staff member")
        verbose_name_plural = _("merchant staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.merchant})"

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER


class Scenario(models.Model):
    """Something points can be spent on at one merchant."""

    class Kind(models.TextChoices):
        VOUCHER = "voucher", _("voucher")
        POINTS_OFFSET = "points_offset", _("points off the price")
        DONATION = "donation", _("donation")

    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", _("waiting for operator review")
        LIVE = "live", _("live")
        PAUSED = "paused", _("paused")
        REJECTED = "rejected", _("rejected")
        CANCELLED = "cancelled", _("cancelled")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="scenarios")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    points_cost = models.PositiveIntegerField(_("points cost"), null=True, blank=True)
    points_per_yuan = models.PositiveIntegerField(
        _("points per yuan"),
        null=True,
        blank=True,
        help_text=_("points_offset: e.g. 100 points = 1 CNY."),
    )
    max_share_bp = models.PositiveIntegerField(
        _("largest share of a price, in basis points"),
        null=True,
        blank=True,
        # xgettext:no-python-format
        help_text=_("points_offset: 3000 means points pay at most 30% of an order."),
    )
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    stock_left = models.IntegerField(_("stock left"), null=True, blank=True)
    per_citizen_limit = models.PositiveIntegerField(
        _("limit per citizen in total"), null=True, blank=True
    )
    per_citizen_daily_limit = models.PositiveIntegerField(
        _("limit per citizen per day"), null=True, blank=True
    )
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    voucher_valid_days = models.PositiveIntegerField(_("vouchers valid for (days)"), default=30)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.LIVE
    )
    province_wide = models.BooleanField(
        _("offered province-wide"),
        default=False,
        help_text=_(
            "Offered to citizens of every city of the province, not only in its merchant's region."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("redemption scenario")
        verbose_name_plural = _("redemption scenarios")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stock_left__isnull=True) | Q(stock_left__gte=0),
                name="scenario_stock_never_negative",
            ),
            models.CheckConstraint(
                condition=Q(max_share_bp__isnull=True) | Q(max_share_bp__lte=10000),
                name="scenario_share_at_most_all",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"], name="scenario_catalogue_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.merchant})"


class Redemption(models.Model):
    """Points a citizen spent on a voucher or donation scenario (one ledger transaction)."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("voucher issued")
        CONSUMED = "consumed", _("voucher consumed")
        DONATED = "donated", _("donated")
        REFUNDED = "refunded", _("refunded")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="redemptions")
    citizen = models.ForeignKey(
        "accounts.CarbonAccount", on_delete=models.PROTECT, related_name="redemptions"
    )
    points_spent = models.PositiveIntegerField(_("points spent"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    spend_tx = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="+")
    refund_tx = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["citizen", "scenario", "created_at"], name="redemption_limit_idx")
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.scenario.title}"


class Voucher(models.Model):
    """What a voucher redemption gives the citizen: an unguessable code, shown as a QR, consumed once."""

    redemption = models.OneToOneField(Redemption, on_delete=models.PROTECT, related_name="voucher")
    code = models.CharField(_("code"), max_length=32, unique=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    consumed_at = models.DateTimeField(_("consumed at"), null=True, blank=True)
    consumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        constraints = [
            models.CheckConstraint(
                condition=Q(consumed_at__isnull=True) | Q(expired_at__isnull=True),
                name="voucher_consumed_or_expired",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class PaymentCode(models.Model):
    """A citizen's short-lived, single-use code, shown as a QR at the till to pay with points."""

    citizen = models.ForeignKey(
        "accounts.CarbonAccount", on_delete=models.CASCADE, related_name="payment_codes"
    )
    code = models.CharField(_("code"), max_length=32, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment code")
        verbose_name_plural = _("payment codes")


class Checkout(models.Model):
    """Points paying part of an order at the till (a points_offset scenario)."""

    class Status(models.TextChoices):
        PAID = "paid", _("paid")
        REVERSED = "reversed", _("reversed")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="checkouts")
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="checkouts")
    citizen = models.ForeignKey(
        "accounts.CarbonAccount", on_delete=models.PROTECT, related_name="checkouts"
    )
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    amount_fen = models.PositiveBigIntegerField(_("order amount (fen)"))
    points_used = models.PositiveIntegerField(_("points used"))
    discount_fen = models.PositiveBigIntegerField(_("discount (fen)"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PAID
    )
    spend_tx = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="+")
    refund_tx = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("checkout")
        verbose_name_plural = _("checkouts")
        ordering = ["-created_at", "-id"]

    @property
    def amount_due_fen(self) -> int:
        return self.amount_fen - self.discount_fen


class Settlement(models.Model):
    """What one merchant took in points on one local day, and its money equivalent (final once made)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="settlements")
    day = models.DateField(_("day"))
    vouchers_consumed = models.PositiveIntegerField(_("vouchers consumed"), default=0)
    voucher_points = models.PositiveBigIntegerField(_("voucher points"), default=0)
    checkouts = models.PositiveIntegerField(_("checkouts"), default=0)
    checkout_points = models.PositiveBigIntegerField(_("checkout points"), default=0)
    checkout_discount_fen = models.PositiveBigIntegerField(_("checkout discounts (fen)"), default=0)
    points_total = models.PositiveBigIntegerField(_("points in total"), default=0)
    amount_fen = models.PositiveBigIntegerField(_("amount owed (fen)"), default=0)
    ledger_tx = models.OneToOneField(
        LedgerTransaction,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("ledger transaction"),
        help_text=_(
            "Moves the settled points from the merchant's accounts to its settled account."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-day", "merchant_id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "day"], name="settlement_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.merchant} {self.day}"


class SettlementLine(models.Model):
    """One payment a statement settles: a consumed voucher's or a checkout's spend transaction,
    with the money owed for it at the published rate in force for its points."""

    class Kind(models.TextChoices):
        VOUCHER = "voucher", _("voucher consumed")
        CHECKOUT = "checkout", _("checkout")

    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    spend_tx = models.OneToOneField(
        LedgerTransaction,
        on_delete=models.PROTECT,
        related_name="settlement_line",
        verbose_name=_("spend transaction"),
        help_text=_("A payment is settled once."),
    )
    reference = models.CharField(_("reference"), max_length=64)
    occurred_at = models.DateTimeField(_("occurred at"))
    points = models.PositiveBigIntegerField(_("points"))
    rate_yuan_per_point = models.DecimalField(
        _("rate (yuan per point)"), max_digits=12, decimal_places=6
    )
    rate_source = models.CharField(_("rate published by"), max_length=120)
    amount_fen = models.PositiveBigIntegerField(_("amount owed (fen)"))

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.settlement} {self.reference}"


class UnitBlock(models.Model):
    """A contiguous range of serial-numbered reduction units (one gram each) of one pool.

    Serials count from 1 per (methodology, vintage month) in the order grams were unitized.
    Available blocks together hold what the pool account holds; retiring part of a block splits
    it, so a serial is in exactly one block and is retired at most once.
    """

    methodology_code = models.CharField(_("methodology"), max_length=40)
    vintage = models.PositiveIntegerField(_("vintage (YYYYMM)"))
    serial_first = models.PositiveBigIntegerField(_("first serial"))
    serial_last = models.PositiveBigIntegerField(_("last serial"))
    certificate = models.ForeignKey(
        "OffsetCertificate", on_delete=models.PROTECT, null=True, blank=True, related_name="blocks"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("reduction unit block")
        verbose_name_plural = _("reduction unit blocks")
        ordering = ["vintage", "methodology_code", "serial_first"]
        constraints = [
            models.UniqueConstraint(
                fields=["methodology_code", "vintage", "serial_first"],
                name="unit_block_unique_first",
            ),
            models.UniqueConstraint(
                fields=["methodology_code", "vintage", "serial_last"], name="unit_block_unique_last"
            ),
            models.CheckConstraint(
                condition=Q(serial_last__gte=models.F("serial_first")), name="unit_block_ordered"
            ),
        ]

    @property
    def grams(self) -> int:
        return self.serial_last - self.serial_first + 1

    @property
    def vintage_label(self) -> str:
        return f"{self.vintage // 100:04d}-{self.vintage % 100:02d}"

    def serial(self, n: int) -> str:
        return f"CP-{self.methodology_code.upper()}-{self.vintage}-{n:012d}"

    def __str__(self) -> str:
        return f"{self.serial(self.serial_first)} … {self.serial(self.serial_last)}"


class OffsetCertificate(models.Model):
    """A merchant's retirement of pooled reductions for a stated purpose; public, verifiable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="certificates")
    grams = models.PositiveBigIntegerField(_("grams CO2e"))
    purpose = models.CharField(_("purpose"), max_length=255)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ledger_tx = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("retired at"), default=timezone.now)

    class Meta:
        verbose_name = _("offset certificate")
        verbose_name_plural = _("offset certificates")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.grams} g · {self.merchant}"


class IdempotentAnswer(models.Model):
    """The first answer (status and body) to a request carrying an Idempotency-Key, per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("idempotent answer")
        verbose_name_plural = _("idempotent answers")
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotent_answer_once")
        ]
