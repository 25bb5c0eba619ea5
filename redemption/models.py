"""Merchants and their staff (scenarios, vouchers and offsets join them later)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending approval")
        APPROVED = "approved", _("approved")
        SUSPENDED = "suspended", _("suspended")

    name = models.CharField(_("name"), max_length=120, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self) -> str:
        return self.name


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
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("merchant staff member")
        verbose_name_plural = _("merchant staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.merchant})"
