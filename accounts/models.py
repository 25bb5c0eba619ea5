"""People (citizens, merchant staff, operators) and each citizen's carbon account."""

from django.contrib.auth.models import AbstractUser, BaseUserManager
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


class IdentityLink(models.Model):
    """A citizen's member id at a partner, linked with consent (PIPL: kept with time and scope).

    ``partner_id`` names the partner of the earn side without a foreign key, so that accounts
    (below the earn side in the flow of data) needs nothing above it. Revoking keeps the row
    (the consent history) and stops future crediting.
    """

    account = models.ForeignKey(
        CarbonAccount, on_delete=models.PROTECT, related_name="links", verbose_name=_("carbon account")
    )
    partner_id = models.BigIntegerField(_("partner id"))
    subject = models.CharField(_("member id at the partner"), max_length=128)
    consent_scope = models.JSONField(
        _("consent scope"), default=dict, help_text=_("The partner and the action types consented to.")
    )
    consent_wording = models.TextField(_("consent wording shown"))
    consented_at = models.DateTimeField(_("consented at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner link")
        verbose_name_plural = _("partner links")
        constraints = [
            models.UniqueConstraint(
                fields=["partner_id", "subject"], condition=models.Q(revoked_at__isnull=True),
                name="identity_link_one_active_per_subject",
            ),
        ]
        indexes = [models.Index(fields=["partner_id", "subject"], name="identity_link_subject_idx")]

    def __str__(self) -> str:
        return f"{self.account} ↔ partner {self.partner_id}: {self.subject}"

    @property
    def consented_actions(self) -> list[str]:
        return list(self.consent_scope.get("actions", []))
