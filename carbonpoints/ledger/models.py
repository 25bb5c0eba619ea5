"""The append-only, double-entry ledger in two units: grams CO2e and points.

The ledger sits at the bottom of the platform and knows nothing of who posts to it: accounts are
named by a ``kind`` (chosen by the caller, e.g. ``citizen_points``) and the id of their owner in
the caller's own table. ``services.transaction_post`` is the only writer.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    GRAMS = "g", _("grams CO2e")
    POINTS = "pt", _("points")


PLATFORM = 0
"""``owner_id`` of accounts that belong to the platform itself (issuance, pool, sinks...)."""


class LedgerAccount(models.Model):
    kind = models.SlugField(_("kind"), max_length=40, db_index=False)  # led by the unique index
    owner_id = models.BigIntegerField(_("owner id"), default=PLATFORM)
    unit = models.CharField(_("unit"), max_length=2, choices=Unit.choices)
    allow_negative = models.BooleanField(
        _("may go negative"),
        default=False,
        help_text=_("Only sources such as issuance may; every citizen and merchant account never."),
    )
    balance = models.BigIntegerField(
        _("balance"), default=0, help_text=_("Running balance, kept by the posting service.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "owner_id", "unit"], name="ledger_account_unique"
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0) | Q(allow_negative=True),
                name="ledger_account_no_overdraft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}#{self.owner_id} ({self.unit})"


class LedgerTransaction(models.Model):
    kind = models.SlugField(
        _("kind"), max_length=40, db_index=False
    )  # plain index in Meta (no LIKE twin)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=200, unique=True, null=True, blank=True
    )
    fingerprint = models.CharField(
        _("request fingerprint"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("Hash of the legs, so a key reused for a different transaction is refused."),
    )
    reference = models.CharField(
        _("reference"),
        max_length=200,
        blank=True,
        db_index=False,  # plain index in Meta
        help_text=_("What the transaction is about, e.g. action:123 or redemption:45."),
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    replayed = False
    """Not a column: True on a transaction a posting service answered from its idempotency key
    (posted before) rather than wrote, so a caller can tell a replay from a new posting."""

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        indexes = [
            models.Index(fields=["kind"], name="ledger_tx_kind_idx"),
            models.Index(fields=["reference"], name="ledger_tx_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Posting(models.Model):
    """One leg of a transaction: ``amount`` moves into (positive) or out of (negative) ``account``."""

    # No per-row foreign-key constraints: PostgreSQL checked each posting's two references one by
    # one at commit, which cost more than the insert itself. A statement-level trigger checks all
    # of a statement's references at once, and accounts and transactions can never be deleted
    # (migration ledger 0005), so the guarantee is the same.
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="postings", db_constraint=False
    )
    # indexed by posting_account_recent_idx (account, -id), which every account query can use
    account = models.ForeignKey(
        LedgerAccount,
        on_delete=models.PROTECT,
        related_name="postings",
        db_index=False,
        db_constraint=False,
    )
    unit = models.CharField(_("unit"), max_length=2, choices=Unit.choices)
    amount = models.BigIntegerField(_("amount"))
    balance_after = models.BigIntegerField(_("balance after"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_nonzero"),
        ]
        indexes = [models.Index(fields=["account", "-id"], name="posting_account_recent_idx")]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.unit} → {self.account}"


class LedgerCheckRun(models.Model):
    """The outcome of one re-derivation of every balance (``ledger_check``), kept for operators."""

    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    ok = models.BooleanField(_("ok"), default=False)
    accounts_checked = models.PositiveIntegerField(_("accounts checked"), default=0)
    transactions_checked = models.PositiveIntegerField(_("transactions checked"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    figures = models.JSONField(
        _("figures"),
        default=dict,
        blank=True,
        help_text=_("What the apps' own proofs found, e.g. each region's points."),
    )

    class Meta:
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"
