"""Regions: the province and its cities, coded by the administrative division codes of GB/T 2260.

A region is data, not code: partners, methodology versions, budgets, merchants and citizens name
one. The code is the primary key, so a row's ``region_id`` is the six-digit code partners send
and the API shows. The codes are hierarchical by construction (``420100`` 武汉市 lies in
``420000`` 湖北省), so where an action happened gives its chain of regions without a query
(``codes.chain``); ``parent`` keeps the same tree as data, for the admin and the pickers.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import codes


class Region(models.Model):
    code = models.CharField(
        _("GB/T 2260 code"),
        max_length=6,
        primary_key=True,
        help_text=_("Six digits, e.g. 420000 湖北省, 420100 武汉市."),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=60)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        """The name in the language of the request."""
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def is_province(self) -> bool:
        return codes.parent_of(self.code) is None

    def clean(self) -> None:
        if not codes.valid(self.code):
            raise ValidationError({"code": _("A GB/T 2260 code is six digits.")})
        if (self.parent_id or None) != codes.parent_of(self.code):
            raise ValidationError(
                {
                    "parent": _("The parent is the region the code lies in: %(parent)s.")
                    % {"parent": codes.parent_of(self.code) or "-"}
                }
            )
