"""Partners, the records they send and what became of each: the earn side's data.

One ``ActionRecord`` per (partner, external_id), kept as sent; its ``state`` says what is left
to do, so the pipeline resumes from the database after a crash: received → quantified →
verified → credited, or held as unlinked, rejected, flagged for review, expired; a credited record
may later be reversed (by an operator, or retracted by its partner).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import CarbonAccount
from carbonpoints.approvals import FourEyes
from carbonpoints.methodologies.models import ConversionRule, Methodology
from carbonpoints.regions.codes import default as default_region


class Partner(FourEyes):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft (waiting for approval)")
        ACTIVE = "active", _("in force")
        DISABLED = "disabled", _("retired (disabled)")

    name = models.CharField(_("name"), max_length=120, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    actions = models.JSONField(
        _("approved action types"), default=list, help_text=_('Action codes, e.g. ["metro_ride"].')
    )
    regions = models.ManyToManyField(
        "regions.Region",
        blank=True,
        related_name="partners",
        verbose_name=_("approved regions"),
        help_text=_("Where its events may happen; none: the deployment's default region."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class PartnerKey(models.Model):
    """A key id and its HMAC secret, encrypted at rest; rotation lets the old key overlap."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="keys")
    key_id = models.CharField(_("key id"), max_length=40, unique=True)
    secret_encrypted = models.TextField(_("secret (encrypted)"), editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_("Set when the key is rotated: it keeps working until then."),
    )

    class Meta:
        verbose_name = _("partner key")
        verbose_name_plural = _("partner keys")

    def __str__(self) -> str:
        return self.key_id

    def usable(self, now) -> bool:
        return self.expires_at is None or now < self.expires_at


class Batch(models.Model):
    """One request of events (or one bulk upload): the unit the pipeline works on."""

    class Source(models.TextChoices):
        API = "api", _("API request")
        UPLOAD = "upload", _("bulk upload")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="batches")
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.API
    )
    received = models.PositiveIntegerField(_("events received"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected at intake"), default=0)
    rejections = models.JSONField(
        _("intake rejections"),
        default=list,
        blank=True,
        help_text=_("The first rejected events: external id and code."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    pipeline_runs = models.PositiveIntegerField(_("pipeline runs"), default=0)
    last_run_at = models.DateTimeField(_("last pipeline run"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.partner} {self.created_at:%Y-%m-%d %H:%M} ({self.received})"


class ActionState(models.TextChoices):
    RECEIVED = "received", _("received")
    QUANTIFIED = "quantified", _("quantified")
    VERIFIED = "verified", _("verified")
    CREDITED = "credited", _("credited")
    UNLINKED = "unlinked", _("held: citizen not linked")
    REJECTED = "rejected", _("rejected")
    FLAGGED = "flagged", _("flagged for review")
    EXPIRED = "expired", _("expired unlinked")
    REVERSED = "reversed", _("reversed")


PENDING_STATES = (ActionState.RECEIVED, ActionState.QUANTIFIED, ActionState.VERIFIED)
"""States with pipeline work left to do."""
COUNTED_STATES = (ActionState.VERIFIED, ActionState.CREDITED)
"""States whose counted quantity uses up the citizen's caps."""


class ActionRecord(models.Model):
    class Review(models.TextChoices):
        NONE = "", _("not reviewed")
        APPROVED = "approved", _("approved by an operator")
        REJECTED = "rejected", _("rejected by an operator")

    # No single-column indexes where a composite one leads with the column (see Meta): every index
    # is written on each insert and on each pipeline update, and these ones served no query.
    # References are checked a statement at a time by a trigger (migration 0005), not row by row.
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,
        db_constraint=False,
    )
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, related_name="records", db_index=False, db_constraint=False
    )
    external_id = models.CharField(_("external id"), max_length=128)
    subject = models.CharField(_("member id at the partner"), max_length=128)
    action = models.SlugField(_("action type"), max_length=40, db_index=False)
    quantity = models.DecimalField(_("quantity"), max_digits=20, decimal_places=6)
    unit = models.CharField(_("unit"), max_length=20)
    occurred_at = models.DateTimeField(_("occurred at"))
    ends_at = models.DateTimeField(
        _("ends at"), help_text=_("occurred_at plus duration_s when given.")
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    raw = models.TextField(_("as sent"))
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        default=default_region,
        related_name="+",
        verbose_name=_("region"),
        db_constraint=False,
        db_index=False,
        help_text=_("Where the action happened (GB/T 2260)."),
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    state = models.CharField(
        _("state"), max_length=12, choices=ActionState.choices, default=ActionState.RECEIVED
    )
    reason = models.CharField(_("reason code"), max_length=40, blank=True)
    capped = models.BooleanField(_("capped"), default=False)
    review = models.CharField(
        _("review"), max_length=10, choices=Review.choices, default="", blank=True
    )
    account = models.ForeignKey(
        CarbonAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("citizen account"),
        db_index=False,
        db_constraint=False,
    )
    methodology = models.ForeignKey(
        Methodology,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_constraint=False,
        db_index=False,
    )
    conversion_rule = models.ForeignKey(
        ConversionRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_constraint=False,
        db_index=False,
    )
    reduction_g = models.BigIntegerField(_("raw reduction (g)"), null=True, blank=True)
    counted_quantity = models.DecimalField(
        _("counted quantity"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    credited_g = models.BigIntegerField(_("credited (g)"), null=True, blank=True)
    points = models.BigIntegerField(_("points"), null=True, blank=True)
    points_available_at = models.DateTimeField(_("points available at"), null=True, blank=True)
    points_settled = models.BooleanField(_("points settled"), default=True)
    budget = models.ForeignKey(
        "budgets.Budget",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("funded by"),
        db_constraint=False,
        db_index=False,
        help_text=_(
            "The sponsor's budget the points were drawn on; empty while they wait for funding."
        ),
    )
    hold_until = models.DateTimeField(_("held until"), null=True, blank=True)
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    credited_at = models.DateTimeField(_("credited at"), null=True, blank=True)
    corrections = models.IntegerField(
        _("corrections"),
        default=0,
        db_default=0,
        help_text=_(
            "How often its quantity was corrected (each correction reverses it and credits it anew); "
            "numbers the idempotency keys of its reversal, new credit and funding."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("action record")
        verbose_name_plural = _("action records")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"], name="action_record_partner_external_id"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="action_record_quantity_positive"
            ),
        ]
        # Every pipeline update rewrites the row and adds an entry to each index whose predicate it
        # meets, so the indexes that serve one state are partial: a credited record, the common
        # end, is in the primary key, the partner's unique key, its batch and its citizen's only.
        indexes = [
            models.Index(fields=["batch"], name="action_batch_idx"),
            models.Index(
                fields=["id"], name="action_pending_idx", condition=Q(state__in=PENDING_STATES)
            ),
            models.Index(
                fields=["partner", "subject"],
                name="action_unlinked_subject_idx",
                condition=Q(state=ActionState.UNLINKED),
            ),
            models.Index(
                fields=["hold_until"],
                name="action_unlinked_hold_idx",
                condition=Q(state=ActionState.UNLINKED),
            ),
            models.Index(
                fields=["received_at"],
                name="action_flagged_idx",
                condition=Q(state=ActionState.FLAGGED),
            ),
            models.Index(
                fields=["account", "occurred_at", "id"],
                name="action_account_time_idx",
                condition=Q(account__isnull=False),
            ),
            models.Index(
                fields=["points_available_at"],
                name="action_settling_idx",
                condition=Q(points_settled=False),
            ),
            # the points a citizen is owed (their account page): only credits waiting for a budget enter it
            models.Index(
                fields=["account"],
                name="action_awaiting_funding_idx",
                condition=Q(points_settled=False, points_available_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.external_id} {self.action} ({self.state})"


class Upload(models.Model):
    """A bulk file (CSV or JSON Lines, maybe gzipped), ingested by a worker in chunks."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON Lines"

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        PROCESSING = "processing", _("processing")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="uploads")
    format = models.CharField(_("format"), max_length=5, choices=Format.choices)
    gzipped = models.BooleanField(_("gzipped"), default=False)
    content = models.BinaryField(_("content as sent"))
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    batch = models.OneToOneField(
        Batch, on_delete=models.PROTECT, null=True, blank=True, related_name="upload"
    )
    lines_total = models.PositiveIntegerField(_("lines"), null=True, blank=True)
    lines_done = models.PositiveIntegerField(_("lines done"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bulk upload")
        verbose_name_plural = _("bulk uploads")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.partner} {self.format} {self.created_at:%Y-%m-%d %H:%M}"


class CitizenCarry(models.Model):
    """Grams of a citizen's verified reduction not yet turned into a whole point.

    Negative after a reversal took back more points than the citizen had available: future
    credits pay those grams off before they earn points again (see ``earn.corrections``).
    """

    account = models.OneToOneField(
        CarbonAccount, on_delete=models.PROTECT, primary_key=True, related_name="earn_carry"
    )
    remainder_g = models.BigIntegerField(_("carried grams"), default=0)

    class Meta:
        verbose_name = _("carried remainder")
        verbose_name_plural = _("carried remainders")


class CapUsage(models.Model):
    """What a citizen counted of one action type on one local day, toward the caps.

    Caps read these counters instead of summing the citizen's history, and a batch adds to them
    with one upsert in the transaction that credits it. Counted in millionths of the unit
    (quantities have six decimal places), so the sums are exact integers on every database.
    """

    account = models.ForeignKey(
        CarbonAccount,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,  # checked a statement at a time (migration 0015), not a row at commit
    )
    action = models.SlugField(_("action type"), max_length=40, db_index=False)
    day = models.DateField(_("local day"))
    counted_micro = models.BigIntegerField(_("counted (millionths of the unit)"), default=0)

    class Meta:
        verbose_name = _("cap usage")
        verbose_name_plural = _("cap usage")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "action", "day"], name="cap_usage_per_citizen_action_day"
            ),
        ]


class ReviewDecision(models.Model):
    """The audit trail of operators' decisions on flagged records."""

    record = models.ForeignKey(ActionRecord, on_delete=models.PROTECT, related_name="decisions")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    decision = models.CharField(_("decision"), max_length=10, choices=ActionRecord.Review.choices)
    previous_state = models.CharField(_("state before"), max_length=12)
    reason = models.CharField(_("reason code before"), max_length=40, blank=True)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")
        ordering = ["-decided_at"]


class IdentityLink(models.Model):
    """A citizen's member id at a partner, linked with consent to some of the partner's scenes.

    ``scenes`` are the action codes the citizen consented to (every approved action of the
    partner when they chose "all"); the pipeline credits a record only when its action is among
    them. Revoking keeps the row and its consent history, and stops future crediting.
    """

    account = models.ForeignKey(
        CarbonAccount,
        on_delete=models.PROTECT,
        related_name="links",
        verbose_name=_("carbon account"),
    )
    # db_index=False: the (partner, subject) index below leads with the partner.
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        related_name="links",
        verbose_name=_("partner"),
        db_index=False,
    )
    subject = models.CharField(_("member id at the partner"), max_length=128)
    scenes = models.JSONField(
        _("scenes consented to"), default=list, help_text=_('Action codes, e.g. ["metro_ride"].')
    )
    consent_wording = models.TextField(_("consent wording shown"))
    consented_at = models.DateTimeField(_("consented at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner link")
        verbose_name_plural = _("partner links")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "subject"],
                condition=Q(revoked_at__isnull=True),
                name="earn_link_one_active_per_subject",
            ),
        ]
        indexes = [models.Index(fields=["partner", "subject"], name="earn_link_subject_idx")]

    def __str__(self) -> str:
        return f"{self.account} ↔ {self.partner_id}: {self.subject}"


class ConsentChange(models.Model):
    """One change of a link's consent, as PIPL asks: when, to which scenes, with what wording."""

    class Kind(models.TextChoices):
        GRANTED = "granted", _("granted")
        CHANGED = "changed", _("scenes changed")
        REVOKED = "revoked", _("revoked")

    link = models.ForeignKey(IdentityLink, on_delete=models.CASCADE, related_name="consent_history")
    kind = models.CharField(_("change"), max_length=10, choices=Kind.choices)
    scenes = models.JSONField(_("scenes consented to"), default=list)
    wording = models.TextField(_("wording shown"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")
        ordering = ["link", "at", "id"]
