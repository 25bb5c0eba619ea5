"""Refusals of the evaluation side (``carbonpoints.errors``)."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Conflict


class NicknameTaken(Conflict):
    code = "nickname_taken"
    message = _("Another citizen appears under this nickname: choose another.")
