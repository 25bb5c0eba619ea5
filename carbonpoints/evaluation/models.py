"""Badges as data (operators add and tune them in the admin), who earned them, and leaderboard opt-ins."""

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import CarbonAccount


class Badge(models.Model):
    class Rule(models.TextChoices):
        STREAK = "streak", _("days in a row with a credited action")
        VARIETY = "variety", _("kinds of action credited in one calendar month")
        MILESTONE = "milestone", _("grams CO2e contributed in total")

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=40)
    rule = models.CharField(_("rule"), max_length=10, choices=Rule.choices)
    threshold = models.PositiveBigIntegerField(
        _("threshold"), help_text=_("Days, kinds of action or grams.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("badge")
        verbose_name_plural = _("badges")
        ordering = ["rule", "threshold"]

    def __str__(self) -> str:
        return f"{self.name_zh_hans} / {self.name_en}"

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" else self.name_zh_hans


class BadgeAward(models.Model):
    account = models.ForeignKey(CarbonAccount, on_delete=models.CASCADE, related_name="badges")
    badge = models.ForeignKey(Badge, on_delete=models.PROTECT, related_name="awards")
    awarded_at = models.DateTimeField(_("awarded at"), default=timezone.now)

    class Meta:
        verbose_name = _("badge awarded")
        verbose_name_plural = _("badges awarded")
        constraints = [
            models.UniqueConstraint(fields=["account", "badge"], name="badge_once_per_citizen")
        ]


class LeaderboardEntry(models.Model):
    """A citizen who chose to appear on the city leaderboard, under a nickname of their choice."""

    account = models.OneToOneField(
        CarbonAccount, on_delete=models.CASCADE, primary_key=True, related_name="leaderboard_entry"
    )
    nickname = models.CharField(_("nickname"), max_length=30)
    opted_in_at = models.DateTimeField(_("opted in at"), default=timezone.now)

    class Meta:
        verbose_name = _("leaderboard entry")
        verbose_name_plural = _("leaderboard entries")
        constraints = [  # one citizen per nickname, whatever its case: a leaderboard names people
            models.UniqueConstraint(Lower("nickname"), name="leaderboard_nickname_unique"),
        ]
