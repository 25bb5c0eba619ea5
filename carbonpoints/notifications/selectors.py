"""Reads of the inbox, and each notification's text in the reader's language."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Level
from accounts.selectors import level_name
from carbonpoints.units import mass

from .models import Notification


def citizen_notifications(*, account_id: int, unread: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(account_id=account_id)
    if unread:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-id")


def unread_count(*, account_id: int) -> int:
    return Notification.objects.filter(account_id=account_id, read_at__isnull=True).count()


def notification_text(notification: Notification) -> str:
    """What happened, in words, with its figures: written when read, so it follows the reader's language."""
    n, K = notification.count, Notification.Kind
    figures = {
        "n": n,
        "g": mass(notification.grams or 0),
        "p": notification.points or 0,
        **notification.data,
    }
    if notification.kind == K.LEVEL_REACHED:
        level = Level.objects.filter(code=figures.get("level")).first()
        figures["level"] = level_name(level) if level else figures.get("level", "")
    texts: dict[str, str] = {
        K.CREDITED: ngettext(
            "%(n)s action credited: %(g)s CO2e, %(p)s points.",
            "%(n)s actions credited: %(g)s CO2e, %(p)s points.",
            n,
        ),
        K.CAPPED: ngettext(
            "%(n)s action counted up to a cap: %(g)s CO2e, %(p)s points.",
            "%(n)s actions counted up to a cap: %(g)s CO2e, %(p)s points.",
            n,
        ),
        K.REJECTED: ngettext(
            "%(n)s action was not credited: see why in your history.",
            "%(n)s actions were not credited: see why in your history.",
            n,
        ),
        K.FLAGGED: ngettext(
            "%(n)s action is waiting for a review by an operator.",
            "%(n)s actions are waiting for a review by an operator.",
            n,
        ),
        K.RELEASED: ngettext(
            "Thanks to your link, %(n)s held action was credited: %(g)s CO2e, %(p)s points.",
            "Thanks to your link, %(n)s held actions were credited: %(g)s CO2e, %(p)s points.",
            n,
        ),
        K.VOUCHER_EXPIRING: ngettext(
            "%(n)s voucher expires within 3 days: use it soon.",
            "%(n)s vouchers expire within 3 days: use them soon.",
            n,
        ),
        K.LEVEL_REACHED: _("You reached the level %(level)s."),
        K.BADGE_REACHED: ngettext("You earned %(n)s new badge.", "You earned %(n)s new badges.", n),
        K.EXPORT_READY: _("Your data export is ready to download."),
        K.POINTS_EXPIRING: ngettext(
            "%(p)s point expires on %(date)s unless you use it or earn more before.",
            "%(p)s points expire on %(date)s unless you use them or earn more before.",
            notification.points or 0,
        ),
        K.POINTS_EXPIRED: ngettext(
            "%(p)s point expired: it was not used for %(months)s months.",
            "%(p)s points expired: they were not used for %(months)s months.",
            notification.points or 0,
        ),
    }
    template = texts.get(notification.kind, notification.kind)
    try:
        return template % figures
    except (KeyError, TypeError, ValueError):
        return str(template)
