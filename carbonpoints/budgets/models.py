"""Sponsors and their budgets: who funds the points citizens earn, and how much is left.

A budget's figures in points live in the ledger (``ledger_accounts``); these tables hold what the
ledger does not: who the sponsor is, the period, the scenes it funds, the money paid in (yuan, for
the published rate merchants are settled at) and the thresholds at which the platform warns and
throttles. Thresholds and the throttle are data an operator edits; the public register shows them.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbonpoints.regions.codes import default as default_region


class BudgetLevel(models.TextChoices):
    """How much of a budget is left: the one vocabulary of the rules, the alerts, the admin, the
    dashboard, open data and the docs (the label is the value in words)."""

    FUNDED = "funded", _("funded")
    RUNNING_LOW = "running_low", _("running low")
    THROTTLED = "throttled", _("throttled")
    EXHAUSTED = "exhausted", _("exhausted")

    @property
    def legacy_code(self) -> str:
        """The level's code from before the vocabulary was one: open data's ``level`` field keeps
        it (``ok``, ``warn``, ``throttle``, ``exhausted``) for the consumers that read it."""
        return _LEGACY_CODES[self]


_LEGACY_CODES = {
    BudgetLevel.FUNDED: "ok",
    BudgetLevel.RUNNING_LOW: "warn",
    BudgetLevel.THROTTLED: "throttle",
    BudgetLevel.EXHAUSTED: "exhausted",
}


class Sponsor(models.Model):
    class Kind(models.TextChoices):
        CITY = "city", _("city government")
        COMPANY = "company", _("company")
        FOUNDATION = "foundation", _("foundation")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CITY)
    website = models.URLField(_("website"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sponsor")
        verbose_name_plural = _("sponsors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Budget(models.Model):
    class Throttle(models.TextChoices):
        SCALE = "scale", _("scale points down by the published factor")
        PENDING = "pending", _("new credits wait as pending until funded")

    sponsor = models.ForeignKey(
        Sponsor, on_delete=models.PROTECT, related_name="budgets", verbose_name=_("sponsor")
    )
    name = models.CharField(_("name"), max_length=120)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        default=default_region,
        blank=True,
        related_name="budgets",
        verbose_name=_("region"),
        help_text=_(
            "Funds actions that happen there; a province's budget funds what no city's budget covers."
        ),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    actions = models.JSONField(
        _("scenes funded"),
        default=list,
        blank=True,
        help_text=_(
            'Action type codes this budget funds, e.g. ["bike_ride"]; empty: every scene. '
            "A budget for named scenes funds them before a budget for every scene."
        ),
    )
    warn_below_percent = models.PositiveSmallIntegerField(
        _("warn below (percent left)"),
        default=20,
        validators=[MaxValueValidator(100)],
        help_text=_(
            "Operators are warned once less than this share of the deposited points is left."
        ),
    )
    throttle_below_percent = models.PositiveSmallIntegerField(
        _("throttle below (percent left)"),
        default=10,
        validators=[MaxValueValidator(100)],
        help_text=_("Below this share the throttle applies to new credits."),
    )
    throttle = models.CharField(
        _("throttle"), max_length=10, choices=Throttle.choices, default=Throttle.SCALE
    )
    throttle_factor = models.DecimalField(
        _("throttle factor"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal(1))],
        help_text=_(
            "Published: while throttled, a credit earns this share of its points (scale throttle)."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["-starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="budget_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(throttle_below_percent__lte=F("warn_below_percent")),
                name="budget_throttle_below_warning",
            ),
            models.CheckConstraint(
                condition=Q(throttle_factor__gt=0, throttle_factor__lte=1),
                name="budget_throttle_factor_share",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sponsor} · {self.name}"

    def clean(self) -> None:
        self.region_id = self.region_id or default_region()  # a region left empty: the default one


class Deposit(models.Model):
    """Money and points a sponsor paid into a budget; the points are posted to the ledger."""

    budget = models.ForeignKey(
        Budget, on_delete=models.PROTECT, related_name="deposits", verbose_name=_("budget")
    )
    points = models.PositiveBigIntegerField(_("points"), validators=[MinValueValidator(1)])
    yuan_fen = models.PositiveBigIntegerField(
        _("money paid (fen)"), help_text=_("In fen (0.01 CNY): 1,000,000 fen is 10,000 CNY.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("made by"),
    )
    ledger_transaction = models.OneToOneField(
        "ledger.LedgerTransaction",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("ledger transaction"),
    )
    created_at = models.DateTimeField(_("made at"), default=timezone.now)

    class Meta:
        verbose_name = _("deposit")
        verbose_name_plural = _("deposits")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="deposit_points_positive")
        ]

    def __str__(self) -> str:
        return f"{self.budget}: {self.points} pt"


class Reading(models.Model):
    """A budget's balance at a moment (taken hourly and at each deposit): the forecast's data."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="readings")
    taken_at = models.DateTimeField(default=timezone.now)
    balance = models.BigIntegerField()
    deposited = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["budget", "taken_at"], name="budget_reading_idx")]


class Alert(models.Model):
    """A budget crossed a threshold: raised once per level, shown to operators and e-mailed."""

    budget = models.ForeignKey(
        Budget, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("budget")
    )
    level = models.CharField(_("level"), max_length=11, choices=BudgetLevel.choices)
    balance = models.BigIntegerField(_("points left"))
    deposited = models.BigIntegerField(_("points deposited"))
    runs_out_at = models.DateTimeField(_("forecast to run out"), null=True, blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)

    class Meta:
        verbose_name = _("budget alert")
        verbose_name_plural = _("budget alerts")
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.budget}: {self.get_level_display()}"
