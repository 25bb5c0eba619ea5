"""Refusals of the evaluation side (``carbonpoints.errors``)."""

from django.utils.translation import gettext_lazy as _

from carbonpoints.errors import Conflict
from carbonpoints.evaluation.error_codes import EvaluationErrorCode


class NicknameTaken(Conflict):
    code = EvaluationErrorCode.NICKNAME_TAKEN
    message = _("Another citizen appears under this nickname: choose another.")
