"""Methodologies (how an action becomes grams CO2e) and conversion rules (grams into points).

Both are versioned data with validity dates: a new version starts where the old one ends and
never rewrites history, since an action is quantified by the version in force at its
``occurred_at``. Caps and plausibility limits are data on the methodology version too.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbonpoints.approvals import FourEyes
from carbonpoints.regions.codes import default as default_region

FACTOR: dict[str, Any] = {"max_digits": 16, "decimal_places": 6}


FROZEN_FIELDS = (
    "code",
    "version",
    "unit",
    "baseline_g_per_unit",
    "project_g_per_unit",
    "max_quantity_per_record",
    "fixed_quantity",
    "max_speed_kmh",
    "daily_cap",
    "monthly_cap",
    "valid_from",
    "self_reported_factor",
)
"""What an approved version never changes (only its end of validity, title and source wording may);
a draft is edited freely."""


class Methodology(FourEyes):
    """One version of how an action type becomes grams.

    A version moves draft → approved (scheduled, shown publicly as coming for the notice
    period) → in force (from its ``valid_from``) → retired; only versions in force (or retired,
    for the window they were in force) quantify actions, and an operator other than the one who
    wrote a version approves it (``carbonpoints.methodologies.services``).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        APPROVED = "approved", _("approved (coming)")
        IN_FORCE = "in_force", _("in force")
        RETIRED = "retired", _("retired")

    CREDITING = (Status.APPROVED, Status.IN_FORCE, Status.RETIRED)
    """Statuses whose validity window quantifies actions (approved: once its start has come)."""

    class Basis(models.TextChoices):
        PUBLISHED = "published", _("published")
        ESTIMATE = "estimate", _("estimate")
        MIXED = "mixed", _("mixed (published and estimate)")

    code = models.SlugField(_("action code"), max_length=40)
    version = models.PositiveIntegerField(_("version"))
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        default=default_region,
        blank=True,
        related_name="methodologies",
        verbose_name=_("region"),
        help_text=_(
            "Where it quantifies actions: a province's version holds in every city without one of its own."
        ),
    )
    title = models.CharField(_("title"), max_length=120)
    unit = models.CharField(_("unit"), max_length=20, help_text=_("e.g. km, steps, kWh"))
    baseline_g_per_unit = models.DecimalField(_("baseline g CO2e per unit"), **FACTOR)
    project_g_per_unit = models.DecimalField(_("project g CO2e per unit"), **FACTOR)
    basis = models.CharField(_("basis"), max_length=12, choices=Basis.choices)
    source = models.TextField(_("source"), help_text=_("Where the factors come from, cited."))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    # plausibility limits and caps (quantity in the methodology's unit); empty = no limit
    max_quantity_per_record = models.DecimalField(
        _("max quantity per record"), null=True, blank=True, **FACTOR
    )
    fixed_quantity = models.DecimalField(
        _("fixed quantity per record"),
        null=True,
        blank=True,
        **FACTOR,
        help_text=_("When set, every record must carry exactly this quantity (e.g. 1 receipt)."),
    )
    max_speed_kmh = models.DecimalField(
        _("max implied speed (km/h)"),
        null=True,
        blank=True,
        **FACTOR,
        help_text=_("Checked when the record's attributes give duration_s."),
    )
    daily_cap = models.DecimalField(_("daily cap per citizen"), null=True, blank=True, **FACTOR)
    monthly_cap = models.DecimalField(_("monthly cap per citizen"), null=True, blank=True, **FACTOR)
    self_reported_factor = models.DecimalField(
        _("self-reported rate"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_(
            "Share of the reduction a self-reported action earns (e.g. 0.5); empty: this scene "
            "accepts no self-reports."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("methodology version")
        verbose_name_plural = _("methodology versions")
        ordering = ["code", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"], name="methodology_code_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="methodology_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def net_g_per_unit(self):
        return self.baseline_g_per_unit - self.project_g_per_unit

    def in_force(self, at) -> bool:
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)

    def clean(self):
        self.region_id = self.region_id or default_region()  # a region left empty: the default one
        if self.pk:
            stored = (
                Methodology.objects.filter(pk=self.pk)
                .exclude(status=self.Status.DRAFT)
                .values(*FROZEN_FIELDS)
                .first()
            )
            if stored and any(stored[name] != getattr(self, name) for name in FROZEN_FIELDS):
                raise ValidationError(
                    _(
                        "A saved version keeps its factors, unit and limits, since actions were quantified "
                        "by it: save a new version instead (with a later 'valid from')."
                    )
                )
        if self.status == self.Status.DRAFT:
            return  # a draft may overlap: approval ends the version it replaces
        overlapping = Methodology.objects.filter(
            code=self.code, region_id=self.region_id, status__in=self.CREDITING
        ).exclude(pk=self.pk)
        if self.valid_until:
            overlapping = overlapping.filter(valid_from__lt=self.valid_until)
        overlapping = overlapping.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=self.valid_from)
        )
        if overlapping.exists():
            raise ValidationError(
                _(
                    "Versions of one methodology may not overlap; end the version in force first "
                    "(set its 'valid until' to this version's 'valid from')."
                )
            )


class ConversionRule(models.Model):
    """How many grams of verified reduction earn one point, in force between two dates."""

    grams_per_point = models.PositiveIntegerField(_("grams per point"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("conversion rule")
        verbose_name_plural = _("conversion rules")
        ordering = ["valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(grams_per_point__gt=0), name="conversion_rule_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"1 pt / {self.grams_per_point} g from {self.valid_from:%Y-%m-%d}"

    def in_force(self, at) -> bool:
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)
