"""People (citizens, merchant staff, operators) and each citizen's carbon account."""

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("citizen")
    MERCHANT_STAFF = "merchant_staff", _("merchant staff")
    OPERATOR = "operator", _("operator")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("role", Role.OPERATOR)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """Everyone signs in with an e-mail address; ``role`` says which side of the platform they use."""

    username = None  # type: ignore[assignment]  # e-mail sign-in: no user name
    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CITIZEN)
    regions = models.ManyToManyField(
        "regions.Region",
        blank=True,
        related_name="operators",
        verbose_name=_("operator's regions"),
        help_text=_(
            "An operator sees and acts on these regions (and the cities in them) only; none: every "
            "region (a provincial operator)."
        ),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    objects = UserManager()  # type: ignore[misc,assignment]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email


class CarbonAccount(models.Model):
    """A citizen's personal carbon account: their balances live in the ledger, under this id."""

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="carbon_account", verbose_name=_("citizen")
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    home_region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("home region"),
        help_text=_(
            "The leaderboard the citizen appears on and their catalogue's default; empty: the "
            "deployment's default region."
        ),
    )

    class Meta:
        verbose_name = _("carbon account")
        verbose_name_plural = _("carbon accounts")

    def __str__(self) -> str:
        return f"{self.user} #{self.pk}"


class CitizenRank(models.Model):
    """Each citizen's position by grams contributed, recomputed periodically for the whole city.

    Counting everyone above a citizen on every account view would cost a scan of all citizens;
    a snapshot makes the read one row, at the price of being a few minutes old.
    """

    account = models.OneToOneField(
        CarbonAccount, on_delete=models.CASCADE, primary_key=True, related_name="rank"
    )
    position = models.PositiveIntegerField(_("position"))
    of_total = models.PositiveIntegerField(_("citizens ranked"))
    ahead_of_percent = models.PositiveSmallIntegerField(_("ahead of (%)"))
    reduction_g = models.BigIntegerField(_("grams contributed when ranked"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("citizen rank")
        verbose_name_plural = _("citizen ranks")


class Level(models.Model):
    """A level of the carbon-account evaluation (碳账户评价), reached by trailing-12-month verified
    reduction. Operators edit the thresholds and names in the admin; the lowest must be 0 g."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=40)
    min_trailing_g = models.BigIntegerField(
        _("from (g CO2e in the last 12 months)"),
        unique=True,
        help_text=_(
            "Verified reduction credited over the trailing 12 months needed for this level."
        ),
    )

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        ordering = ["min_trailing_g"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_trailing_g__gte=0), name="level_threshold_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name_zh_hans} / {self.name_en} ({self.min_trailing_g} g)"


class CitizenStanding(models.Model):
    """Each citizen's trailing-12-month verified reduction, recomputed periodically for everyone
    (the level is read from it against the thresholds in force), and when a level was last reached."""

    account = models.OneToOneField(
        CarbonAccount, on_delete=models.CASCADE, primary_key=True, related_name="standing"
    )
    trailing_g = models.BigIntegerField(_("g CO2e in the last 12 months"))
    level_reached_at = models.DateTimeField(
        _("level reached at"), null=True, blank=True, db_index=True
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("citizen standing")
        verbose_name_plural = _("citizen standings")


class Accrual(models.Model):
    """What a citizen was credited and the ledger has not posted to their accounts yet.

    A batch's credit posts the citizens' side to one platform account per unit
    (``ledger_accounts.ACCRUED``) and adds each citizen's share here, in the same transaction; a
    frequent job (``services.accruals_post``) moves many rows to the citizens' own accounts and
    deletes them. What a citizen holds is their ledger balance plus this row; every path that
    spends, reverses, settles or expires a balance posts the row first (``services.accrual_post``).
    ``ledger_check`` proves each accrual account holds the sum of the rows."""

    id = models.BigAutoField(primary_key=True)
    owner_id = models.BigIntegerField(_("carbon account"), unique=True)
    reduction_g = models.BigIntegerField(_("grams contributed"), default=0)
    points = models.BigIntegerField(_("points available"), default=0)
    points_pending = models.BigIntegerField(_("points pending"), default=0)
    action_ids = ArrayField(models.BigIntegerField(), verbose_name=_("actions"), default=list)
    """The actions credited into the row: the posting's transaction names them, so a citizen's
    points line still traces back to its actions."""

    class Meta:
        verbose_name = _("unposted accrual")
        verbose_name_plural = _("unposted accruals")

    def __str__(self) -> str:
        return f"accrual of #{self.owner_id}"
